"""Answers already paid for, kept as batch files so that a rerun never asks for them again.

A labelling pass (the EPITOME judge rating pairs, a teacher naming seed emotions) writes one JSON file per answered
batch, atomically: `batch-000001.json` = {<who_key>: identity, "labelled": [rows], "failed": [rows]}, each row
carrying its `<id_key>`. Read back on a rerun, every id in them is skipped, so a crash loses at most the batch in
flight. Unreadable answers are kept as failures too, since greedy decoding would fail the same way again. Every file
must name the same answerer: labels of two models never mix in one folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from distill.atomic import atomic_write_json
from distill.errors import InputError


class BatchState:
    """`labelled` {id: row} and `failed` {id: reason} from the batch files in `folder` (which may not exist yet)."""

    def __init__(
        self, folder: Path, identity: str, *, id_key: str = "id", who_key: str = "by", on_mismatch: str = ""
    ) -> None:
        self.folder, self.identity, self.id_key, self.who_key = folder, identity, id_key, who_key
        self.labelled: dict[str, dict[str, Any]] = {}
        self.failed: dict[str, str] = {}
        self.batches = 0
        for path in sorted(folder.glob("batch-*.json")) if folder.is_dir() else []:
            try:
                batch = json.loads(path.read_text(encoding="utf-8"))
                who, labelled, failed = batch[who_key], batch["labelled"], batch["failed"]
                self._take(labelled, failed)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise InputError(
                    f"{path}: unreadable label state ({type(exc).__name__}: {exc}); remove it to ask for its answers "
                    "again"
                ) from None
            if who != identity:
                raise InputError(
                    f"{folder}: labelled by {who}, not {identity}; {on_mismatch or f'remove {folder} to label again'}"
                )
            self.batches += 1

    def done(self, key: str) -> bool:
        return key in self.labelled or key in self.failed

    def add_batch(self, labelled: list[dict[str, Any]], failed: list[dict[str, Any]]) -> None:
        """Record one answered batch; its file appears whole or not at all."""
        self.batches += 1
        atomic_write_json(
            self.folder / f"batch-{self.batches:06d}.json",
            {self.who_key: self.identity, "labelled": labelled, "failed": failed},
        )
        self._take(labelled, failed)

    def _take(self, labelled: list[dict[str, Any]], failed: list[dict[str, Any]]) -> None:
        for row in labelled:
            self.labelled[row[self.id_key]] = row
        self.failed.update({row[self.id_key]: row["reason"] for row in failed})
