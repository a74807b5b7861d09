"""Arrow shards -> training tensors: chat template, labels on every assistant turn, packing; preference pairs for DPO.

A whole dialogue is one example with loss on each assistant turn: the same gradient as training on all of
its context -> response windows, with far fewer tokens. Examples are packed first-fit into `max_seq_len`
rows whose `position_ids` restart at every dialogue, which transformers turns into a block-diagonal mask
(no attention across dialogues). The prepared rows are written once as Arrow IPC shards and read back
memory-mapped by index, so every rank knows the exact number of steps and a resume knows its data position;
dataset size never bounds memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from distill.atomic import atomic_write_json
from distill.errors import InputError
from distill.messages import MessageRules, first_problem
from distill.records import REJECT, make_reject
from distill.shards import ShardWriter, iter_batches, list_shards
from distill.stats import StageStats

log = logging.getLogger(__name__)

IGNORE_INDEX = -100
MANIFEST = "manifest.json"

_INT_LIST = pa.list_(pa.int32())
PACKED = pa.schema(
    [("input_ids", _INT_LIST), ("labels", _INT_LIST), ("position_ids", _INT_LIST), ("num_docs", pa.int32())],
    metadata={b"distill.kind": b"packed_sequence"},
)
PAIRS = pa.schema(
    [
        ("id", pa.string()),
        ("chosen_ids", _INT_LIST),
        ("chosen_labels", _INT_LIST),
        ("rejected_ids", _INT_LIST),
        ("rejected_labels", _INT_LIST),
    ],
    metadata={b"distill.kind": b"tokenized_pair"},
)


class TemplateError(InputError):
    """The student's chat template cannot be split into per-turn spans."""


@dataclass
class Example:
    input_ids: list[int]
    labels: list[int]
    truncated: bool = False


def _render(tokenizer: Any, messages: list[dict[str, str]], add_generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


def assistant_char_spans(tokenizer: Any, messages: list[dict[str, str]]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered dialogue and the character span of every assistant turn (its content and end-of-turn token).

    Each span starts where the generation prompt for that turn ends and stops where the turn's rendering
    ends (trailing whitespace excluded), so the label mask follows whatever template the student has.
    """
    if getattr(tokenizer, "chat_template", None) is None:
        raise TemplateError(
            f"tokenizer {getattr(tokenizer, 'name_or_path', '?')!r} has no chat template; pick an instruct student"
        )
    full = _render(tokenizer, messages)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = _render(tokenizer, messages[:i], add_generation_prompt=True)
        upto = _render(tokenizer, messages[: i + 1]).rstrip()
        if not full.startswith(upto):
            raise TemplateError(
                f"the chat template of {getattr(tokenizer, 'name_or_path', '?')!r} renders earlier turns differently "
                "once later turns "
                "are added, so assistant turns cannot be masked from one rendering"
            )
        # Templates may render the generation prompt slightly differently from a finished turn: keep the common prefix.
        start = len(prompt) if upto.startswith(prompt) else _common_prefix(prompt, upto)
        spans.append((start, len(upto)))
    return full, spans


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _labels_from_spans(tokenizer: Any, text: str, spans: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(enc["input_ids"])
    labels = [IGNORE_INDEX] * len(ids)
    k = 0
    for t, (start, end) in enumerate(enc["offset_mapping"]):
        while k < len(spans) and spans[k][1] <= start:
            k += 1
        if k < len(spans) and end > start and start >= spans[k][0] and end <= spans[k][1]:
            labels[t] = ids[t]
    return ids, labels


# Training needs an assistant turn to learn from; an empty turn is kept (the chat template renders it).
TRAINABLE = MessageRules(empty_turns="allow", require_assistant=True)


def untrainable_reason(messages: Any) -> str | None:
    """Why a message list cannot be trained on (a `distill.messages` reason), or None."""
    problem = first_problem(messages, TRAINABLE)
    return None if problem is None else problem.reason


def tokenize_dialogue(tokenizer: Any, messages: list[dict[str, str]], max_seq_len: int) -> Example:
    """Input ids and labels: labels equal ids on assistant turns, IGNORE_INDEX elsewhere; cut at max_seq_len."""
    text, spans = assistant_char_spans(tokenizer, messages)
    ids, labels = _labels_from_spans(tokenizer, text, spans)
    truncated = len(ids) > max_seq_len
    return Example(ids[:max_seq_len], labels[:max_seq_len], truncated)


def tokenize_response(tokenizer: Any, prompt: list[dict[str, str]], response: str, max_seq_len: int) -> Example | None:
    """Prompt + one assistant response, loss on the response only; the prompt is cut from the left if needed (None if
    the response alone does not fit)."""
    ids, labels = _labels_from_spans(
        tokenizer, *assistant_char_spans(tokenizer, [*prompt, {"role": "assistant", "content": response}])
    )
    if len(ids) <= max_seq_len:
        return Example(ids, labels)
    first = next((i for i, lab in enumerate(labels) if lab != IGNORE_INDEX), len(labels))
    if len(ids) - first >= max_seq_len:
        return None
    cut = len(ids) - max_seq_len
    return Example(ids[cut:], labels[cut:], truncated=True)


class Packer:
    """First-fit packing into rows of exactly `max_seq_len` tokens over a bounded set of open rows."""

    def __init__(self, max_seq_len: int, pad_id: int, open_rows: int = 16, pack: bool = True) -> None:
        self.max_seq_len = max_seq_len
        self.pad_id = pad_id
        self.open_rows = open_rows if pack else 1
        self.pack = pack
        self.rows: list[dict[str, Any]] = []
        self.padding_tokens = 0

    def add(self, example: Example) -> Iterator[dict[str, Any]]:
        n = len(example.input_ids)
        labels = list(example.labels)
        labels[0] = IGNORE_INDEX  # the first token of a dialogue is never predicted from the previous dialogue
        if self.pack:
            for row in self.rows:
                if len(row["input_ids"]) + n <= self.max_seq_len:
                    self._append(row, example.input_ids, labels)
                    return
        row = {"input_ids": [], "labels": [], "position_ids": [], "num_docs": 0}
        self._append(row, example.input_ids, labels)
        self.rows.append(row)
        if len(self.rows) > self.open_rows:
            # Emit the fullest row: it is the least likely to take another dialogue.
            fullest = max(range(len(self.rows)), key=lambda i: len(self.rows[i]["input_ids"]))
            yield self._pad(self.rows.pop(fullest))

    def flush(self) -> Iterator[dict[str, Any]]:
        while self.rows:
            yield self._pad(self.rows.pop(0))

    @staticmethod
    def _append(row: dict[str, Any], ids: list[int], labels: list[int]) -> None:
        row["input_ids"].extend(ids)
        row["labels"].extend(labels)
        row["position_ids"].extend(range(len(ids)))
        row["num_docs"] += 1

    def _pad(self, row: dict[str, Any]) -> dict[str, Any]:
        pad = self.max_seq_len - len(row["input_ids"])
        self.padding_tokens += pad
        row["input_ids"].extend([self.pad_id] * pad)
        row["labels"].extend([IGNORE_INDEX] * pad)
        row["position_ids"].extend(range(pad))  # padding is its own "document": nothing attends to it
        return row


def shards_fingerprint(directory: Path) -> str:
    """Hash of the completion markers (name, rows, digest) of every shard: the dataset manifest hash."""
    h = hashlib.sha256()
    for info in list_shards(directory):
        h.update(f"{info.path.name}\x1f{info.rows}\x1f{info.digest}\n".encode())
    return h.hexdigest()[:16]


def pad_id_of(tokenizer: Any) -> int:
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if pad is None:
        raise InputError(f"tokenizer {tokenizer.name_or_path!r} has neither a pad nor an eos token")
    return int(pad)


def _rows_with_source(directory: Path, columns: list[str]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(shard name, 1-based row in shard, row) for every row, streamed batch by batch."""
    infos = list_shards(directory)
    shard_i, row_in_shard = 0, 0
    for batch in iter_batches(directory, columns=columns):
        for row in batch.to_pylist():
            while shard_i < len(infos) - 1 and row_in_shard >= infos[shard_i].rows:
                shard_i, row_in_shard = shard_i + 1, 0
            row_in_shard += 1
            yield infos[shard_i].path.name, row_in_shard, row


def prepare_sft(
    curated: Path, out_dir: Path, rejects: Path, tokenizer: Any, *, max_seq_len: int, pack: bool, fingerprint: str
) -> dict[str, Any]:
    """Tokenize + pack every curated dialogue into `out_dir` (Arrow IPC shards); unusable rows go to `rejects`."""
    stats = StageStats("train_data")
    packer = Packer(max_seq_len, pad_id_of(tokenizer), pack=pack)
    tmp = _fresh(out_dir)
    with (
        ShardWriter(tmp, PACKED, rows_per_shard=4096, row_group_rows=256, format="arrow") as packed,
        ShardWriter(rejects, REJECT, prefix="data", rows_per_shard=100_000) as rejected,
    ):
        for shard, row_no, row in _rows_with_source(curated, ["id", "messages"]):
            stats.add("records_in")
            reason = untrainable_reason(row["messages"])
            example = None
            if reason is None:
                example = tokenize_dialogue(tokenizer, row["messages"], max_seq_len)
                if all(lab == IGNORE_INDEX for lab in example.labels[1:]):
                    reason = "no_trainable_tokens_within_max_seq_len"
            if reason is not None or example is None:
                stats.add(f"rejected/{reason}")
                rejected.write(
                    [
                        make_reject(
                            "train",
                            reason or "bad_message",
                            f"dialogue {row['id']} cannot be trained on: {reason}",
                            record=row,
                            source_file=str(curated / shard),
                            source_row=row_no,
                            field="messages",
                        )
                    ]
                )
                continue
            stats.add("records_used")
            stats.add("examples_truncated", int(example.truncated))
            stats.add("tokens_total", len(example.input_ids))
            stats.add("tokens_trainable", sum(lab != IGNORE_INDEX for lab in example.labels[1:]))
            packed.write(packer.add(example))
        packed.write(packer.flush())
    stats.add("packed_rows", sum(i.rows for i in list_shards(tmp)))
    stats.add("padding_tokens", packer.padding_tokens)
    return _finish(tmp, out_dir, stats, fingerprint, kind="sft", max_seq_len=max_seq_len)


def prepare_dpo(
    prefs: Path, out_dir: Path, rejects: Path, tokenizer: Any, *, max_seq_len: int, fingerprint: str
) -> dict[str, Any]:
    """Tokenize every preference pair into chosen/rejected ids + labels (loss on the response only)."""
    stats = StageStats("train_data")
    tmp = _fresh(out_dir)
    with (
        ShardWriter(tmp, PAIRS, rows_per_shard=4096, row_group_rows=256, format="arrow") as pairs,
        ShardWriter(rejects, REJECT, prefix="data", rows_per_shard=100_000) as rejected,
    ):
        for shard, row_no, row in _rows_with_source(prefs, ["id", "prompt", "chosen", "rejected"]):
            stats.add("records_in")
            reason = untrainable_reason([*row["prompt"], {"role": "assistant", "content": row["chosen"]}])
            if reason is None and (not row["chosen"].strip() or not row["rejected"].strip()):
                reason = "empty_response"
            chosen = rejected_ex = None
            if reason is None:
                chosen = tokenize_response(tokenizer, row["prompt"], row["chosen"], max_seq_len)
                rejected_ex = tokenize_response(tokenizer, row["prompt"], row["rejected"], max_seq_len)
                if chosen is None or rejected_ex is None:
                    reason = "response_longer_than_max_seq_len"
            if reason is not None or chosen is None or rejected_ex is None:
                stats.add(f"rejected/{reason}")
                rejected.write(
                    [
                        make_reject(
                            "train",
                            reason or "bad_message",
                            f"pair {row['id']} cannot be trained on: {reason}",
                            record=row,
                            source_file=str(prefs / shard),
                            source_row=row_no,
                            field="prompt",
                        )
                    ]
                )
                continue
            stats.add("records_used")
            stats.add("examples_truncated", int(chosen.truncated or rejected_ex.truncated))
            stats.add("tokens_total", len(chosen.input_ids) + len(rejected_ex.input_ids))
            pairs.write(
                [
                    {
                        "id": row["id"],
                        "chosen_ids": chosen.input_ids,
                        "chosen_labels": chosen.labels,
                        "rejected_ids": rejected_ex.input_ids,
                        "rejected_labels": rejected_ex.labels,
                    }
                ]
            )
    stats.add("packed_rows", sum(i.rows for i in list_shards(tmp)))
    return _finish(tmp, out_dir, stats, fingerprint, kind="dpo", max_seq_len=max_seq_len)


def _fresh(out_dir: Path) -> Path:
    tmp = out_dir.with_name(f".{out_dir.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    return tmp


def _finish(tmp: Path, out_dir: Path, stats: StageStats, fingerprint: str, **info: Any) -> dict[str, Any]:
    counters = dict(stats.counters)
    rejected = sum(v for k, v in counters.items() if k.startswith("rejected/"))
    if counters.get("records_in", 0) != counters.get("records_used", 0) + rejected:
        raise RuntimeError(f"data accounting does not add up: {counters}")
    manifest = {"fingerprint": fingerprint, "counters": counters, **info}
    # The manifest is written last, inside the folder that is then renamed into place: its presence means complete.
    atomic_write_json(tmp / MANIFEST, manifest)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    log.info(
        "prepared %s rows from %s records (%s rejected) in %s",
        counters.get("packed_rows", 0),
        counters.get("records_in", 0),
        rejected,
        out_dir,
    )
    return manifest


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    path = out_dir / MANIFEST
    return json.loads(path.read_text()) if path.exists() else None


class PreparedRows:
    """Random access to prepared rows by global index, memory-mapped (no copy of the dataset in RAM)."""

    def __init__(self, directory: Path) -> None:
        import pyarrow.ipc as ipc

        self.tables = []
        for info in list_shards(directory):
            source = pa.memory_map(str(info.path))
            self.tables.append(ipc.open_file(source).read_all())
        self.offsets = [0]
        for t in self.tables:
            self.offsets.append(self.offsets[-1] + t.num_rows)

    def __len__(self) -> int:
        return self.offsets[-1]

    def __getitem__(self, index: int) -> dict[str, Any]:
        import bisect

        if not 0 <= index < len(self):
            raise IndexError(index)
        shard = bisect.bisect_right(self.offsets, index) - 1
        return self.tables[shard].slice(index - self.offsets[shard], 1).to_pylist()[0]
