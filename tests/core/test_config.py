"""Config: every YAML in the repo loads; overrides apply; unknown keys and bad values name the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from distill.config import RunConfig, load_config
from distill.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
# Run configs are every YAML except the cluster manifests (Kubernetes/Ray objects, tests/cluster) and the
# deliberately broken configs of the bad-input corpus (tests/test_bad_inputs.py).
RUN_CONFIGS = sorted(
    p
    for p in REPO.rglob("*.y*ml")
    if p.suffix in (".yaml", ".yml")
    and not any(part in {".venv", "runs", "cluster", ".git", "bad_inputs"} for part in p.parts)
)


def test_there_are_run_configs() -> None:
    assert any(p.name == "demo.yaml" for p in RUN_CONFIGS)


@pytest.mark.parametrize("path", RUN_CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_config_in_the_repo_loads(path: Path) -> None:
    raw = yaml.safe_load(path.read_text())
    cfg = load_config(path)
    assert isinstance(cfg, RunConfig)
    # Every key written in the file is a real field (extra keys would have raised) and survives loading.
    for section, values in (raw or {}).items():
        assert section in RunConfig.model_fields
        if isinstance(values, dict):
            dumped = getattr(cfg, section).model_dump()
            assert set(values) <= set(dumped)
    assert path.read_text().startswith("#"), "configs open with a comment giving purpose and launch command"


def test_packaged_name_resolves() -> None:
    assert load_config("demo").run.name == "demo"


def test_overrides_apply_with_yaml_typing() -> None:
    cfg = load_config(
        "demo", ["generate.variants_per_seed=4", "teacher.enforce_eager=false", "generate.modes=[rewrite]"]
    )
    assert (
        cfg.generate.variants_per_seed == 4 and cfg.teacher.enforce_eager is False and cfg.generate.modes == ["rewrite"]
    )


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("seeds.sorces=[]", "seeds.sorces: unknown key"),
        ("generate.variants_per_seed=0", "generate.variants_per_seed: Input should be greater than or equal to 1"),
        ("teacher.backend=llamacpp", "teacher.backend: Input should be"),
        ("run.name=../escape", "run.name: String should match pattern"),
        ("seeds.sources=[{path: a.jsonl, hub: x/y}]", "seeds.sources.0: Value error, exactly one of `path` or `hub`"),
        ("novalue", "is not key=value"),
    ],
)
def test_bad_values_name_the_field(override: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config("demo", [override])
    assert needle in str(info.value)


def test_unknown_key_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("# bad\ngenerate:\n  variants_per_sed: 2\n")
    with pytest.raises(ConfigError, match=r"generate.variants_per_sed: unknown key"):
        load_config(path)
    path.write_text("- a list\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(path)


def test_stage_hash_tracks_only_named_sections() -> None:
    a = load_config("demo")
    b = load_config("demo", ["train.learning_rate=0.1"])
    assert a.stage_hash("seeds", "generate") == b.stage_hash("seeds", "generate")
    assert a.stage_hash() != b.stage_hash()


def test_cli_config_error_is_one_line_exit_2() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "distill.cli", "config", "show", "-c", "demo", "generate.variants_per_sed=2"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "generate.variants_per_sed: unknown key" in out.stderr and "Traceback" not in out.stderr
