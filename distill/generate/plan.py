"""Planning: seeds -> work units with deterministic ids, strategy plans and sampling seeds, grouped into unit batches.

Planning is a pure function of (seeds in shard order, config): the same run folder always yields the same units in the
same batches, which is what makes resume exactly-once. A unit is one dialogue to synthesize; its id is the dialogue id.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from distill.config import GenerateSection
from distill.records import SCHEMA_VERSION, STRATEGIES, make_id, make_reject
from distill.stages import GENERATE

PLAN = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("batch", pa.int64(), nullable=False),
        pa.field("seed_id", pa.string(), nullable=False),
        pa.field("mode", pa.string(), nullable=False),
        pa.field("variant", pa.int32(), nullable=False),
        pa.field("strategies", pa.list_(pa.string())),
        pa.field("sampling_seed", pa.int64()),
    ],
    metadata={b"distill.kind": b"plan_unit", b"distill.schema_version": SCHEMA_VERSION.encode()},
)


@dataclass(frozen=True)
class WorkUnit:
    id: str
    seed_id: str
    mode: str
    variant: int
    prompt_version: str
    strategies: tuple[str, ...]
    sampling_seed: int
    language: str | None
    emotion: str | None
    situation: str | None
    seed_messages: tuple[tuple[str, str], ...] = field(repr=False)  # (role, content): hashable and compact
    source: str | None = None  # the seed's source and licence, carried onto the dialogue (lineage)
    license: str | None = None

    @property
    def messages(self) -> list[dict[str, str]]:
        return [{"role": r, "content": c} for r, c in self.seed_messages]

    def plan_row(self, batch: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "batch": batch,
            "seed_id": self.seed_id,
            "mode": self.mode,
            "variant": self.variant,
            "strategies": list(self.strategies),
            "sampling_seed": self.sampling_seed,
        }


@dataclass(frozen=True)
class UnitBatch:
    index: int
    units: tuple[WorkUnit, ...]

    @property
    def name(self) -> str:
        return f"units-{self.index:06d}"


def derive_seed(*parts: object) -> int:
    """A sampling seed from a record id (+ round): reruns reproduce, and no two requests share one. < 2**31 for every
    server."""
    return int(make_id("sampling", *parts), 16) % (2**31 - 1)


def unit_id(seed_id: str, mode: str, variant: int, prompt_version: str, teacher: str) -> str:
    return make_id(seed_id, mode, variant, prompt_version, teacher)


def strategy_plan(unit: str, k: int) -> tuple[str, ...]:
    """k distinct strategies in a deterministic order drawn from the unit id."""
    return tuple(random.Random(int(unit, 16)).sample(STRATEGIES, k))


def conversation_of(seed: dict[str, Any]) -> list[dict[str, str]]:
    return [m for m in seed["messages"] if m["role"] in ("user", "assistant")]


def not_applicable(mode: str, seed: dict[str, Any]) -> str | None:
    """Why `mode` cannot use `seed` (snake_case), or None when it can."""
    turns = conversation_of(seed)
    if mode == "rewrite":
        if [m["role"] for m in turns] != ["user", "assistant"]:
            return "not_single_turn"
    elif mode == "continue":
        if not turns:
            return "no_turns"
    elif mode == "selfchat":
        if not (seed.get("situation") or seed.get("emotion") or any(m["role"] == "user" for m in turns)):
            return "no_situation"
    return None


def situation_of(seed: dict[str, Any]) -> str | None:
    """What the selfchat seeker is going through: the seed's situation, else its first seeker turn."""
    if seed.get("situation"):
        return seed["situation"]
    first = next((m["content"] for m in conversation_of(seed) if m["role"] == "user"), None)
    return first or (f"Something made me feel {seed['emotion']}." if seed.get("emotion") else None)


def iter_plan(
    seeds: Iterable[dict[str, Any]], cfg: GenerateSection, teacher: str
) -> Iterator[WorkUnit | dict[str, Any]]:
    """Work units in a deterministic order; a seed no configured mode can use yields a reject row instead."""
    for seed in seeds:
        usable = 0
        why: list[str] = []
        for mode in cfg.modes:
            reason = not_applicable(mode, seed)
            if reason is not None:
                why.append(f"{mode}: {reason}")
                continue
            usable += 1
            messages = tuple((m["role"], m["content"]) for m in seed["messages"])
            for variant in range(cfg.variants_per_seed):
                uid = unit_id(seed["id"], mode, variant, cfg.prompt_version, teacher)
                yield WorkUnit(
                    id=uid,
                    seed_id=seed["id"],
                    mode=mode,
                    variant=variant,
                    prompt_version=cfg.prompt_version,
                    strategies=strategy_plan(uid, cfg.strategies_per_plan),
                    sampling_seed=derive_seed(uid),
                    language=seed.get("language"),
                    emotion=seed.get("emotion"),
                    situation=situation_of(seed),
                    seed_messages=messages,
                    source=seed.get("source"),
                    license=seed.get("license"),
                )
        if not usable:
            yield make_reject(
                GENERATE.name,
                "no_applicable_mode",
                f"seed {seed['id']} suits none of the modes {cfg.modes} ({'; '.join(why)})",
                record={k: seed.get(k) for k in ("id", "source", "emotion", "situation", "messages")},
            )


def iter_batches(
    plan: Iterable[WorkUnit | dict[str, Any]], units_per_batch: int
) -> Iterator[UnitBatch | dict[str, Any]]:
    """Consecutive units grouped into batches of `units_per_batch`; reject rows pass through."""
    buffer: list[WorkUnit] = []
    index = 0
    for item in plan:
        if isinstance(item, dict):
            yield item
            continue
        buffer.append(item)
        if len(buffer) == units_per_batch:
            yield UnitBatch(index, tuple(buffer))
            index, buffer = index + 1, []
    if buffer:
        yield UnitBatch(index, tuple(buffer))
