"""trust_remote_code stays off unless a config asks: a model folder whose own Python code would write a marker file
is refused by the teacher backend and the student loader with an error naming the config field, and its code never runs.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from distill.config import TeacherSection, TrainSection, load_config
from distill.errors import ConfigError


def write_custom_code(folder: Path, marker: Path) -> None:
    """A module that, if imported, leaves `marker` behind (and defines the config class its auto_map names)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "marker_code.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('remote code ran')\n"
        "from transformers import PretrainedConfig\n\n\nclass MarkerConfig(PretrainedConfig):\n    model_type = "
        "'marker_lm'\n"
    )


@pytest.fixture
def custom_model(tmp_path: Path) -> tuple[Path, Path]:
    """(folder, marker): a model folder that can only be loaded by running its own marker_code.py."""
    folder, marker = tmp_path / "custom-model", tmp_path / "marker"
    write_custom_code(folder, marker)
    auto_map = {"AutoConfig": "marker_code.MarkerConfig", "AutoModelForCausalLM": "marker_code.MarkerLM"}
    (folder / "config.json").write_text(
        json.dumps({"model_type": "marker_lm", "architectures": ["MarkerLM"], "auto_map": auto_map})
    )
    return folder, marker


def test_the_fixture_code_really_runs_when_trusted(custom_model):
    # Without this, "the marker is absent" below could pass because the planted code was broken.
    from transformers import AutoConfig

    folder, marker = custom_model
    AutoConfig.from_pretrained(folder, trust_remote_code=True)
    assert marker.read_text() == "remote code ran"


def test_transformers_teacher_refuses_a_model_that_needs_its_own_code(custom_model):
    from distill.teachers.transformers_backend import TransformersTeacher

    folder, marker = custom_model
    with pytest.raises(ConfigError, match=r"needs its own Python code .* teacher\.trust_remote_code=true") as err:
        TransformersTeacher(TeacherSection(backend="transformers", model=str(folder)))
    assert str(folder) in str(err.value)
    assert not marker.exists(), "the model's own code ran"


def test_student_loader_refuses_a_model_that_needs_its_own_code(custom_model):
    from train.runtime import load_student, load_tokenizer

    folder, marker = custom_model
    for load in (load_tokenizer, load_student):
        with pytest.raises(ConfigError, match=r"train\.trust_remote_code=true"):
            load(TrainSection(student=str(folder)))
    assert not marker.exists(), "the model's own code ran"


def test_a_known_architecture_with_an_auto_map_loads_without_running_its_code(tmp_path):
    """Many hub models keep a stale auto_map beside a model_type transformers knows: they load, with transformers'
    code."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from distill.embedded import embedded_model_dir
    from distill.teachers.transformers_backend import TransformersTeacher

    folder, marker = tmp_path / "llama-with-auto-map", tmp_path / "marker"
    tokenizer = AutoTokenizer.from_pretrained(embedded_model_dir())
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=1,
        num_attention_heads=1,
        num_key_value_heads=1,
        head_dim=64,
        max_position_embeddings=256,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    write_custom_code(folder, marker)
    data = json.loads((folder / "config.json").read_text())
    data["auto_map"] = {"AutoConfig": "marker_code.MarkerConfig", "AutoModelForCausalLM": "marker_code.MarkerLM"}
    (folder / "config.json").write_text(json.dumps(data))

    teacher = TransformersTeacher(TeacherSection(backend="transformers", model=str(folder), dtype="float32"))
    assert type(teacher.lm).__name__ == "LlamaForCausalLM"
    assert not marker.exists(), "the model's own code ran"


def packaged_configs() -> list[Path]:
    return sorted(Path(str(resources.files("distill") / "configs")).rglob("*.yaml"))


def test_every_packaged_config_keeps_trust_remote_code_off():
    assert len(packaged_configs()) >= 5
    for path in [None, *packaged_configs()]:
        cfg = load_config(path)
        sections = {"teacher": cfg.teacher, "train": cfg.train, "eval.judge_teacher": cfg.eval.judge_teacher}
        for name, section in sections.items():
            assert section is None or section.trust_remote_code is False, (
                f"{path or 'defaults'}: {name}.trust_remote_code is on"
            )
