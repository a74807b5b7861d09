"""One run = one folder. This module owns its layout and the rule that a folder belongs to one config.

Each stage records the hash of the config sections it depends on in `stages/<stage>.json` when it
starts. Re-running with the same sections resumes; with changed sections it is refused, because the
outputs on disk were made under other settings (the user picks a new `run.name` or passes `--new-run`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from distill.atomic import atomic_write_json, atomic_write_text
from distill.config import RunConfig, dump_config
from distill.errors import RunStateError, writing

if TYPE_CHECKING:
    from distill.stages import Stage


class RunDir:
    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg
        self.root = cfg.run_dir

    # Well-known locations, so no stage hard-codes another's paths.
    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    @property
    def seeds(self) -> Path:
        return self.path("seeds")

    @property
    def holdout(self) -> Path:
        return self.path("holdout")

    @property
    def emotion_inference(self) -> Path:
        """Answers of `seeds.infer_emotion`, kept when the seeds stage restarts so that none is paid for twice."""
        return self.path("emotion_inference")

    @property
    def plan(self) -> Path:
        return self.path("plan")

    @property
    def generated(self) -> Path:
        return self.path("generated")

    @property
    def curated(self) -> Path:
        return self.path("curated")

    @property
    def samples(self) -> Path:
        return self.path("samples")

    @property
    def prefs(self) -> Path:
        return self.path("prefs")

    @property
    def checkpoints(self) -> Path:
        return self.path("checkpoints")

    def rejects(self, stage: str) -> Path:
        return self.path("rejects", stage)

    def stage_done(self, stage: str) -> bool:
        marker = self.path("stages", f"{stage}.json")
        return marker.exists() and json.loads(marker.read_text()).get("done", False)

    def claim_stage(self, stage: Stage, *, new_run: bool = False) -> bool:
        """Record that `stage` runs under the current config; False when it already finished under it.

        Outputs made under another config are refused, or discarded when `new_run` (the user asked to start over).
        """
        sections = stage.config_sections(self.cfg)
        digest = self.cfg.stage_hash(*sections)
        marker = self.path("stages", f"{stage.name}.json")
        if marker.exists():
            recorded = json.loads(marker.read_text())
            if recorded["config_hash"] != digest:
                if not new_run:
                    raise RunStateError(
                        f"{self.root}: stage {stage.name!r} was started with a different config "
                        f"(sections {', '.join(sections)}; hash {recorded['config_hash']} on disk, {digest} now). "
                        "Use another run.name, or pass --new-run to discard this stage's outputs."
                    )
                self.discard_stage(stage)
            elif recorded.get("done"):
                return False
        with writing(self.root):  # output_dir under a file, read-only, full: one line naming the folder
            self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path("config.yaml"), f"# config hash {self.cfg.stage_hash()}\n" + dump_config(self.cfg))
        atomic_write_json(
            marker, {"stage": stage.name, "config_hash": digest, "sections": list(sections), "done": False}
        )
        return True

    def finish_stage(self, stage: str) -> None:
        marker = self.path("stages", f"{stage}.json")
        recorded = json.loads(marker.read_text())
        recorded["done"] = True
        atomic_write_json(marker, recorded)

    def discard_stage(self, stage: Stage) -> None:
        """Remove a stage's outputs, its marker and its stats (only on an explicit --new-run)."""
        for folder in [*(self.path(p) for p in stage.outputs), self.rejects(stage.name)]:
            if folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)
            else:
                folder.unlink(missing_ok=True)
        self.path("stages", f"{stage.name}.json").unlink(missing_ok=True)
        self.path("stats", f"{stage.name}.json").unlink(missing_ok=True)
