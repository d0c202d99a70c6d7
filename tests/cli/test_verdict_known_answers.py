"""Known-answer tests: the whole decision scripted through `python -m workbench ...` subprocesses
against the simulator, on scenarios whose right verdict is known in advance.

The simulator answers deterministically (README, "How simulated models answer"): a fine-tuned
model answers like its most similar trained prompt at word overlap (Jaccard) >= 0.5; any model
given few-shot examples answers like the most similar example at >= 0.5; otherwise a generic line.
So the scenarios are built from queue codes nobody can guess:

- training rows:  "Route: parcel <w1> <w2> <w3> stuck"   -> "R-4000" (three words unique per row)
- held-out tests: "parcel <w1> <w2> <w3> delayed"        -> "R-4000" (library, split test), which
  the template renders as "Route: parcel <w1> <w2> <w3> delayed": overlap 5/7 with its own training
  row, at most 2/10 with any other. A rephrasing, not a copy: the test rows are never trained on.

(a) the fine-tuned model wins on quality: few-shot sends three unrelated examples (tag:generic), so
    only the fine-tuned model knows the codes;
(b) few-shot matches it and is cheaper: few-shot-similar (similar:1) sends, per request, the
    library example most like the input (BM25), which carries the code; fewer tokens at base rates
    than the fine-tuned model's ft: rates, and no training;
(c) too thin: the same winner on a 5-item held-out set is inconclusive (fewer than 20 items).

Scorer: exact. Approaches: (a) zero-shot, few-shot, fine-tuned; (b) zero-shot, few-shot-similar,
fine-tuned; (c) zero-shot, fine-tuned.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MODEL = "gpt-4.1-mini-2025-04-14"
WORDS = [
    "amber",
    "basil",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "garnet",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lagoon",
    "meadow",
    "nectar",
    "onyx",
    "pepper",
    "quartz",
    "raven",
    "saffron",
    "tundra",
    "umber",
    "violet",
    "willow",
    "xenon",
    "yarrow",
    "zephyr",
    "anchor",
    "beacon",
    "canyon",
    "dune",
    "falcon",
    "glacier",
    "hazel",
    "island",
    "jasper",
    "kelp",
    "lotus",
    "marble",
    "nova",
    "orchid",
    "pebble",
    "quill",
    "reef",
    "sierra",
    "thistle",
    "uplands",
    "vortex",
    "walnut",
    "yonder",
    "zinnia",
    "acorn",
    "bramble",
    "cobalt",
    "dahlia",
    "echo",
    "fennel",
    "grove",
    "heron",
    "ivy",
    "jade",
    "koi",
    "lichen",
    "maple",
    "nutmeg",
    "olive",
    "plum",
    "rowan",
    "sorrel",
    "tansy",
    "vetch",
    "wren",
    "birch",
    "clover",
    "drift",
]
N = 20  # the fewest items a verdict may conclude on (core.evaluation.scoring.MIN_EVAL_ITEMS)
TEMPLATE = "Route: {{input}}"


def rows() -> list[tuple[str, str, str]]:
    """(trained input, held-out rephrasing, code) per parcel."""
    out = []
    for i in range(N):
        w = " ".join(WORDS[3 * i : 3 * i + 3])
        out.append((f"parcel {w} stuck", f"parcel {w} delayed", f"R-{4000 + 37 * i}"))
    return out


def chat_row(question: str, answer: str) -> str:
    return json.dumps(
        {
            "messages": [
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer},
            ]
        }
    )


class Workbench:
    """`python -m workbench` in a subprocess, on one database and a profile aimed at the sim."""

    def __init__(self, root: Path, sim) -> None:
        config = root / "config.toml"
        config.write_text(
            'active_profile = "sim"\n\n[profiles.sim]\n'
            f'base_url = "{sim.base_url}"\napi_key_env = "SIM_KEY"\ndefault_model = "{MODEL}"\n',
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "WORKBENCH_"))}
        env.update(
            WORKBENCH_DB=str(root / "workbench.db"),
            WORKBENCH_CONFIG=str(config),
            SIM_KEY=sim.api_key,
            XDG_DATA_HOME=str(root / "data"),
            XDG_CONFIG_HOME=str(root / "config"),
            HTTPS_PROXY="http://127.0.0.1:9",
            NO_PROXY="127.0.0.1,localhost",
        )
        self.env = env
        self.root = root

    def __call__(self, *argv: str, expect: int = 0) -> subprocess.CompletedProcess:
        out = subprocess.run(
            [sys.executable, "-m", "workbench", *argv],
            capture_output=True,
            text=True,
            timeout=120,
            env=self.env,
            stdin=subprocess.DEVNULL,
        )
        assert out.returncode == expect, f"{argv}: exit {out.returncode}\n{out.stderr}"
        assert "Traceback" not in out.stderr, out.stderr
        return out

    def json(self, *argv: str):
        return json.loads(self(*argv, "--json").stdout)


@pytest.fixture(scope="module")
def bench(sim, tmp_path_factory):
    """The scripted session up to a trained model: prompts, library, dataset, job."""
    root = tmp_path_factory.mktemp("known-answers")
    wb = Workbench(root, sim)
    data = rows()
    (root / "train.jsonl").write_text(
        "\n".join(chat_row(f"Route: {t}", code) for t, _h, code in data) + "\n", encoding="utf-8"
    )
    (root / "twins.jsonl").write_text(
        "\n".join(json.dumps({"input": t, "output": code}) for t, _h, code in data) + "\n",
        encoding="utf-8",
    )
    (root / "generic.jsonl").write_text(
        "\n".join(
            json.dumps({"input": q, "output": a})
            for q, a in (
                ("password reset for my account", "ACCOUNT"),
                ("invoice shows the wrong amount", "BILLING"),
                ("app crashes when I log in", "BUG"),
            )
        )
        + "\n",
        encoding="utf-8",
    )
    (root / "held-out.jsonl").write_text(
        "\n".join(json.dumps({"input": h, "output": code}) for _t, h, code in data) + "\n",
        encoding="utf-8",
    )
    # the thin set: five rephrasings in their own dataset, held out by `data split --test`
    (root / "tiny.jsonl").write_text(
        "\n".join(chat_row(f"Route: {h}", code) for _t, h, code in data[:6]) + "\n",
        encoding="utf-8",
    )
    wb("examples", "import", str(root / "twins.jsonl"), "--tag", "twins")
    wb("examples", "import", str(root / "generic.jsonl"), "--tag", "generic")
    assert (
        wb.json("examples", "import", str(root / "held-out.jsonl"), "--split", "test")["added"] == N
    )
    assert (
        wb.json("data", "import", str(root / "train.jsonl"), "--dataset", "parcels")["valid"] == N
    )
    wb("data", "import", str(root / "tiny.jsonl"), "--dataset", "tiny")
    assert wb.json("data", "split", "tiny", "--validation", "0", "--test", "0.9")["test"] == 5
    created = wb.json(
        "jobs", "create", "--dataset", "parcels", "--model", MODEL, "--suffix", "known", "--yes"
    )
    job_id = created["job"]["id"]
    watched = wb("jobs", "watch", job_id, "--interval", "0.1", "--max-interval", "0.5")
    ft_model = watched.stdout.strip().splitlines()[-1].removeprefix("fine-tuned model: ")
    assert ft_model.startswith(f"ft:{MODEL}:")
    system = "Route each parcel ticket to its queue code. Answer with the code only."
    for name, selection in (("router-a", "tag:generic:3"), ("router-b", "similar:1")):
        wb(
            "prompt",
            "new",
            name,
            *("--system", system, "--template", TEMPLATE),
            *("--examples", selection, "--ft-model", ft_model),
        )
    wb.ft_model = ft_model
    wb.data = data
    return wb


def by_approach(result: dict) -> dict[str, dict]:
    return {a["approach"]: a for a in result["approaches"]}


def eval_runs(wb: Workbench, prompt: str) -> list[dict]:
    return [
        r for r in wb.json("history", "--prompt", prompt, "--limit", "0") if r.get("eval_run_id")
    ]


def last_user(messages: list[dict]) -> str:
    return next(m["content"] for m in reversed(messages) if m["role"] == "user")


def assert_cost_agrees(wb: Workbench, prompt: str, result: dict) -> None:
    """The Verdict (`estimate`: its per-request costs and the verdict's rows) and Evaluate give
    the same per-request cost for this evaluation."""
    estimate = wb.json("estimate", "--prompt", prompt, "--dataset", "parcels", "--library")
    assert estimate["evaluation"]["group_id"] == result["group_id"]
    per_request = {a["approach"]: a["per_request"] for a in estimate["estimate"]["approaches"]}
    per_1k = {r["approach"]: r["cost_per_1k"] for r in estimate["verdict"]["rows"]}
    for a in result["approaches"]:
        cost = a["cost_per_request_usd"]
        assert cost is not None and cost > 0
        assert per_1k[a["approach"]] == pytest.approx(cost * 1000, rel=1e-9), a["approach"]
        if a["approach"] in per_request:
            assert per_request[a["approach"]] == pytest.approx(cost, rel=1e-9), a["approach"]


def test_a_fine_tuned_wins_on_quality(bench):
    result = bench.json(
        "eval", "--prompt", "router-a", "--library", "--approaches", "zero-shot,few-shot,fine-tuned"
    )
    got = by_approach(result)
    assert set(got) == {"zero-shot", "few-shot", "fine-tuned"}
    assert all(a["n"] == N for a in got.values())
    assert got["fine-tuned"]["score"] == 1.0 and got["fine-tuned"]["model"] == bench.ft_model
    assert got["zero-shot"]["score"] == 0.0 and got["few-shot"]["score"] == 0.0
    assert got["fine-tuned"]["ci_low"] > got["few-shot"]["ci_high"]
    assert result["verdict"]["recommendation"] == "fine-tuned"
    assert result["verdict"]["reasons"]
    # the shape sent: one rendered user turn for every approach; few-shot adds the generic
    # examples' turns, rendered through the same template
    runs = eval_runs(bench, "router-a")
    trained, held_out, code = bench.data[0]
    sent = {
        r["approach"]: r["messages"]
        for r in runs
        if last_user(r["messages"]) == f"Route: {held_out}"
    }
    assert set(sent) == {"zero-shot", "few-shot", "fine-tuned"}
    few = [m["content"] for m in sent["few-shot"] if m["role"] == "user"][:-1]
    assert few == [
        "Route: password reset for my account",
        "Route: invoice shows the wrong amount",
        "Route: app crashes when I log in",
    ]
    assert [m["role"] for m in sent["zero-shot"]] == ["system", "user"]
    assert_cost_agrees(bench, "router-a", result)


def test_b_few_shot_similar_matches_and_is_cheaper(bench):
    result = bench.json(
        "eval",
        "--prompt",
        "router-b",
        "--library",
        "--approaches",
        "zero-shot,few-shot-similar,fine-tuned",
    )
    got = by_approach(result)
    assert got["few-shot-similar"]["score"] == 1.0 and got["fine-tuned"]["score"] == 1.0
    assert (
        got["few-shot-similar"]["cost_per_request_usd"] < got["fine-tuned"]["cost_per_request_usd"]
    )
    assert result["verdict"]["recommendation"] == "few-shot-similar"
    runs = eval_runs(bench, "router-b")
    trained, held_out, code = bench.data[5]
    sent = {
        r["approach"]: r["messages"]
        for r in runs
        if last_user(r["messages"]) == f"Route: {held_out}"
    }
    assert set(sent) == {"zero-shot", "few-shot-similar", "fine-tuned"}
    # per request, the one most similar example: this parcel's own trained phrasing, templated
    assert sent["few-shot-similar"][1:3] == [
        {"role": "user", "content": f"Route: {trained}"},
        {"role": "assistant", "content": code},
    ]
    assert_cost_agrees(bench, "router-b", result)


def test_c_too_thin_to_conclude(bench):
    result = bench.json(
        "eval", "--prompt", "router-a", "--dataset", "tiny", "--approaches", "zero-shot,fine-tuned"
    )
    got = by_approach(result)
    assert got["zero-shot"]["n"] == got["fine-tuned"]["n"] == 5
    assert got["fine-tuned"]["score"] == 1.0 and got["zero-shot"]["score"] == 0.0
    assert result["verdict"]["recommendation"] == "inconclusive"
    assert any("20" in reason for reason in result["verdict"]["reasons"])


def test_an_evaluation_killed_half_way_resumes_without_asking_again(bench, sim):
    """Kill `workbench eval` mid-run (SIGKILL: nothing is cleaned up); the next identical run
    asks only the items that have no stored answer."""
    argv = ["eval", "--prompt", "router-b", "--dataset", "tiny", "--approaches", "zero-shot"]
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", *argv, "--concurrency", "1", "--fresh"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=bench.env,
    )
    try:
        for line in process.stderr:
            if line.startswith("answers ") and int(line.split()[1].split("/")[0]) >= 2:
                sim.fault("stall", count=1, path="/v1/chat/completions", seconds=20)
                break
        else:
            pytest.fail("the evaluation ended before it could be killed")
    finally:
        process.kill()
        process.wait(timeout=10)
        sim.clear_faults()  # the stall, if the killed run never sent another request
    resumed = bench.json(*argv)
    by = by_approach(resumed)
    assert by["zero-shot"]["n"] == 5
    assert 0 < resumed["asked"] <= 3  # the answers stored before the kill were not asked again
