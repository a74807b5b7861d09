"""Models that ship their own Python code are refused unless the config trusts them: loading one would run that code.

transformers already refuses such code when `trust_remote_code` is false, but with an error about a keyword argument
(or, from the tokenizer, an unrelated one about sentencepiece); this check names the folder and the config field first.
"""

from __future__ import annotations

import json
from pathlib import Path

from distill.errors import ConfigError, InputError


def check_remote_code(model: str | Path, trust: bool, field: str) -> None:
    """Raise ConfigError if the local model folder `model` needs its own code (auto_map, unknown model_type) and
    `trust` is off."""
    config = Path(model) / "config.json"
    if trust or not config.is_file():
        return  # a hub id: transformers refuses remote code itself when trust_remote_code is false
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{config}: not a readable JSON model config: {exc}") from None
    from transformers import CONFIG_MAPPING

    auto_map = data.get("auto_map") if isinstance(data, dict) else None
    if (
        auto_map and data.get("model_type") not in CONFIG_MAPPING
    ):  # a known model_type loads with transformers' own code
        raise ConfigError(
            f"{Path(model)} needs its own Python code to load (config.json auto_map: {', '.join(sorted(auto_map))}); "
            f"it is not run unless you set {field}=true, which you should do only for a model whose code you have read"
        )
