"""The eval stage: held-out prompts -> responses of each system -> judge + metrics -> eval.json (+ report.html).

Layout under the run folder:
  eval/responses/<system>/   raw responses (EVAL_RESPONSE, unscored) + `_system.json`, written when the system is done
  eval/scored/               every response with its scores and judge verdicts
  rejects/eval/              held-out seeds that cannot be prompts, and generation failures (prefix = system)
  eval.json                  the aggregates; stats/eval.json the counters
Resume granularity is one system: a finished system's responses are reused; judging and metrics rerun (cheap
next to generation). Every selected prompt ends, per system, as a response or a reject, and a check says so.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from distill.atomic import atomic_write_json
from distill.config import RunConfig
from distill.errors import InputError
from distill.evaluate.aggregate import summarize_system
from distill.evaluate.metrics import score_rows
from distill.evaluate.prompts import EvalPrompt, prompt_from_seed, responder_messages, select_seeds
from distill.evaluate.records import EVAL_RESPONSE
from distill.evaluate.systems import ModelSlot, SystemSpec, system_specs
from distill.progress import report
from distill.records import REJECT, make_id, make_reject
from distill.run_dir import RunDir
from distill.shards import ShardWriter, clear_prefix, count_rows, iter_rows
from distill.stages import EVAL, run_stage
from distill.stats import StageStats
from distill.teachers.base import SamplingParams, TeacherRequest

log = logging.getLogger(__name__)

EVAL_JSON_VERSION = 1
_SYSTEM_DONE = "_system.json"
_GENERATE_BATCH = 64


def eval_dir(run: RunDir) -> Path:
    return run.path("eval")


def load_prompts(run: RunDir, cfg: RunConfig, stats: StageStats) -> list[EvalPrompt]:
    """The selected prompts; unusable seeds go to rejects/eval (prefix `prompts`)."""
    selected = select_seeds(iter_rows(run.holdout), cfg.eval.max_prompts, balance_emotions=cfg.eval.balance_emotions)
    stats.add("holdout_seeds", count_rows(run.holdout))
    prompts: list[EvalPrompt] = []
    clear_prefix(run.rejects(EVAL.name), "prompts")
    with ShardWriter(run.rejects(EVAL.name), REJECT, prefix="prompts") as rejects:
        for seed in selected:
            made = prompt_from_seed(seed)
            if isinstance(made, EvalPrompt):
                prompts.append(made)
            else:
                rejects.write([made])
                stats.add(f"prompts_rejected/{made['reason']}")
    stats.add("prompts", len(prompts))
    return prompts


def _sampling(cfg: RunConfig, request_id: str) -> SamplingParams:
    s = cfg.eval.sampling
    # The seed is derived from the request id, so a rerun samples the same responses.
    return SamplingParams(
        temperature=s.temperature, top_p=s.top_p, max_tokens=s.max_tokens, seed=int(request_id[:8], 16)
    )


def generate_system(
    cfg: RunConfig, run: RunDir, spec: SystemSpec, prompts: list[EvalPrompt], slot: ModelSlot
) -> dict[str, Any]:
    """Responses of one system to every prompt -> eval/responses/<system>/ and rejects; returns the system's info."""
    folder = eval_dir(run) / "responses" / spec.name
    done = folder / _SYSTEM_DONE
    if done.exists():
        log.info("eval: reusing the %s responses in %s", spec.name, folder)
        return json.loads(done.read_text())
    if spec.section is None:
        raise ValueError(f"system {spec.name} has no model to run: {spec.missing}")
    shutil.rmtree(folder, ignore_errors=True)
    clear_prefix(run.rejects(EVAL.name), spec.name)
    started = time.time()
    teacher = slot.get(spec.section)
    info: dict[str, Any] = {
        "model": teacher.model,
        "backend": teacher.backend,
        "responses": 0,
        "rejected": {},
        "truncated": 0,
    }
    with (
        ShardWriter(folder, EVAL_RESPONSE, prefix="part") as out,
        ShardWriter(run.rejects(EVAL.name), REJECT, prefix=spec.name) as rejects,
    ):
        for start in range(0, len(prompts), _GENERATE_BATCH):
            batch = prompts[start : start + _GENERATE_BATCH]
            requests = []
            for p in batch:
                rid = make_id(EVAL.name, spec.name, p.id)
                requests.append(
                    TeacherRequest(
                        id=rid, messages=responder_messages(p, cfg.eval.rubric_version), sampling=_sampling(cfg, rid)
                    )
                )
            for prompt, request, result in zip(batch, requests, teacher.generate(requests)):
                text = (result.text or "").strip()
                if result.error is not None or not text:
                    reason = "generation_failed" if result.error is not None else "empty_response"
                    detail = f"{spec.name} ({teacher.model}): {result.error or 'the model returned only whitespace'}"
                    rejects.write(
                        [
                            make_reject(
                                EVAL.name,
                                reason,
                                detail,
                                record_id=request.id,
                                record={"prompt_id": prompt.id, "system": spec.name},
                            )
                        ]
                    )
                    info["rejected"][reason] = info["rejected"].get(reason, 0) + 1
                    continue
                info["responses"] += 1
                info["truncated"] += result.finish_reason == "length"
                out.write(
                    [
                        _response_row(
                            spec,
                            teacher.model,
                            teacher.backend,
                            prompt,
                            request.id,
                            text,
                            result.finish_reason,
                            result.completion_tokens,
                        )
                    ]
                )
    info["wall_s"] = round(time.time() - started, 3)
    atomic_write_json(done, info)
    return info


def _response_row(
    spec: SystemSpec, model: str, backend: str, p: EvalPrompt, rid: str, text: str, finish: str | None, tokens: int
) -> dict[str, Any]:
    return {
        "id": rid,
        "prompt_id": p.id,
        "system": spec.name,
        "model": model,
        "backend": backend,
        "emotion": p.emotion,
        "polarity": p.polarity,
        "source": p.source,
        "context": p.context,
        "reference": p.reference,
        "response": text,
        "finish_reason": finish,
        "completion_tokens": tokens,
        "rating": None,
        "scores": None,
        "judge_failures": None,
        "judge_details": None,
    }


def _examples(rows: list[dict[str, Any]], prompts: list[EvalPrompt], k: int) -> list[dict[str, Any]]:
    by_prompt: dict[str, dict[str, Any]] = {}
    for row in rows:
        failure = dict(row.get("judge_failures") or {}).get("empathy_rating")
        by_prompt.setdefault(row["prompt_id"], {})[row["system"]] = {
            "response": row["response"],
            "rating": row["rating"],
            "judge_failure": failure,
        }
    picked = [p for p in prompts if p.id in by_prompt][:k]
    return [
        {
            "prompt_id": p.id,
            "emotion": p.emotion,
            "context": p.context,
            "reference": p.reference,
            "responses": by_prompt[p.id],
        }
        for p in picked
    ]


def check_accounting(stats: StageStats, systems: dict[str, dict[str, Any]]) -> None:
    """Every prompt ends, per evaluated system, as a response or a reject (a mismatch is a bug, so it raises)."""
    prompts = stats.counters["prompts"]
    for name, info in systems.items():
        if info.get("status") != "evaluated":
            continue
        total = info["responses"] + sum(info["rejected"].values())
        if total != prompts:
            raise RuntimeError(f"eval accounting: {name} has {total} responses + rejects for {prompts} prompts")


def run_evaluate(cfg: RunConfig, *, new_run: bool = False) -> StageStats:
    """Run the eval stage into the run folder (a finished stage is not redone); it ends with report.html
    (`eval.report`)."""
    return run_stage(EVAL, cfg, _evaluate, new_run=new_run)


def _evaluate(cfg: RunConfig, run: RunDir) -> StageStats:
    stats = StageStats(EVAL.name)
    prompts = load_prompts(run, cfg, stats)
    if not prompts:
        raise InputError(
            f"{run.holdout}: no held-out seed can be an evaluation prompt; raise seeds.holdout_fraction (now "
            f"{cfg.seeds.holdout_fraction})"
        )
    systems: dict[str, dict[str, Any]] = {}
    specs = system_specs(cfg)
    steps = len(specs) + 1  # each system answers, then the judge and the metrics score every answer
    with ModelSlot() as slot:  # one model loaded at a time; the judge reuses the teacher when they are the same
        for done, spec in enumerate(specs, start=1):
            report(EVAL.name, done - 1, steps, unit="steps", prompts=len(prompts))
            if spec.section is None:
                log.warning("eval: skipping %s: %s", spec.name, spec.missing)
                systems[spec.name] = {"status": "missing", "note": spec.missing}
                stats.add(f"{spec.name}/missing")
                continue
            info = generate_system(cfg, run, spec, prompts, slot)
            systems[spec.name] = {"status": "evaluated", **info}
            stats.add(f"{spec.name}/responses", info["responses"])
            stats.add(f"{spec.name}/truncated", info["truncated"])
            for reason, n in info["rejected"].items():
                stats.add(f"{spec.name}/rejected/{reason}", n)
        check_accounting(stats, systems)
        rows = [
            row
            for name in systems
            if systems[name]["status"] == "evaluated"
            for row in iter_rows(eval_dir(run) / "responses" / name)
        ]
        report(EVAL.name, steps - 1, steps, unit="steps", responses=len(rows))
        judge_info = score_rows(cfg, rows, stats, slot)
    report(EVAL.name, steps, steps, unit="steps", responses=len(rows))
    shutil.rmtree(eval_dir(run) / "scored", ignore_errors=True)
    with ShardWriter(eval_dir(run) / "scored", EVAL_RESPONSE) as out:
        out.write(rows)
    for name, info in systems.items():
        if info["status"] == "evaluated":
            info.update(summarize_system([r for r in rows if r["system"] == name]))
    result = {
        "version": EVAL_JSON_VERSION,
        "run": cfg.run.name,
        "config_hash": cfg.stage_hash(),
        "rubric_version": cfg.eval.rubric_version,
        "prompts": len(prompts),
        "holdout_seeds": stats.counters["holdout_seeds"],
        "prompts_rejected": stats.by_prefix("prompts_rejected"),
        "sampling": cfg.eval.sampling.model_dump(),
        "judge": judge_info,
        "systems": systems,
        "examples": _examples(rows, prompts, cfg.eval.examples),
    }
    atomic_write_json(run.path("eval.json"), result)
    stats.info = {"systems": {k: v.get("model") or v.get("note") for k, v in systems.items()}, "judge": judge_info}
    log.info(
        "eval: %d prompts x %d systems -> %s",
        len(prompts),
        sum(v["status"] == "evaluated" for v in systems.values()),
        run.path("eval.json"),
    )
    if cfg.eval.report:
        from distill.report import build_report

        build_report(run.root)
    return stats
