"""Planning: deterministic unit ids, sampling seeds and strategy plans; which modes a seed suits; batching."""

from __future__ import annotations

from distill.config import GenerateSection
from distill.generate.plan import UnitBatch, derive_seed, iter_batches, iter_plan, strategy_plan, unit_id
from distill.records import STRATEGIES
from tests.support.seeds import seed_rows


def _units(cfg: GenerateSection, n_seeds: int = 3, teacher: str = "vllm/embedded@default"):
    return [u for u in iter_plan(seed_rows(n_seeds), cfg, teacher) if not isinstance(u, dict)]


def test_plan_is_deterministic_and_ids_are_unique():
    cfg = GenerateSection(modes=["rewrite", "continue", "selfchat"], variants_per_seed=3)
    a, b = _units(cfg), _units(cfg)
    assert [u.id for u in a] == [u.id for u in b]
    assert [(u.strategies, u.sampling_seed) for u in a] == [(u.strategies, u.sampling_seed) for u in b]
    assert len({u.id for u in a}) == len(a)
    assert len({u.sampling_seed for u in a}) == len(a)  # no two units sample alike


def test_rewrite_only_for_single_turn_seeds():
    cfg = GenerateSection(modes=["rewrite", "continue", "selfchat"], variants_per_seed=2)
    units = _units(cfg)
    # seed 0 is a single-turn Q&A (3 modes), seed 1 is multi-turn (2), seed 2 has one seeker line (2)
    assert sorted((u.seed_id, u.mode) for u in units if u.variant == 0) == sorted(
        [
            (s["id"], m)
            for s, modes in zip(
                seed_rows(3), (("rewrite", "continue", "selfchat"), ("continue", "selfchat"), ("continue", "selfchat"))
            )
            for m in modes
        ]
    )
    assert len(units) == 2 * 7


def test_seed_that_no_mode_suits_becomes_a_reject():
    items = list(iter_plan(seed_rows(3)[1:], GenerateSection(modes=["rewrite"]), "t"))
    assert len(items) == 2 and all(isinstance(i, dict) for i in items)
    assert {i["reason"] for i in items} == {"no_applicable_mode"}
    assert "rewrite: not_single_turn" in items[0]["detail"]


def test_ids_change_with_each_identity_part():
    base = unit_id("s", "continue", 0, "v1", "vllm/m@x")
    others = [
        unit_id("s2", "continue", 0, "v1", "vllm/m@x"),
        unit_id("s", "selfchat", 0, "v1", "vllm/m@x"),
        unit_id("s", "continue", 1, "v1", "vllm/m@x"),
        unit_id("s", "continue", 0, "v2", "vllm/m@x"),
        unit_id("s", "continue", 0, "v1", "openai/m@x"),
    ]
    assert base not in others and len(set(others)) == len(others)
    assert derive_seed(base, 0) != derive_seed(base, 1)
    assert 0 <= derive_seed(base, 0) < 2**31


def test_strategy_plans_are_distinct_draws_from_the_six():
    plans = {strategy_plan(unit_id("s", "selfchat", v, "v1", "t"), 3) for v in range(40)}
    assert len(plans) > 10
    for plan in plans:
        assert len(set(plan)) == 3 and set(plan) <= set(STRATEGIES)


def test_batches_are_consecutive_and_complete():
    cfg = GenerateSection(modes=["continue", "selfchat"], variants_per_seed=2)
    units = _units(cfg, n_seeds=5)
    batches = [b for b in iter_batches(iter_plan(seed_rows(5), cfg, "t"), 3) if isinstance(b, UnitBatch)]
    assert [b.index for b in batches] == list(range(len(batches)))
    assert [u.id for b in batches for u in b.units] == [u.id for u in _units(cfg, n_seeds=5, teacher="t")]
    assert all(len(b.units) == 3 for b in batches[:-1]) and 1 <= len(batches[-1].units) <= 3
    assert batches[0].name == "units-000000"
    assert len(units) == 20
