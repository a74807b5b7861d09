"""The trained EPITOME classifier: one encoder, one 3-level head per mechanism, stored as a plain HF folder.

The folder is an ordinary `AutoModelForSequenceClassification` (safetensors) whose 3*M logits are M blocks of three
levels, named in `config.id2label` ("emotional_reactions=0", ...), plus `epitome.json` (mechanisms, max_length,
lineage). Any transformers user can load it without our code; no remote code, no pickle.

The CPU path is the one that scores millions of turns: pairs are sorted by length so a batch pads to its own longest
pair (not to the corpus's), the weights run in bf16 where the CPU does bf16 in hardware (AVX512-BF16, AMX) and,
where it does not, the linear layers that do not narrow the width run in dynamic int8 (unless the fit's check found
int8 changing the model's levels), under `inference_mode`, with a set number of torch threads per process.
`bench/empathy_agreement.py` measures both against a plain fp32 forward.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from distill.epitome import LEVELS, MECHANISMS
from distill.epitome.agreement import Levels
from distill.errors import ConfigError

log = logging.getLogger(__name__)
META_FILE = "epitome.json"
Quantize = Literal["none", "int8", "bf16"]  # none: fp32 on a CPU, bf16 on a GPU
QuantizeSetting = Literal["auto", "none", "int8", "bf16"]  # curate.epitome_quantize; auto: `quantize_for`


def head_labels(mechanisms: Sequence[str]) -> list[str]:
    """Logit names in order: every level of the first mechanism, then of the next."""
    return [f"{m}={level}" for m in mechanisms for level in LEVELS]


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device=cuda but no CUDA device is visible; use device=auto or device=cpu")
    return device


def native_bf16(device: str) -> bool:
    """Whether bf16 math runs in hardware on `device`. On a CPU oneDNN also *emulates* bf16 on plain AVX512, which
    need not beat fp32, so the CPU's own flags decide (Linux: /proc/cpuinfo); unknown means no."""
    import torch

    if device == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    try:
        if not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
            return False
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except (AttributeError, RuntimeError, OSError):
        return False
    flags = {f for line in cpuinfo.splitlines() if line.startswith("flags") for f in line.split(":", 1)[1].split()}
    return bool({"avx512_bf16", "amx_bf16"} & flags)


# Dynamic int8 errors compound layer by layer: with every linear layer in int8, the bundled 6-layer MiniLM kept fp32's
# levels on 85-91% of EPITOME pairs, the 12-layer all-mpnet-base-v2 on 17-48%; with the narrowing layers in fp32
# (`int8_layer_names`) on 94-96% and 86-89% (BENCHMARKS.md). Below this share a fit's int8 check sends auto to fp32.
INT8_MIN_SAME_LEVELS = 0.8


def int8_same_levels(folder: str | Path | None) -> float | None:
    """The share of held-out pairs on which int8 scoring gave fp32's levels, measured by `distill scorers fit` and
    kept in `epitome.json`; None for folders without that check (no held-out split, or fitted before it existed)."""
    if folder is None or not (Path(folder) / META_FILE).is_file():
        return None
    value = json.loads((Path(folder) / META_FILE).read_text(encoding="utf-8")).get("int8_same_levels")
    return None if value is None else float(value)


def int8_garbles(same_levels: float | None) -> bool:
    """Whether a fit's int8 check found int8 changing too many of the model's levels (no check: no)."""
    return same_levels is not None and same_levels < INT8_MIN_SAME_LEVELS


def cpu_scoring_path(bf16_in_hardware: bool, same_levels: float | None) -> Quantize:
    """What auto means on a CPU: bf16 where it runs in hardware; else dynamic int8, unless the model's fit-time check
    found int8 changing too many levels (then fp32, slower but the model's own levels)."""
    if bf16_in_hardware:
        return "bf16"
    if int8_garbles(same_levels):
        log.info(
            "epitome classifier: int8 gave fp32's levels on only %.0f%% of the fit's held-out pairs; scoring in fp32",
            100 * same_levels,
        )
        return "none"
    return "int8"


def quantize_for(device: str, setting: QuantizeSetting, same_levels: float | None = None) -> Quantize:
    """The scoring path `setting` (curate.epitome_quantize) names on `device` for a model whose fit-time int8 check
    gave `same_levels` (`int8_same_levels`): auto -> on a CPU, `cpu_scoring_path` (bf16 and int8 are both measured
    against fp32 in BENCHMARKS.md; bf16 is faster and nearer fp32); none (bf16) on a GPU."""
    if setting != "auto":
        return setting
    if device != "cpu":
        return "none"
    return cpu_scoring_path(native_bf16("cpu"), same_levels)


def int8_layer_names(model: Any) -> list[str]:
    """The linear layers the int8 path quantizes: those whose output is at least as wide as their input. The
    narrowing ones (a feed-forward block's down-projection, the head) sum over the widest activations, where int8's
    rounding adds up most. Kept in fp32 they raised the share of the bundled MiniLM's levels equal to fp32's from
    90-91% to 94-96% (two folds) at 0.77x the speed of int8 everywhere, and all-mpnet-base-v2's last hidden states'
    cosine with fp32 from 0.49 to 0.92 (BENCHMARKS.md)."""
    import torch

    return [
        name
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and module.in_features <= module.out_features
    ]


def int8_linear_layers(model: Any) -> Any:
    """Dynamic int8 for the layers `int8_layer_names` picks (torch.ao), one weight scale per output channel:
    per-tensor scales changed 2-7% of the levels fp32 gives per mechanism, per-channel 1-4% at the same speed
    (BENCHMARKS.md). torch marks this API deprecated in favour of torchao, whose int8 dynamic path ran below fp32
    speed on this CPU, so we keep it and hide its warnings: they are addressed to us, not to a user running
    `distill scorers validate` or scoring from Python. Returns a quantized copy; `model` itself is left in fp32."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*(deprecated|will be removed).*", category=UserWarning)
        warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization is deprecated.*")
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        layers = dict.fromkeys(int8_layer_names(model), per_channel_dynamic_qconfig)
        return quantize_dynamic(model, layers, dtype=torch.qint8)


@dataclass
class EpitomeClassifier:
    """Rates (seeker, response) pairs; `predict` gives levels, `logits` the raw (n, M, 3) scores."""

    model: Any
    tokenizer: Any
    mechanisms: tuple[str, ...]
    max_length: int = 128
    batch_size: int = 32
    device: str = "cpu"
    path: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    quantize: Quantize = "none"  # the scoring path it was loaded with, for the figures that cite it
    name: str = "epitome_classifier"
    pairs_scored: int = 0  # counted, so a caller can check every pair was scored exactly once

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        device: str = "auto",
        quantize: QuantizeSetting = "none",
        threads: int | None = None,
        batch_size: int = 32,
    ) -> EpitomeClassifier:
        """The classifier in `path`, scoring on `quantize`: auto resolves through `quantize_for` with this folder's
        own int8 check; `quantize` on the result names the path taken."""
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        folder = Path(path)
        meta_path = folder / META_FILE
        if not meta_path.is_file():
            raise ConfigError(
                f"{folder}: not an EPITOME classifier folder (no {META_FILE}; make one with `distill scorers fit`)"
            )
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        mechanisms = tuple(meta["mechanisms"])
        if threads:
            torch.set_num_threads(threads)
        device = resolve_device(device)
        quantize = quantize_for(device, quantize, meta.get("int8_same_levels"))
        model = AutoModelForSequenceClassification.from_pretrained(
            folder, local_files_only=True, trust_remote_code=False
        )
        expected = head_labels(mechanisms)
        got = [model.config.id2label[i] for i in range(model.config.num_labels)]
        if got != expected:
            raise ConfigError(f"{folder}: head labels {got} do not match {META_FILE} mechanisms {list(mechanisms)}")
        model.eval()
        if quantize == "int8":
            if device != "cpu":
                raise ConfigError("quantize=int8 is the CPU path; on a GPU use quantize=none (bf16 is used there)")
            same = meta.get("int8_same_levels")
            if int8_garbles(same):
                log.warning(
                    "%s: int8 gave fp32's levels on only %.0f%% of the fit's held-out pairs; "
                    "curate.epitome_quantize=none scores in fp32",
                    folder,
                    100 * same,
                )
            model = int8_linear_layers(model)
        elif quantize == "bf16" or device == "cuda":
            model = model.to(device=device, dtype=torch.bfloat16)
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        log.info("epitome classifier %s: %s on %s (%s)", folder, ", ".join(mechanisms), device, quantize)
        return cls(
            model,
            tokenizer,
            mechanisms,
            int(meta.get("max_length", 128)),
            batch_size,
            device,
            str(folder),
            meta,
            quantize="none" if device == "cuda" else quantize,
        )

    def logits(self, pairs: Sequence[tuple[str, str]], *, sort_by_length: bool = True) -> Any:
        """(n, M, 3) float32 logits, in the order of `pairs`."""
        import torch

        n = len(pairs)
        out = torch.empty((n, len(self.mechanisms), len(LEVELS)), dtype=torch.float32)
        if n == 0:
            return out
        order = list(range(n))
        if sort_by_length:
            # Characters are a cheap stand-in for tokens: good enough to keep a batch's pairs of similar length.
            order.sort(key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        with torch.inference_mode():
            for start in range(0, n, self.batch_size):
                chunk = order[start : start + self.batch_size]
                enc = self.tokenizer(
                    [pairs[i][0] for i in chunk],
                    [pairs[i][1] for i in chunk],
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                ).to(self.device)
                logits = self.model(**enc).logits.float().cpu()
                out[torch.tensor(chunk)] = logits.view(len(chunk), len(self.mechanisms), len(LEVELS))
        self.pairs_scored += n
        return out

    @property
    def level_offsets(self) -> list[list[float]] | None:
        """Per-mechanism logit offsets added before argmax (`distill.epitome.decoding`), from `epitome.json`; None in
        folders fitted before they existed or without a held-out split: plain argmax."""
        offsets = self.meta.get("level_offsets")
        if not offsets:
            return None
        return [list(offsets.get(m, [0.0] * len(LEVELS))) for m in self.mechanisms]

    def predict(self, pairs: Sequence[tuple[str, str]]) -> list[Levels | None]:
        """Levels in MECHANISMS order; a mechanism this model was not fitted on is reported as 0."""
        return self.levels(self.logits(pairs))

    def levels(self, logits: Any) -> list[Levels | None]:
        """`logits` (n, M, 3) -> levels in MECHANISMS order, after the folder's level offsets."""
        from distill.epitome.decoding import decode

        levels = decode(logits, self.level_offsets).tolist()
        index = {m: k for k, m in enumerate(self.mechanisms)}
        return [tuple(row[index[m]] if m in index else 0 for m in MECHANISMS) for row in levels]  # type: ignore[misc]
