"""Rank 0 tokenizes the stage's input once into `<checkpoints>/<student>/data/`; every rank then maps it.

The folder is reused while its fingerprint (input shard digests, tokenizer, max_seq_len, packing, recipe) matches.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from distill.config import RunConfig
from distill.errors import InputError
from distill.run_dir import RunDir
from distill.shards import count_rows
from train.data import PreparedRows, prepare_dpo, prepare_sft, read_manifest, shards_fingerprint
from train.runtime import Dist, TrainPaths, barrier


def input_dir(cfg: RunConfig) -> Path:
    run = RunDir(cfg)
    return run.prefs if cfg.train.recipe == "dpo" else run.curated


def data_fingerprint(cfg: RunConfig, tokenizer: Any) -> str:
    t = cfg.train
    parts = [
        shards_fingerprint(input_dir(cfg)),
        t.recipe,
        t.student,
        str(len(tokenizer)),
        str(t.max_seq_len),
        str(t.pack),
        str(getattr(tokenizer, "chat_template", "")),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def check_input(cfg: RunConfig) -> Path:
    source = input_dir(cfg)
    if count_rows(source) == 0:
        what = "preference pairs" if cfg.train.recipe == "dpo" else "curated dialogues"
        raise InputError(
            f"no {what} in {source}: run the curate stage first (or point run.name at a run that has them)"
        )
    return source


def ensure_prepared(
    cfg: RunConfig, dist: Dist, paths: TrainPaths, tokenizer: Any
) -> tuple[PreparedRows, dict[str, Any]]:
    fingerprint = data_fingerprint(cfg, tokenizer)
    if dist.is_main:
        manifest = read_manifest(paths.data)
        if manifest is None or manifest.get("fingerprint") != fingerprint:
            source = check_input(cfg)
            shutil.rmtree(paths.rejects, ignore_errors=True)  # rejects/train are rewritten with the data
            t = cfg.train
            if t.recipe == "dpo":
                prepare_dpo(
                    source, paths.data, paths.rejects, tokenizer, max_seq_len=t.max_seq_len, fingerprint=fingerprint
                )
            else:
                prepare_sft(
                    source,
                    paths.data,
                    paths.rejects,
                    tokenizer,
                    max_seq_len=t.max_seq_len,
                    pack=t.pack,
                    fingerprint=fingerprint,
                )
    barrier()
    manifest = read_manifest(paths.data)
    if manifest is None:
        raise InputError(f"{paths.data}: prepared data is missing (rank 0 failed to write it)")
    return PreparedRows(paths.data), manifest
