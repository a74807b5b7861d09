"""Emotion inference for unlabelled seeds: prompt, reply parsing and metadata as pure functions; the step in the seeds
stage with a real classifier folder (the bundled MiniLM with a fresh 32-label head: mechanics, not quality) and the
dryrun teacher (whose filler is never a label); resume after a crash asks only for what was not answered."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from distill.batch_state import BatchState
from distill.config import load_config
from distill.emotions import EMOTIONS
from distill.errors import ConfigError, InputError
from distill.judging.verdict import VerdictError
from distill.run_dir import RunDir
from distill.seeds.emotion_inference import (
    EMOTION_SCHEMA,
    ClassifierLabeller,
    Inference,
    emotion_request,
    infer_seed_emotions,
    inference_of,
    load_emotion_prompt,
    mark_inferred,
    parse_emotion_reply,
    seed_text,
)
from distill.seeds.stage import load_seeds
from distill.stages import SEEDS
from distill.stats import StageStats
from distill.teachers.base import TeacherResult
from tests.support.chat_seeds import all_seeds, chat_seeds_config, write_chats

SEED = {
    "id": "abc123",
    "situation": "My flight was cancelled twice.",
    "messages": [
        {"role": "system", "content": "be kind"},
        {"role": "user", "content": "I have been stuck at the airport for ten hours."},
        {"role": "assistant", "content": "That sounds exhausting."},
    ],
}


@pytest.fixture(scope="module")
def classifier(tmp_path_factory) -> Path:
    """An HF text-classification folder: the bundled MiniLM with a fresh (seeded) head over the 32 labels."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from distill.embedded import minilm_dir

    out = tmp_path_factory.mktemp("emotion-classifier") / "model"
    torch.manual_seed(0)
    labels = dict(enumerate(EMOTIONS))
    model = AutoModelForSequenceClassification.from_pretrained(
        minilm_dir(),
        num_labels=len(labels),
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
        local_files_only=True,
    )
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(minilm_dir(), local_files_only=True).save_pretrained(out)
    return out


def relabelled(classifier: Path, folder: Path, id2label: dict[int, str]) -> Path:
    """The same weights under other label names (links, not copies)."""
    folder.mkdir()
    for f in classifier.iterdir():
        if f.name != "config.json":
            (folder / f.name).symlink_to(f)
    cfg = json.loads((classifier / "config.json").read_text())
    cfg["id2label"] = {str(k): v for k, v in id2label.items()}
    cfg["label2id"] = {v: k for k, v in id2label.items()}
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


# -- pure
# ----------------------------------------------------------------------------------------------------------------


def test_request_constrains_the_reply_to_the_32_labels_and_is_the_same_on_every_rerun() -> None:
    prompt = load_emotion_prompt("v1")
    request = emotion_request(SEED, prompt, "v1", 32)
    assert request.response_schema == EMOTION_SCHEMA
    assert EMOTION_SCHEMA["properties"]["emotion"]["enum"] == list(EMOTIONS)
    system, user = request.messages
    assert all(e in system["content"] for e in EMOTIONS) and "$" not in system["content"] + user["content"]
    assert (
        "Situation: My flight was cancelled twice." in user["content"]
        and "Seeker: I have been stuck" in user["content"]
    )
    assert "be kind" not in user["content"]  # the seed's system prompt is not the seeker's words
    assert request.sampling.temperature == 0.0 and request == emotion_request(SEED, prompt, "v1", 32)
    assert emotion_request({**SEED, "id": "other"}, prompt, "v1", 32).id != request.id


def test_long_seeds_are_cut_before_they_reach_the_prompt() -> None:
    long = {**SEED, "messages": [{"role": "user", "content": "word " * 5000}]}
    assert len(seed_text(long, max_chars=500)) <= 504


def test_missing_prompt_version_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="seeds.infer_emotion_prompt"):
        load_emotion_prompt("v999")


@pytest.mark.parametrize(
    ("reply", "label"),
    [
        ('{"emotion": "sad"}', "sad"),
        ('{"emotion": "Anxiety"}', "anxious"),  # through the alias table
        ('<think>maybe {angry}</think>\n```json\n{"emotion": "lonely"}\n```', "lonely"),
        ("Grateful.", "grateful"),  # a bare label from a backend without structured output
        ("The Seeker feels lonely, I think.", "lonely"),  # free text naming exactly one label
    ],
)
def test_replies_parse_to_canonical_labels(reply: str, label: str) -> None:
    assert parse_emotion_reply(reply) == label


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ('{"emotion": "melancholy"}', "judge_invalid_field"),
        ('{"emotion": 3}', "judge_invalid_field"),
        ("I think they feel bad", "judge_unparseable"),
        ("Either sad or angry.", "judge_unparseable"),  # two labels: no answer rather than a pick
    ],
)
def test_replies_naming_no_label_fail_with_a_reason_instead_of_a_guess(reply: str, reason: str) -> None:
    with pytest.raises(VerdictError) as info:
        parse_emotion_reply(reply)
    assert info.value.reason == reason


def test_teacher_errors_and_truncation_are_told_apart() -> None:
    assert inference_of(TeacherResult("r", None, None, error="timeout")).failure == "judge_failed"
    assert inference_of(TeacherResult("r", '{"emo', "length")).failure == "judge_truncated"
    assert inference_of(TeacherResult("r", '{"emotion": "proud"}', "stop")) == Inference("proud")


def test_the_source_is_added_to_the_seed_metadata() -> None:
    source = {"by": "teacher:vllm/embedded@default", "prompt": "v1"}
    assert json.loads(mark_inferred('{"source_id": 7}', source)) == {"source_id": 7, "emotion_inferred": source}
    assert (
        json.loads(mark_inferred(None, source, "judge_unparseable"))["emotion_inferred"]["failure"]
        == "judge_unparseable"
    )


def test_the_seeds_stage_depends_on_the_teacher_only_when_the_teacher_labels(tmp_path: Path) -> None:
    off = load_config(None, [])
    teacher = load_config(None, ["seeds.infer_emotion=teacher"])
    assert SEEDS.config_sections(off) == ("seeds",) and SEEDS.config_sections(teacher) == ("seeds", "teacher")
    other = load_config(None, ["seeds.infer_emotion=teacher", "teacher.model=other/model"])
    assert teacher.stage_hash(*SEEDS.config_sections(teacher)) != other.stage_hash(*SEEDS.config_sections(other))


def test_state_of_another_labeller_is_refused(tmp_path: Path) -> None:
    BatchState(tmp_path / "s", "by=teacher:a").add_batch([{"id": "x", "emotion": "sad"}], [])
    assert BatchState(tmp_path / "s", "by=teacher:a").labelled == {"x": {"id": "x", "emotion": "sad"}}
    with pytest.raises(InputError, match="labelled by by=teacher:a, not by=teacher:b"):
        BatchState(tmp_path / "s", "by=teacher:b")
    (tmp_path / "s" / "batch-000002.json").write_text("{")
    with pytest.raises(InputError, match="batch-000002.json: unreadable label state"):
        BatchState(tmp_path / "s", "by=teacher:a")


# -- the step in the seeds stage
# -----------------------------------------------------------------------------------------


def test_off_by_default_leaves_seeds_as_loaded(tmp_path: Path) -> None:
    cfg = chat_seeds_config(tmp_path, write_chats(tmp_path / "c.jsonl", 3))
    stats = load_seeds(cfg)
    assert not stats.by_prefix("emotion_inference") and stats.counters["emotion/none"] == 3
    assert not RunDir(cfg).emotion_inference.exists()
    seeds = all_seeds(cfg)
    assert seeds and all("emotion_inferred" not in json.loads(s["metadata"]) for s in seeds)


def test_the_classifier_labels_every_unlabelled_seed_and_leaves_known_labels_alone(
    tmp_path: Path, classifier: Path
) -> None:
    chats = write_chats(tmp_path / "c.jsonl", 7, ("joyful", "sad"))
    cfg = chat_seeds_config(tmp_path, chats, f"seeds.infer_emotion={classifier}", "seeds.infer_emotion_batch_size=3")
    c = load_seeds(cfg).counters
    seeds = all_seeds(cfg)
    assert (c["emotion_inference/unlabelled"], c["emotion_inference/labelled"], c["emotion_inference/failed"]) == (
        7,
        7,
        0,
    )
    assert c["emotion_inference/asked_this_run"] == 7 and c["emotion_inference/reused"] == 0
    assert all(s["emotion"] in EMOTIONS for s in seeds) and len(seeds) == 9
    inferred = [s for s in seeds if "emotion_inferred" in json.loads(s["metadata"])]
    assert len(inferred) == 7 and {json.loads(s["metadata"])["emotion_inferred"]["by"] for s in inferred} == {
        f"classifier:{classifier}"
    }
    # emotion/* describes the shards as written: the known labels plus the inferred ones, nothing left as none.
    assert "emotion/none" not in c and sum(c[f"emotion/{e}"] for e in EMOTIONS) == 9
    assert len(list(RunDir(cfg).emotion_inference.glob("batch-*.json"))) == 3


def test_classifier_labels_outside_the_32_are_counted_failures(tmp_path: Path, classifier: Path) -> None:
    only_sad = relabelled(
        classifier, tmp_path / "sad-or-neutral", {i: ("sad" if i == 0 else "neutral") for i in range(32)}
    )
    c = load_seeds(
        chat_seeds_config(tmp_path, write_chats(tmp_path / "c.jsonl", 5), f"seeds.infer_emotion={only_sad}")
    ).counters
    assert c["emotion_inference/labelled"] + c["emotion_inference/failed/classifier_unmapped_label"] == 5
    assert c.get("emotion/sad", 0) == c["emotion_inference/labelled"]
    none_map = relabelled(classifier, tmp_path / "neutral", dict.fromkeys(range(32), "neutral"))
    with pytest.raises(ConfigError, match="none of its labels"):
        ClassifierLabeller(str(none_map))
    with pytest.raises(ConfigError, match="is not 'off', 'teacher' or a local model folder"):
        ClassifierLabeller(str(tmp_path / "missing"))


class DiesAfter:
    """The real classifier labeller, failing like a lost engine once `batches` batches were answered."""

    in_flight = 1

    def __init__(self, inner: ClassifierLabeller, batches: int) -> None:
        self.inner, self.left = inner, batches

    def submit(self, seeds):
        if self.left == 0:
            raise RuntimeError("engine died")
        self.left -= 1
        return self.inner.submit(seeds)

    def collect(self, future):
        return self.inner.collect(future)


def test_a_rerun_after_a_crash_asks_only_for_the_seeds_not_answered(tmp_path: Path, classifier: Path) -> None:
    chats = write_chats(tmp_path / "c.jsonl", 8)
    cfg = chat_seeds_config(tmp_path, chats, f"seeds.infer_emotion={classifier}", "seeds.infer_emotion_batch_size=3")
    run = RunDir(cfg)
    load_seeds(chat_seeds_config(tmp_path, chats))  # the seeds on disk, as the stage writes them before it labels
    run.path("stages", "seeds.json").unlink()  # ...and the stage not done, as after a crash in the step
    with pytest.raises(RuntimeError, match="engine died"):
        infer_seed_emotions(
            cfg, run, StageStats("seeds"), labeller=DiesAfter(ClassifierLabeller(str(classifier)), batches=1)
        )
    first = BatchState(run.emotion_inference, f"by=classifier:{classifier}").labelled
    assert len(first) == 3
    c = load_seeds(cfg).counters
    assert (c["emotion_inference/asked_this_run"], c["emotion_inference/reused"], c["emotion_inference/labelled"]) == (
        5,
        3,
        8,
    )
    assert {s["id"]: s["emotion"] for s in all_seeds(cfg) if s["id"] in first} == {
        k: v["emotion"] for k, v in first.items()
    }
    run.discard_stage(SEEDS)  # --new-run: the answers go with the seeds
    assert not run.emotion_inference.exists()


def test_teacher_replies_that_name_no_label_leave_the_seed_unlabelled_with_the_reason(tmp_path: Path) -> None:
    cfg = chat_seeds_config(
        tmp_path,
        write_chats(tmp_path / "c.jsonl", 4),
        "seeds.infer_emotion=teacher",
        "teacher.backend=dryrun",
        "teacher.placement=local",
    )
    c = load_seeds(cfg).counters
    assert c["emotion_inference/failed/judge_unparseable"] == c["emotion_inference/unlabelled"] == 4
    assert c["emotion/none"] == 4 and c["emotion/joyful"] == 1
    unlabelled = [json.loads(s["metadata"])["emotion_inferred"] for s in all_seeds(cfg) if s["emotion"] is None]
    assert unlabelled == [{"by": "teacher:dryrun/embedded@default", "prompt": "v1", "failure": "judge_unparseable"}] * 4


class Unserved:
    """A teacher whose every request fails (an endpoint down): nothing it says is the model's answer."""

    in_flight = 2

    def submit(self, seeds):
        return ThreadPoolExecutor(1).submit(lambda: len(seeds))

    def collect(self, future):
        return [Inference(None, "judge_failed", "connection refused")] * future.result()


def test_requests_the_teacher_could_not_serve_are_counted_but_asked_again_next_time(tmp_path: Path) -> None:
    chats = write_chats(tmp_path / "c.jsonl", 5)
    load_seeds(chat_seeds_config(tmp_path, chats))
    cfg = chat_seeds_config(tmp_path, chats, "seeds.infer_emotion=teacher", "seeds.infer_emotion_batch_size=2")
    stats = StageStats("seeds")
    infer_seed_emotions(cfg, RunDir(cfg), stats, labeller=Unserved())
    assert (
        stats.counters["emotion_inference/failed/judge_failed"]
        == stats.counters["emotion_inference/asked_this_run"]
        == 5
    )
    state = BatchState(RunDir(cfg).emotion_inference, "by=teacher:vllm/embedded@default|prompt=v1")
    assert state.batches == 3 and not state.labelled and not state.failed
