"""`distill scorers fit`: fine-tune an encoder on EPITOME-format labels into an `EpitomeClassifier` folder.

One encoder with a 3-level head per mechanism (multi-task): one forward pass rates all three mechanisms, so fitting
and scoring cost a third of one model per mechanism. The pair input is (seeker post, response). A seeded split holds
out `holdout_fraction` of the pairs (a pair the data repeats word for word falls on one side only); the held-out
figures after each epoch go to `metrics.json`, and the epoch with the best mean macro-F1 there is the one saved.
Class weights counter the rare levels (interpretations' weak level is ~4%).

As in the EPITOME paper, the human rationales (the spans of the response that carry the mechanism) are an auxiliary
task: a linear tagger over the encoder's last hidden states learns which response tokens lie inside them, so the
encoder learns where empathy is said and not only whether. On fold 4 (BENCHMARKS.md) it raised emotional reactions'
macro-F1 0.701 -> 0.719 and explorations' 0.655 -> 0.681; the tagger is dropped when the model is saved.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from distill.atomic import atomic_write_json, atomic_write_text
from distill.config import format_validation_error, parse_override
from distill.epitome import LEVELS, MECHANISMS
from distill.epitome.agreement import agreement, agreement_intervals, same_levels_share
from distill.epitome.classifier import (
    INT8_MIN_SAME_LEVELS,
    META_FILE,
    head_labels,
    int8_garbles,
    native_bf16,
    resolve_device,
)
from distill.epitome.data import EpitomeSet, read_epitome, split_indices, write_trained_pairs
from distill.epitome.decoding import prior_offsets, training_prior
from distill.errors import ConfigError, OutputError

log = logging.getLogger(__name__)
Progress = Callable[[int, int, float], None]  # (steps done, steps total, running loss)


class FitConfig(BaseModel):
    """The `key=value` settings of `distill scorers fit`; saved in the model folder's epitome.json."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mechanisms: tuple[Literal["emotional_reactions", "interpretations", "explorations"], ...] = MECHANISMS
    epochs: int = Field(8, ge=1, le=100, description="4 left the held-out figures still rising (BENCHMARKS.md)")
    lr: float = Field(1e-4, gt=0, lt=1)
    batch_size: int = Field(16, ge=1)
    max_length: int = Field(
        256,
        ge=16,
        le=4096,
        description="tokens of seeker + response, the longer one cut first; 256 keeps 95% of EPITOME pairs whole, "
        "128 cut 24% and scored lower, 384 raised interpretations but lowered the other two (BENCHMARKS.md)",
    )
    weight_decay: float = Field(0.01, ge=0)
    warmup_fraction: float = Field(0.1, ge=0, lt=1)
    class_weights: Literal["none", "balanced", "sqrt"] = Field(
        "sqrt", description="per-level loss weights from the training counts"
    )
    holdout_fraction: float = Field(
        0.1, ge=0.0, lt=0.9, description="pairs held out for metrics.json and epoch selection"
    )
    rationale_weight: float = Field(
        1.0,
        ge=0,
        description="weight of the auxiliary loss that tags the response tokens inside the human rationales (0: off)",
    )
    level_offsets: Literal["prior", "none"] = Field(
        "prior",
        description="prior: logit offsets fitted on the held-out split's scores so rare levels are predicted about "
        "as often as they occur in training (distill.epitome.decoding); none: plain argmax",
    )
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="bf16 autocast (fp32 master weights); auto: where the device does bf16 in hardware (1.9x faster "
        "on an AVX512-BF16 CPU, BENCHMARKS.md)",
    )
    threads: int | None = Field(None, ge=1, description="torch CPU threads; default: torch's own")


def fit_config(overrides: list[str] | None) -> FitConfig:
    values: dict[str, Any] = {}
    for text in overrides or []:
        key, value = parse_override(text)
        values[key] = value
    try:
        return FitConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, "distill scorers fit")) from None


def resolve_base(base: str) -> Path:
    """'minilm' -> the bundled all-MiniLM-L6-v2; anything else must be a local encoder folder (no hub downloads)."""
    if base == "minilm":
        from distill.embedded import minilm_dir

        return minilm_dir("--base minilm")
    path = Path(base)
    if not (path / "config.json").is_file():
        raise ConfigError(
            f"--base {base!r}: not a local model folder with a config.json ('minilm' is the bundled encoder)"
        )
    return path


def _class_weights(labels: list[int], mode: str) -> list[float]:
    counts = [max(1, sum(1 for v in labels if v == level)) for level in LEVELS]
    if mode == "none":
        return [1.0] * len(LEVELS)
    total = sum(counts)
    weights = [total / (len(LEVELS) * c) for c in counts]
    return [w**0.5 for w in weights] if mode == "sqrt" else weights


def _length_grouped_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar-length pairs: sort within windows of 50 batches, so padding stays small but the
    order still changes every epoch."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * 50
    batches = []
    for start in range(0, len(order), window):
        part = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def rationale_mask(response: str, rationale: str) -> list[bool] | None:
    """Which characters of `response` lie inside the rationale spans ('|'-separated substrings, as EPITOME writes
    them); None when no span is found in it (a judge's free-text rationale, say), so the pair teaches no tagging."""
    mask = [False] * len(response)
    found = False
    lowered = response.lower()
    for span in (s.strip() for s in rationale.split("|")):
        if len(span) < 2:
            continue
        start = response.find(span)
        if start < 0:
            start = lowered.find(span.lower())
        if start < 0:
            continue
        found = True
        mask[start : start + len(span)] = [True] * len(span)
    return mask if found else None


def _token_tags(
    pairs: list[Any],
    mechanisms: tuple[str, ...],
    offsets: list[list[tuple[int, int]]],
    sequence_ids: list[list[int | None]],
) -> list[list[list[int]]]:
    """Per pair, per token, per mechanism: 1 inside a rationale, 0 outside, -100 ignored (seeker and special tokens,
    unlabelled mechanisms, and rated responses whose rationale names no span of the response)."""
    tags = []
    for pair, spans, seqs in zip(pairs, offsets, sequence_ids, strict=True):
        masks: list[list[bool] | None] = []
        for m in mechanisms:
            level = pair.level(m)
            if level < 0:
                masks.append(None)
            elif level == 0:
                masks.append([False] * len(pair.response))
            else:
                masks.append(rationale_mask(pair.response, pair.rationales.get(m, "")))
        rows = []
        for (start, end), seq in zip(spans, seqs, strict=True):
            if seq != 1 or end <= start:
                rows.append([-100] * len(mechanisms))
                continue
            rows.append([-100 if mask is None else int(any(mask[start:end])) for mask in masks])
        tags.append(rows)
    return tags


def _evaluate(
    model: Any,
    tokenizer: Any,
    data: EpitomeSet,
    mechanisms: tuple[str, ...],
    max_length: int,
    device: str,
    priors: dict[str, list[float]],
    use_offsets: bool,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, list[float]] | None]:
    """Held-out agreement with the level offsets fitted on these pairs' scores (no labels used for them), the same
    without offsets (plain argmax), the first's bootstrap intervals, and the offsets."""
    from distill.epitome.classifier import EpitomeClassifier

    classifier = EpitomeClassifier(model, tokenizer, mechanisms, max_length=max_length, batch_size=64, device=device)
    model.eval()
    logits = classifier.logits([(p.seeker, p.response) for p in data.pairs])
    model.train()
    levels = classifier.levels(logits)
    plain = agreement(data, levels, scorer="epitome_classifier")
    offsets = None
    if use_offsets:
        offsets = {m: prior_offsets(logits[:, k], priors[m]) for k, m in enumerate(mechanisms)}
        classifier.meta["level_offsets"] = offsets
        levels = classifier.levels(logits)
    decoded = agreement(data, levels, scorer="epitome_classifier") if use_offsets else plain
    return decoded, plain, agreement_intervals(data, levels), offsets


def _int8_same_levels(
    model: Any,
    tokenizer: Any,
    held: EpitomeSet,
    mechanisms: tuple[str, ...],
    max_length: int,
    level_offsets: dict[str, list[float]] | None,
) -> float | None:
    """Share of the held-out pairs whose levels the int8 CPU path gives exactly as fp32 does (`model` on the CPU, in
    eval mode). Kept in epitome.json so `curate.epitome_quantize=auto` leaves int8 for models it would garble."""
    from distill.epitome.classifier import EpitomeClassifier, int8_linear_layers

    if not len(held):
        return None
    pairs = [(p.seeker, p.response) for p in held.pairs]
    levels = [
        EpitomeClassifier(
            net, tokenizer, mechanisms, max_length=max_length, batch_size=64, meta={"level_offsets": level_offsets}
        ).predict(pairs)
        for net in (model, int8_linear_layers(model))
    ]
    same = same_levels_share(*levels)
    log.info("epitome fit: int8 scoring gives fp32's levels on %.1f%% of the held-out pairs", 100 * same)
    return same


def _mean_f1(result: dict[str, Any], mechanisms: tuple[str, ...]) -> float:
    return sum(result[m]["macro_f1"] for m in mechanisms if m in result) / max(1, len(mechanisms))


def fit(
    data_dir: str | Path,
    out: str | Path,
    base: str = "minilm",
    config: FitConfig | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Fit, then write the model folder at `out` (atomically: built beside it, renamed into place). Returns metrics."""
    import torch

    cfg = config or FitConfig()
    before = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    try:
        return _fit(data_dir, Path(out), base, cfg, progress)
    finally:
        torch.set_num_threads(before)  # threads are process-wide: leave the caller's setting as it was


def _fit(data_dir: str | Path, out_dir: Path, base: str, cfg: FitConfig, progress: Progress | None) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise OutputError(f"--out {out_dir}: exists and is not empty; choose a new folder or remove it")
    data = read_epitome(data_dir)
    mechanisms = tuple(m for m in cfg.mechanisms if m in data.mechanisms)
    if not mechanisms:
        raise ConfigError(
            f"mechanisms={list(cfg.mechanisms)}: none has a file in {data_dir} (it has {list(data.mechanisms)})"
        )
    base_dir = resolve_base(base)
    device = resolve_device(cfg.device)
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)

    train_idx, held_idx = split_indices(data.pair_keys(), cfg.holdout_fraction, cfg.seed)
    train, held = data.subset(train_idx), data.subset(held_idx)
    if len(train) < 2:
        raise ConfigError(
            f"{data_dir}: {len(data)} pairs leave {len(train)} to train on; an EPITOME fit needs more data"
        )
    tokenizer = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
    labels = head_labels(mechanisms)
    model = AutoModelForSequenceClassification.from_pretrained(
        base_dir,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
        local_files_only=True,
        trust_remote_code=False,
    ).to(device)
    encoded = tokenizer(
        [p.seeker for p in train.pairs],
        [p.response for p in train.pairs],
        truncation=True,
        max_length=cfg.max_length,
        return_offsets_mapping=cfg.rationale_weight > 0,
    )
    tags: list[list[list[int]]] = []
    tagger = None
    if cfg.rationale_weight > 0:
        # The paper's auxiliary task: tag the rationale tokens, so the encoder learns where the empathy is said.
        # The tagging head is for training only; the saved folder is the plain classifier.
        offsets = encoded.pop("offset_mapping")
        tags = _token_tags(train.pairs, mechanisms, offsets, [encoded.sequence_ids(i) for i in range(len(train))])
        tagger = torch.nn.Linear(model.config.hidden_size, len(mechanisms)).to(device)
    targets = torch.tensor([[p.level(m) for m in mechanisms] for p in train.pairs], dtype=torch.long)
    weights = [
        torch.tensor(_class_weights(train.labels(m), cfg.class_weights), dtype=torch.float32, device=device)
        for m in mechanisms
    ]
    lengths = [len(ids) for ids in encoded["input_ids"]]

    rng = random.Random(cfg.seed)
    steps_per_epoch = -(-len(train) // cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
            "weight_decay": cfg.weight_decay,
        },
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]
    if tagger is not None:
        groups[0]["params"].append(tagger.weight)
        groups[1]["params"].append(tagger.bias)
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr)
    schedule = get_linear_schedule_with_warmup(optimizer, int(total_steps * cfg.warmup_fraction), total_steps)
    bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and native_bf16(device))
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=bf16)

    priors = {m: training_prior(train.labels(m)) for m in mechanisms}
    history: list[dict[str, Any]] = []
    best: tuple[float, int, dict[str, Any], dict[str, list[float]] | None] | None = None
    step, running, started = 0, 0.0, time.monotonic()
    model.train()
    for epoch in range(1, cfg.epochs + 1):
        for batch in _length_grouped_batches(lengths, cfg.batch_size, rng):
            features = tokenizer.pad({k: [encoded[k][i] for i in batch] for k in encoded}, return_tensors="pt").to(
                device
            )
            with autocast:
                output = model(**features, output_hidden_states=tagger is not None)
                logits = output.logits.float().view(len(batch), len(mechanisms), len(LEVELS))
            y = targets[batch].to(device)
            loss = sum(
                torch.nn.functional.cross_entropy(logits[:, k], y[:, k], weight=weights[k], ignore_index=-1)
                for k in range(len(mechanisms))
                if bool((y[:, k] >= 0).any())
            )
            if tagger is not None:
                width = features["input_ids"].shape[1]
                tag = torch.tensor(
                    [tags[i] + [[-100] * len(mechanisms)] * (width - len(tags[i])) for i in batch], device=device
                )
                keep = tag >= 0
                if bool(keep.any()):
                    scores = tagger(output.hidden_states[-1].float())
                    loss = loss + cfg.rationale_weight * torch.nn.functional.binary_cross_entropy_with_logits(
                        scores[keep], tag[keep].float()
                    )
            if isinstance(loss, torch.Tensor):  # a batch with no label at all contributes nothing
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                value = float(loss.detach())
                running = 0.9 * running + 0.1 * value if step else value
            schedule.step()
            step += 1
            if progress:
                progress(step, total_steps, running)
        entry: dict[str, Any] = {
            "epoch": epoch,
            "train_loss": round(running, 4),
            "elapsed_s": round(time.monotonic() - started, 1),
        }
        if len(held):
            entry["held_out"], entry["held_out_argmax"], entry["held_out_intervals"], offsets = _evaluate(
                model, tokenizer, held, mechanisms, cfg.max_length, device, priors, cfg.level_offsets == "prior"
            )
            score = _mean_f1(entry["held_out"], mechanisms)
            if best is None or score > best[0]:
                best = (score, epoch, {k: v.detach().clone() for k, v in model.state_dict().items()}, offsets)
        history.append(entry)
        log.info("epitome fit: epoch %d/%d loss %.4f", epoch, cfg.epochs, running)
    fit_seconds = time.monotonic() - started
    chosen, level_offsets = cfg.epochs, None
    if best is not None:
        chosen, level_offsets = best[1], best[3]
        model.load_state_dict(best[2])
    model = model.eval().to("cpu")
    same_levels = _int8_same_levels(model, tokenizer, held, mechanisms, cfg.max_length, level_offsets)

    metrics = {
        "held_out": history[chosen - 1].get("held_out"),
        "held_out_argmax": history[chosen - 1].get("held_out_argmax"),
        "held_out_intervals": history[chosen - 1].get("held_out_intervals"),
        "held_out_rows": len(held),
        "train_rows": len(train),
        "epoch_chosen": chosen,
        "epochs": history,
        "fit_seconds": round(fit_seconds, 1),
        "int8_same_levels": same_levels,
        "device": device,
        "precision": "bf16" if bf16 else "fp32",
        "torch_threads": torch.get_num_threads(),
    }
    meta = {
        "mechanisms": list(mechanisms),
        "max_length": cfg.max_length,
        "base": base if base == "minilm" else str(base_dir),
        "training_prior": priors,
        "level_offsets": level_offsets,
        "int8_same_levels": same_levels,
        "fit": cfg.model_dump(mode="json"),
        "data": {"source": str(data.source), "blake2b": data.digest, "rows": len(data), "files": list(data.mechanisms)},
        "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__},
    }
    _write_folder(out_dir, model, tokenizer, meta, metrics, train)
    return metrics


def _write_folder(
    out_dir: Path, model: Any, tokenizer: Any, meta: dict[str, Any], metrics: dict[str, Any], train: EpitomeSet
) -> None:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.", suffix=".tmp"))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        atomic_write_json(staging / "metrics.json", metrics)
        write_trained_pairs(staging, train)  # so `validate` can say when it is given pairs the model trained on
        atomic_write_text(staging / "README.md", model_card(meta, metrics))
        atomic_write_json(staging / META_FILE, meta)  # last: a folder with epitome.json is complete
        if out_dir.exists():
            out_dir.rmdir()  # empty, checked before the fit
        os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _figures_table(metrics: dict[str, Any]) -> str:
    from distill.epitome.provenance import figures_markdown

    if not metrics["held_out"]:
        return (
            "No held-out split (holdout_fraction=0): validate it with `distill scorers validate` on pairs it did "
            "not see.\n"
        )
    return figures_markdown(metrics["held_out"], metrics.get("held_out_intervals")) + "\n"


def _levels_note(meta: dict[str, Any]) -> str:
    offsets = meta.get("level_offsets")
    if not offsets:
        return "Levels: the argmax of each mechanism's three logits.\n"
    shown = "; ".join(f"{m.replace('_', ' ')} {', '.join(f'{v:.3f}' for v in o)}" for m, o in offsets.items())
    return (
        "Levels: the argmax of each mechanism's three logits after adding its offsets (`level_offsets` in "
        f"epitome.json: {shown}). They were fitted on the held-out split's scores, without its labels, so that each "
        "rarer level is predicted at least as often as in the training labels. The figures above use them "
        "(`metrics.json` has the plain argmax's too); like the epoch choice, they were fitted on this split, so "
        "these figures flatter the model: `distill scorers validate` on pairs the fit never saw gives the one to "
        "quote.\n"
    )


def _int8_note(meta: dict[str, Any]) -> str:
    same = meta.get("int8_same_levels")
    if same is None:
        return ""
    verdict = (
        f"below {INT8_MIN_SAME_LEVELS:.0%}, so `curate.epitome_quantize=auto` scores in fp32 there instead"
        if int8_garbles(same)
        else "so `curate.epitome_quantize=auto` uses it there"
    )
    return (
        f"\nCPU scoring: dynamic int8, the fast path on CPUs without bf16, gave the fp32 levels on {same:.1%} of the "
        f"held-out pairs; {verdict}.\n"
    )


def model_card(meta: dict[str, Any], metrics: dict[str, Any]) -> str:
    data = meta["data"]
    held_out = metrics["held_out_rows"]
    return f"""---
library_name: transformers
pipeline_tag: text-classification
tags: [empathy, epitome, empathy-distill]
---
# EPITOME empathy classifier

Rates a (seeker post, response) pair on the three EPITOME mechanisms (Sharma et al., EMNLP 2020), each 0 (none),
1 (weak) or 2 (strong): {", ".join(meta["mechanisms"])}. The {len(meta["mechanisms"]) * 3} logits are one block of three
levels per mechanism, in that order (`config.id2label`). Fitted by `distill scorers fit` from the encoder
`{meta["base"]}`.

## Data

- folder: `{data["source"]}`, files: {", ".join(data["files"])}; {data["rows"]} pairs
- blake2b of the files: `{data["blake2b"]}`
- held-out split inside the fit: {held_out} pairs (seed {meta["fit"]["seed"]}); trained on {metrics["train_rows"]}
- the pairs trained on are listed in `trained_pairs.txt` as hashes, not text: `distill scorers validate --model`
  counts how many of the pairs it scores are among them

**Licence terms of the training data.** If these labels are the EPITOME Reddit annotations, their licence (the
"Althoff academic license" of the Empathy-Mental-Health repository) allows non-profit academic research only, and
redistribution only under a similar non-commercial academic licence with its copyright notice (Copyright 2019-2020
University of Washington, Behavioral Data Science Group) and the citation above. A model trained on them is bound by the
same terms: do not use it commercially or publish it under other terms. Labels made by `distill scorers label` with
your own judge on your own dialogues carry your judge's and your data's terms instead.

## Held-out agreement (epoch {metrics["epoch_chosen"]} of {len(metrics["epochs"])}, chosen on this split)

{_figures_table(metrics)}
{_levels_note(meta)}{_int8_note(meta)}
Fit time: {metrics["fit_seconds"]} s on {metrics["device"]} ({metrics["precision"]}).
Settings: `{json.dumps(meta["fit"], sort_keys=True)}`
"""
