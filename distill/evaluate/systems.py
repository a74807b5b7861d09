"""The answering systems (base student, distilled student, teacher) and the judge, each as a TeacherSection.

Every model is driven through the Teacher contract, so a student checkpoint is evaluated by the same backends
(transformers or vLLM) that generate data. All of them run in this process (`placement: local`): an evaluation
set is small, and one model at a time keeps memory at one model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from distill.config import RunConfig, TeacherSection
from distill.run_dir import RunDir
from distill.teachers.base import Teacher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SystemSpec:
    name: str  # "base" | "student" | "teacher"
    section: TeacherSection | None  # None when the system cannot be evaluated (see `missing`)
    missing: str | None = None  # why, in words


def find_student_export(run: RunDir) -> Path | None:
    """The distilled student's HF folder: the export stats/train.json names, else the newest HF folder under
    checkpoints/.

    An HF folder has config.json and weights; hidden folders (half-written exports such as `.hf.tmp`) never count.
    """
    from distill.stats import read_stats

    named = ((read_stats(run.root, "train") or {}).get("info") or {}).get("export")
    if named and (Path(named) / "config.json").is_file():
        return Path(named)
    root = run.checkpoints
    if not root.is_dir():
        return None
    candidates = [
        p.parent
        for depth in ("*/config.json", "*/*/config.json", "*/*/*/config.json")
        for p in root.glob(depth)
        if not any(part.startswith(".") for part in p.relative_to(root).parts)
        and (any(p.parent.glob("*.safetensors")) or any(p.parent.glob("pytorch_model*.bin")))
    ]
    return max(candidates, key=lambda p: (p.stat().st_mtime, str(p))) if candidates else None


def _student_section(cfg: RunConfig, model: str) -> TeacherSection:
    # Keep the run teacher's engine settings (KV cache, eager mode, context length); swap backend and model.
    return cfg.teacher.model_copy(
        update={"backend": cfg.eval.student_backend, "model": model, "revision": None, "placement": "local"}
    )


def system_specs(cfg: RunConfig) -> list[SystemSpec]:
    specs: list[SystemSpec] = []
    for name in dict.fromkeys(cfg.eval.systems):
        if name == "base":
            specs.append(SystemSpec(name, _student_section(cfg, cfg.train.student)))
        elif name == "teacher":
            specs.append(SystemSpec(name, cfg.teacher.model_copy(update={"placement": "local"})))
        else:
            model = cfg.eval.student_model or find_student_export(RunDir(cfg))
            if model is None:
                why = (
                    f"no distilled checkpoint under {RunDir(cfg).checkpoints} (run `distill train` first, or set "
                    "eval.student_model)"
                )
                specs.append(SystemSpec(name, None, why))
            else:
                specs.append(SystemSpec(name, _student_section(cfg, str(model))))
    return specs


def judge_section(cfg: RunConfig) -> TeacherSection:
    section = cfg.eval.judge_teacher or cfg.teacher
    return section.model_copy(update={"placement": "local"})


class ModelSlot:
    """At most one loaded model at a time, reused while consecutive users ask for the same section.

    By default the judge is the run's teacher, and with the embedded defaults the base student is the same model
    too; reusing it saves a load (minutes for a large teacher) without ever holding two models in memory.
    """

    def __init__(self) -> None:
        self._key: str | None = None
        self._teacher: Teacher | None = None

    def get(self, section: TeacherSection) -> Teacher:
        from distill.teachers import build_teacher

        key = section.model_dump_json()
        if self._teacher is not None and key == self._key:
            return self._teacher
        self.close()
        self._teacher, self._key = build_teacher(section), key
        return self._teacher

    def close(self) -> None:
        if self._teacher is not None:
            teacher, self._teacher, self._key = self._teacher, None, None
            teacher.close()

    def __enter__(self) -> ModelSlot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
