"""Teacher backends behind one protocol (`distill.teachers.base.Teacher`); `build_teacher` picks one from the config.

Each backend module imports its heavy dependency (vllm, openai, torch) inside functions, so importing this package is
cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from distill.teachers.base import SamplingParams, Teacher, TeacherRequest, TeacherResult

if TYPE_CHECKING:
    from distill.config import TeacherSection

__all__ = [
    "SamplingParams",
    "Teacher",
    "TeacherRequest",
    "TeacherResult",
    "build_teacher",
    "teacher_builds",
    "teacher_id",
]

_builds = 0  # teachers built in this process: what "the engine is loaded once per actor, never per task" is checked by


def teacher_builds() -> int:
    return _builds


def build_teacher(cfg: TeacherSection) -> Teacher:
    global _builds
    _builds += 1
    match cfg.backend:
        case "vllm":
            from distill.teachers.vllm_backend import AsyncVLLMTeacher, VLLMTeacher

            return AsyncVLLMTeacher(cfg) if cfg.async_engine else VLLMTeacher(cfg)
        case "openai":
            from distill.teachers.openai_backend import OpenAITeacher

            return OpenAITeacher(cfg)
        case "openai_batch":
            from distill.teachers.openai_batch import OpenAIBatchTeacher

            return OpenAIBatchTeacher(cfg)
        case "transformers":
            from distill.teachers.transformers_backend import TransformersTeacher

            return TransformersTeacher(cfg)
        case "dryrun":
            from distill.teachers.dryrun_backend import DryRunTeacher

            return DryRunTeacher(cfg)
        case other:
            raise ValueError(f"unknown teacher backend {other!r}")


def teacher_id(cfg: TeacherSection) -> str:
    """What identifies the teacher in record ids: backend + model as configured (not the machine-local resolved
    path)."""
    return f"{cfg.backend}/{cfg.model}@{cfg.revision or 'default'}"
