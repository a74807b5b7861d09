"""generate.style: whole through the whole stage: a strong teacher behind a real loopback chat-completions server that
answers each request with the dialogue its JSON schema asks for, and the dryrun teacher, which never writes JSON."""

from __future__ import annotations

import json
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any

from distill.generate import run_generate
from distill.run_dir import RunDir
from distill.shards import iter_rows
from tests.support.loopback import LoopbackServer, chat_completion, send_json, usage
from tests.support.seeds import write_seeds


def answer_to(schema: dict[str, Any], seed: int) -> dict[str, Any]:
    """A reply that follows the dialogue schema it was sent: what a teacher under strict `json_schema` returns."""
    strategy = schema["properties"]["exchanges"]["items"]["properties"]["strategy"]["enum"][seed % 6]
    n = schema["properties"]["exchanges"]["minItems"]
    reply: dict[str, Any] = {}
    if "reply" in schema["properties"]:
        reply["reply"] = {"strategy": strategy, "supporter": f"That sounds hard ({seed})."}
    reply["exchanges"] = [
        {
            "seeker": f"It is, part {i} ({seed}).",
            "strategy": strategy,
            "supporter": f"Tell me more about part {i} ({seed}).",
        }
        for i in range(n)
    ]
    return reply


class SchemaFollowingServer(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[dict[str, Any]] = []

    def handle(self, h: BaseHTTPRequestHandler, method: str, raw: bytes) -> None:
        body = json.loads(raw)
        self.bodies.append(body)
        content = json.dumps(answer_to(body["response_format"]["json_schema"]["schema"], int(body["seed"])))
        # 256 of the 300 prompt tokens cached, as OpenAI reports its prompt cache
        tokens = usage(300, len(content) // 4, prompt_tokens_details={"cached_tokens": 256})
        send_json(h, 200, chat_completion(body["model"], content, usage=tokens, completion_id="chatcmpl-whole"))


def test_one_request_per_dialogue_under_its_schema_and_every_unit_written_once(make_cfg, monkeypatch):
    monkeypatch.setenv("DISTILL_TEST_API_KEY", "sk-test")
    with SchemaFollowingServer() as server:
        cfg = make_cfg(
            "teacher.backend=openai",
            "teacher.model=strong-model",
            f"teacher.base_url={server.base_url}",
            "teacher.api_key_env=DISTILL_TEST_API_KEY",
            "generate.modes=[rewrite,continue,selfchat]",
            "generate.style=whole",
            "generate.selfchat_turns=8",
            "generate.rewrite_turns=8",
            "generate.continue_turns=4",
            "generate.units_per_shard=4",
        )
        seeds = {s["id"]: s for s in write_seeds(cfg, 3)}
        stats = run_generate(cfg)
        assert run_generate(cfg).counters["dialogues"] == stats.counters["dialogues"]  # a rerun asks nothing again
        bodies = list(server.bodies)
    run = RunDir(cfg)
    plan = {r["id"]: r for r in iter_rows(run.plan)}
    dialogues = list(iter_rows(run.generated))
    assert sorted(d["id"] for d in dialogues) == sorted(plan) and len(plan) == 3 + 2 + 2  # rewrite suits one seed
    c = stats.counters
    assert c["units_planned"] == c["dialogues"] == c["requests"] == len(bodies) == 7 and c["rejected"] == 0
    assert c["tokens/prompt"] == 300 * 7 and c["tokens/prompt_cached"] == 256 * 7  # the endpoint's cache is counted too
    assert stats.info["prefix_cache_hit_rate"] == round(256 / 300, 4)
    assert all(b["response_format"]["json_schema"]["strict"] for b in bodies)
    assert len({b["seed"] for b in bodies}) == len(bodies)  # each dialogue's one request has its own seed
    for d in dialogues:
        roles = [m["role"] for m in d["messages"]]
        assert roles[0] == "user" and roles[-1] == "assistant" and all(a != b for a, b in zip(roles, roles[1:])), roles
        seed_turns = len(seeds[d["seed_id"]]["messages"])
        # as turn by turn: rewrite and selfchat 8 messages; continue 4 more than the seed (1, 2 or 4), ending on the
        # supporter
        expected = 8 if d["mode"] != "continue" else seed_turns + 4 + (seed_turns + 4) % 2
        assert len(roles) == expected, (d["mode"], seed_turns, roles)
        if d["mode"] != "selfchat":
            assert d["messages"][0] == seeds[d["seed_id"]]["messages"][0]  # the seed's own post opens it
        assert d["sampling"]["seed"] == plan[d["id"]]["sampling_seed"]


def test_a_teacher_without_structured_output_ends_every_whole_unit_as_a_reasoned_reject(make_cfg):
    """dryrun never writes JSON: the whole-style mode's units are all rejects with the rule they broke; the turn-by-turn
    mode beside it is unaffected, and every unit is accounted for."""
    cfg = make_cfg(
        "teacher.backend=dryrun",
        "teacher.placement=local",
        "generate.modes=[continue,selfchat]",
        "generate.style={selfchat: whole}",
        "generate.units_per_shard=3",
    )
    write_seeds(cfg, 4)
    stats = run_generate(cfg)
    run = RunDir(cfg)
    rejects = list(iter_rows(run.rejects("generate")))
    generated = list(iter_rows(run.generated))
    c = stats.counters
    assert c["units_planned"] == c["dialogues"] + c["rejected"] == len(generated) + len(rejects) == 8
    assert Counter(d["mode"] for d in generated) == {"continue": 4}
    assert Counter(r["reason"] for r in rejects) == {"unparseable_output": 4} and c["rejected/unparseable_output"] == 4
    assert all(json.loads(r["record"])["mode"] == "selfchat" and "not_json" in r["detail"] for r in rejects)
