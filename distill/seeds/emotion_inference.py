"""Emotion inference for seeds without a label (`seeds.infer_emotion`), the last step of the seeds stage.

Many published corpora carry no emotion. The 32-emotion balance, the planner's emotion conditioning, EmPO preference
pairs (opposite emotions) and per-emotion evaluation all need one, so every kept seed whose `emotion` is null (in
`seeds/` and `holdout/`; a known label is never replaced) gets one of the 32 EmpatheticDialogues labels from:
- `teacher`: the run's teacher, on its Ray actors (or in this process, as `teacher.placement` says), asked with the
  versioned prompt `distill/prompts/<v>/emotion.txt`. Each request carries a JSON schema whose `emotion` is an enum
  of the 32 labels: vLLM (structured outputs) and OpenAI-compatible backends can only answer with a label; the
  others are parsed tolerantly and a reply that names no label is a counted failure, never a guess.
- a local HF sequence-classification folder whose `id2label` values map onto the 32 labels (aliases included).

Resume never pays twice: answers go to `<run>/emotion_inference/batch-*.json` (one atomic file per answered batch,
outside the folders the seeds stage clears when it restarts), and a rerun asks only for the seeds not in them. The
labels are then written into the seed shards, which are rewritten whole into a sibling folder and swapped in; the
stage's done marker comes after. An inferred label is marked in the seed's metadata with its source
(`{"emotion_inferred": {"by": "teacher:vllm/embedded@default", "prompt": "v1"}}`); a seed left unlabelled keeps
emotion null and says why (`"failure": <reason>`), and the stats count it under that reason: every unlabelled seed is
labelled or failed, once.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import re
import shutil
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

from distill.batch_state import BatchState
from distill.batching import batched
from distill.emotions import EMOTIONS, normalize_emotion
from distill.errors import ConfigError
from distill.judging.transcript import render_transcript
from distill.judging.verdict import VerdictError, first_json_object, strip_thinking
from distill.prompts.templates import fill, load_template
from distill.records import SEED, make_id
from distill.shards import iter_shard_batches, list_shards
from distill.teachers.base import SamplingParams, TeacherRequest, TeacherResult

if TYPE_CHECKING:
    from distill.config import RunConfig
    from distill.run_dir import RunDir
    from distill.stats import StageStats

log = logging.getLogger(__name__)

PREFIX = "emotion_inference"  # stats counters: emotion_inference/<key>
MAX_DIALOGUE_CHARS = 3000  # the opening of a long seed names its emotion; the rest would only cost prompt tokens
_WORD = re.compile(r"[A-Za-z]+")
EMOTION_SCHEMA: dict[str, Any] = {
    "title": "seed_emotion",
    "type": "object",
    "properties": {"emotion": {"type": "string", "enum": list(EMOTIONS)}},
    "required": ["emotion"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Inference:
    """One seed's answer: a canonical label, or a failure reason (snake_case) and detail."""

    emotion: str | None
    failure: str | None = None
    detail: str = ""


# -- prompt and reply (pure)
# ---------------------------------------------------------------------------------------------


def load_emotion_prompt(version: str) -> dict[str, Template]:
    try:
        sections = load_template(version, "emotion")
    except ConfigError:
        raise ConfigError(f"seeds.infer_emotion_prompt: no prompt file distill/prompts/{version}/emotion.txt") from None
    if not {"system", "user"} <= set(sections):
        raise ConfigError(f"distill/prompts/{version}/emotion.txt: needs a [system] and a [user] section")
    return sections


def seed_text(seed: dict[str, Any], max_chars: int = MAX_DIALOGUE_CHARS) -> str:
    """The situation (if any) and the turns as `Seeker:` / `Supporter:` lines, cut at `max_chars`."""
    situation = (seed.get("situation") or "").strip()
    text = (f"Situation: {situation}\n" if situation else "") + render_transcript(seed.get("messages") or [])
    return text if len(text) <= max_chars else text[:max_chars].rstrip() + " ..."


def emotion_messages(seed: dict[str, Any], prompt: dict[str, Template], version: str) -> list[dict[str, str]]:
    origin = f"{version}/emotion"
    system = fill(prompt["system"], origin, labels=", ".join(EMOTIONS))
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": fill(prompt["user"], origin, dialogue=seed_text(seed))},
    ]


def emotion_request(seed: dict[str, Any], prompt: dict[str, Template], version: str, max_tokens: int) -> TeacherRequest:
    """Greedy, with a seed derived from the prompt version and seed id: the same seed gets the same answer on a
    rerun."""
    rid = make_id("seed-emotion", version, seed["id"])
    sampling = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=max_tokens, seed=int(rid[:8], 16))
    return TeacherRequest(
        id=rid, messages=emotion_messages(seed, prompt, version), sampling=sampling, response_schema=EMOTION_SCHEMA
    )


def parse_emotion_reply(text: str) -> str:
    """The canonical label in a reply: `{"emotion": ...}`, or a bare label from a backend without structured output."""
    reply = strip_thinking(text).strip()
    if "{" in reply:
        value = first_json_object(reply).get("emotion")
        if not isinstance(value, str):
            raise VerdictError("judge_invalid_field", f"emotion must be a label string, got {value!r}")
        label = normalize_emotion(value)
        if label is None:
            raise VerdictError("judge_invalid_field", f"not one of the 32 emotion labels: {value[:80]!r}")
        return label
    # Free text ("The Seeker feels lonely."): taken only when it names exactly one label, else it is no answer.
    named = {e for e in map(normalize_emotion, _WORD.findall(reply)) if e is not None}
    if len(named) != 1:
        what = (
            f"names {len(named)} labels ({', '.join(sorted(named))})"
            if named
            else "names none of the 32 emotion labels"
        )
        raise VerdictError("judge_unparseable", f"reply {what}: {reply[:80]!r}")
    return named.pop()


def inference_of(result: TeacherResult) -> Inference:
    if result.error is not None or result.text is None:
        return Inference(None, "judge_failed", f"teacher request failed: {result.error or 'no text'}")
    try:
        return Inference(parse_emotion_reply(result.text))
    except VerdictError as exc:
        # Cut off by max_tokens is worth telling apart: raising infer_emotion_max_tokens fixes it, a new prompt does
        # not.
        reason = (
            "judge_truncated" if result.finish_reason == "length" and exc.reason == "judge_unparseable" else exc.reason
        )
        return Inference(None, reason, str(exc))


def mark_inferred(metadata: str | None, source: dict[str, Any], failure: str | None = None) -> str:
    """The seed's metadata JSON with `emotion_inferred` = where the label came from (and why none came, if so)."""
    meta = json.loads(metadata) if metadata else {}
    meta["emotion_inferred"] = {**source, **({"failure": failure} if failure else {})}
    return json.dumps(meta, ensure_ascii=False, sort_keys=True, default=str)


# -- labellers
# -----------------------------------------------------------------------------------------------------------


def inference_source(cfg: RunConfig) -> dict[str, Any]:
    """What labels the seeds, as recorded on each of them; known before any model loads, so a resume checks it first."""
    setting = cfg.seeds.infer_emotion
    if setting == "teacher":
        from distill.teachers import teacher_id

        return {"by": f"teacher:{teacher_id(cfg.teacher)}", "prompt": cfg.seeds.infer_emotion_prompt}
    return {"by": f"classifier:{setting}"}


class TeacherLabeller:
    """The run's teacher through the generation pool (Ray actors, restarts, placement), started on first use."""

    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg
        self.version = cfg.seeds.infer_emotion_prompt
        self.prompt = load_emotion_prompt(self.version)  # a missing prompt fails before minutes of engine start
        self.pool: Any = None

    @property
    def in_flight(self) -> int:
        return (
            self.pool.slots if self.pool is not None else self.cfg.teacher.num_actors
        ) * self.cfg.generate.max_in_flight_per_actor

    def submit(self, seeds: Sequence[dict[str, Any]]) -> cf.Future[Any]:
        if self.pool is None:
            from distill.generate.pool import make_pool

            self.pool = make_pool(self.cfg.teacher, self.cfg.generate)
        max_tokens = self.cfg.seeds.infer_emotion_max_tokens
        return self.pool.submit_requests([emotion_request(s, self.prompt, self.version, max_tokens) for s in seeds])

    def collect(self, future: cf.Future[Any]) -> list[Inference]:
        return [inference_of(r) for r in future.result()]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


class ClassifierLabeller:
    """A local HF sequence classifier in this process (no hub, no remote code); labels outside the 32 are failures."""

    in_flight = 1

    def __init__(self, path: str, *, batch_size: int = 64, max_length: int = 256) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if not Path(path).is_dir():
            raise ConfigError(f"seeds.infer_emotion: {path!r} is not 'off', 'teacher' or a local model folder")
        self._torch = torch
        self.batch_size, self.max_length = batch_size, max_length
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModelForSequenceClassification.from_pretrained(
            path, local_files_only=True, trust_remote_code=False
        ).eval()
        raw = {int(i): str(label) for i, label in self.model.config.id2label.items()}
        self.labels = {i: normalize_emotion(label) for i, label in raw.items()}
        self.raw = raw
        if not any(self.labels.values()):
            raise ConfigError(
                f"seeds.infer_emotion: {path}: none of its labels ({', '.join(list(raw.values())[:5])}, ...) is one of "
                "the 32 emotions"
            )
        log.info(
            "emotion classifier %s: %d of %d labels map to the 32 emotions",
            path,
            sum(v is not None for v in self.labels.values()),
            len(raw),
        )

    def predict(self, seeds: Sequence[dict[str, Any]]) -> list[Inference]:
        out: list[Inference] = []
        for start in range(0, len(seeds), self.batch_size):
            texts = [seed_text(s) for s in seeds[start : start + self.batch_size]]
            enc = self.tokenizer(texts, truncation=True, max_length=self.max_length, padding=True, return_tensors="pt")
            with self._torch.inference_mode():
                best = self.model(**enc).logits.argmax(-1).tolist()
            for i in best:
                label = self.labels.get(i)
                out.append(
                    Inference(label)
                    if label
                    else Inference(None, "classifier_unmapped_label", f"predicted {self.raw.get(i)!r}")
                )
        return out

    def submit(self, seeds: Sequence[dict[str, Any]]) -> cf.Future[Any]:
        future: cf.Future[Any] = cf.Future()
        future.set_result(self.predict(seeds))
        return future

    def collect(self, future: cf.Future[Any]) -> list[Inference]:
        return future.result()

    def close(self) -> None:
        pass


def build_labeller(cfg: RunConfig) -> TeacherLabeller | ClassifierLabeller:
    if cfg.seeds.infer_emotion == "teacher":
        return TeacherLabeller(cfg)
    return ClassifierLabeller(cfg.seeds.infer_emotion, batch_size=cfg.seeds.infer_emotion_batch_size)


# -- the step
# ------------------------------------------------------------------------------------------------------------

COLUMNS = ["id", "emotion", "situation", "messages"]


def _unlabelled(folders: Sequence[Path]) -> Any:
    for folder in folders:
        for info in list_shards(folder):
            for batch in iter_shard_batches(info, columns=COLUMNS):
                yield from (s for s in batch.to_pylist() if s["emotion"] is None)


def ask(labeller: Any, state: BatchState, folders: Sequence[Path], batch_size: int) -> tuple[int, dict[str, Inference]]:
    """Send every unlabelled seed not in `state` to `labeller`, `batch_size` per request, answers recorded per batch.
    Returns how many were asked and the ones the teacher could not serve (counted, not recorded: asked again on a
    rerun, since an engine fault or an endpoint outage is not the model's answer)."""
    asked = 0
    unserved: dict[str, Inference] = {}
    inflight: deque[tuple[list[str], cf.Future[Any]]] = deque()

    def drain_one() -> None:
        nonlocal asked
        ids, future = inflight.popleft()
        labelled, failed = [], []
        for sid, inference in zip(ids, labeller.collect(future), strict=True):
            if inference.failure == "judge_failed":
                unserved[sid] = inference
            elif inference.emotion is None:
                failed.append({"id": sid, "reason": inference.failure, "detail": inference.detail[:300]})
            else:
                labelled.append({"id": sid, "emotion": inference.emotion})
        state.add_batch(labelled, failed)
        asked += len(ids)
        log.info(
            "emotion inference: %d seeds answered this run (%d unlabelled in the last batch)",
            asked,
            len(ids) - len(labelled),
        )

    queued: set[str] = set()  # an id twice in the folders (not expected: the stage rejects duplicates) is asked once

    def unasked() -> Iterator[dict[str, Any]]:
        for seed in _unlabelled(folders):
            if not state.done(seed["id"]) and seed["id"] not in queued:
                queued.add(seed["id"])
                yield seed

    for pending in batched(unasked(), batch_size):
        inflight.append(([s["id"] for s in pending], labeller.submit(pending)))
        while len(inflight) >= labeller.in_flight:
            drain_one()
    while inflight:
        drain_one()
    return asked, unserved


def apply_labels(
    folder: Path, state: BatchState, unserved: dict[str, Inference], source: dict[str, Any], counts: Counter[str]
) -> None:
    """Rewrite `folder`'s seed shards with the labels in `state` into a sibling folder, then swap it in. Not atomic as
    a whole, and need not be: the stage's done marker comes after, and a rerun rebuilds the folder from its sources."""
    from distill.shards import ShardWriter

    infos = list_shards(folder)
    if not infos:
        return
    tmp = folder.with_name(f".{folder.name}.emotions")
    shutil.rmtree(tmp, ignore_errors=True)
    with ShardWriter(tmp, SEED, rows_per_shard=max(i.rows for i in infos)) as out:
        for info in infos:
            for batch in iter_shard_batches(info):
                rows = batch.to_pylist()
                for seed in rows:
                    if seed["emotion"] is None:
                        _label(seed, state, unserved, source, counts)
                out.write(rows)
    shutil.rmtree(folder)
    tmp.rename(folder)


def _label(
    seed: dict[str, Any],
    state: BatchState,
    unserved: dict[str, Inference],
    source: dict[str, Any],
    counts: Counter[str],
) -> None:
    counts["unlabelled"] += 1
    row = state.labelled.get(seed["id"])
    if row is not None:
        seed["emotion"] = row["emotion"]
        seed["metadata"] = mark_inferred(seed["metadata"], source)
        counts["labelled"] += 1
        counts[f"label/{row['emotion']}"] += 1
        return
    reason = (
        state.failed.get(seed["id"])
        or (unserved[seed["id"]].failure if seed["id"] in unserved else None)
        or "not_asked"
    )
    seed["metadata"] = mark_inferred(seed["metadata"], source, failure=reason)
    counts["failed"] += 1
    counts[f"failed/{reason}"] += 1


def infer_seed_emotions(cfg: RunConfig, run: RunDir, stats: StageStats, *, labeller: Any = None) -> None:
    """Label the unlabelled seeds in `run.seeds` and `run.holdout` as `cfg.seeds.infer_emotion` says (off: nothing).

    Counts go into `stats` as `emotion_inference/*`, and `emotion/*` is moved from `none` to the labels given, so it
    describes the shards as written. `labeller` (anything with `in_flight`, `submit`, `collect`) defaults to the one
    the config names, built only if some seed must be asked; one passed in stays open (the caller owns it).
    """
    section = cfg.seeds
    if section.infer_emotion == "off":
        return
    source = inference_source(cfg)
    identity = "|".join(f"{k}={v}" for k, v in sorted(source.items()))
    hint = f"the seeds stage was restarted under another labeller; remove {run.emotion_inference}"
    state = BatchState(run.emotion_inference, identity, on_mismatch=hint)
    folders = (run.seeds, run.holdout)
    built = None
    if labeller is None and any(not state.done(s["id"]) for s in _unlabelled(folders)):
        labeller = built = build_labeller(cfg)
    try:
        asked, unserved = (
            ask(labeller, state, folders, section.infer_emotion_batch_size) if labeller is not None else (0, {})
        )
    finally:
        if built is not None:
            built.close()
    counts: Counter[str] = Counter()
    for folder in folders:
        apply_labels(folder, state, unserved, source, counts)
    for key, n in counts.items():
        stats.add(f"{PREFIX}/{key}", n)
    stats.add(f"{PREFIX}/asked_this_run", asked)
    stats.add(f"{PREFIX}/reused", counts["unlabelled"] - asked)
    for key, n in counts.items():
        if key.startswith("label/"):
            stats.add(f"emotion/{key[len('label/') :]}", n)
    stats.add("emotion/none", -counts["labelled"])
    if stats.counters["emotion/none"] <= 0:
        del stats.counters["emotion/none"]
    stats.info["emotion_inference"] = source
    log.info(
        "emotion inference (%s): %d unlabelled seeds, %d labelled, %d failed; %d asked now, %d answers reused",
        source["by"],
        counts["unlabelled"],
        counts["labelled"],
        counts["failed"],
        asked,
        counts["unlabelled"] - asked,
    )
