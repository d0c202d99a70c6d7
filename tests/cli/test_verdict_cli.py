"""`workbench prompt|examples|data|run|jobs create` from a plain terminal: --json, exit codes, the
same store the panes use, and the real SDK over HTTP to the simulator."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workbench.cli import main
from workbench.store.db import open_db

MODEL = "gpt-4.1-mini-2025-04-14"


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def cli_json(capsys, *argv: str):
    code, out, err = cli(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def on_sim(sim, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", sim.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", sim.base_url)
    return sim


def chat(question: str, answer: str) -> str:
    """A chat row written as exports write it (compact), so "byte-exact" can be compared."""
    row = {
        "messages": [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    }
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


# --- prompt -------------------------------------------------------------------------------------


def test_prompt_new_set_show_list_round_trip(capsys):
    data = cli_json(
        capsys,
        "prompt",
        "new",
        "router",
        "--system",
        "You route tickets.",
        "--template",
        "Ticket: {{input}}",
        "--examples",
        "recent:2",
    )
    assert data["label"] == "v1 (draft)" and data["placeholders"] == ["input"]
    assert data["examples"]["selection"] == "recent:2"
    assert data["model"]  # the profile's default model, written down
    code, _out, err = cli(
        capsys, "prompt", "set", "router", "--model", "gpt-4o-mini", "--examples", "tag:billing"
    )
    assert code == 0 and "changed 'router'" in err
    shown = cli_json(capsys, "prompt", "show", "router")
    assert shown["model"] == "gpt-4o-mini" and shown["system"] == "You route tickets."
    assert shown["examples"]["selection"] == "tag:billing:3"
    listed = cli_json(capsys, "prompt", "list")
    assert [p["name"] for p in listed] == ["router"]


@pytest.mark.parametrize(
    "argv, says",
    [
        (("prompt", "show", "nope"), "no prompt named 'nope'"),
        (("prompt", "new", "x", "--examples", "best:3"), "expected all, recent:N"),
        (("prompt", "new", "x", "--examples", "recent:zero"), "is not a whole number"),
        (("prompt", "new", "x", "--param", "colour=red"), "--param colour"),
        (("data", "split", "nope"), "no dataset named 'nope'"),
        (("data", "import", "/no/such.jsonl", "--dataset", "d"), "no such file"),
        (("examples", "import", "/no/such.jsonl"), "no such file"),
        (("run", "--prompt", "nope"), "no prompt named 'nope'"),
        (("jobs", "create", "--dataset", "nope", "--model", MODEL, "--yes"), "no dataset named"),
    ],
)
def test_usage_errors_exit_2_and_name_the_problem(capsys, argv, says):
    code, _out, err = cli(capsys, *argv)
    assert code == 2
    assert says in err
    assert "Traceback" not in err


def test_set_with_nothing_to_change_is_a_usage_error(capsys):
    assert cli(capsys, "prompt", "new", "p")[0] == 0
    code, _out, err = cli(capsys, "prompt", "set", "p")
    assert code == 2 and "nothing to change" in err


# --- examples -----------------------------------------------------------------------------------


def test_examples_import_reads_chat_flat_and_csv_rows_and_names_skipped_lines(capsys, tmp_path):
    jsonl = tmp_path / "ex.jsonl"
    jsonl.write_text(
        chat("printer jammed", "hardware")
        + "\n"
        + json.dumps({"input": "vpn down", "output": "network", "tags": ["net"]})
        + "\n{not json\n"
        + json.dumps({"input": "", "output": "x"})
        + "\n",
        encoding="utf-8",
    )
    report = cli_json(capsys, "examples", "import", str(jsonl), "--tag", "demo")
    assert report["added"] == 2
    assert [s["line"] for s in report["skipped"]] == [3, 4]
    csv_file = tmp_path / "held.csv"
    csv_file.write_text("input,output\nlogin fails,account\n", encoding="utf-8")
    assert cli_json(capsys, "examples", "import", str(csv_file), "--split", "test")["added"] == 1
    few = cli_json(capsys, "examples", "list", "--split", "few-shot")
    assert [(e["input"], e["output"]) for e in few] == [
        ("printer jammed", "hardware"),
        ("vpn down", "network"),
    ]
    assert few[1]["tags"] == ["net", "demo"]
    test = cli_json(capsys, "examples", "list", "--split", "test")
    assert [(e["input"], e["split"]) for e in test] == [("login fails", "test")]


def test_examples_import_of_nothing_usable_exits_1(capsys, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n", encoding="utf-8")
    code, _out, err = cli(capsys, "examples", "import", str(bad))
    assert code == 1 and "line 1" in err


def test_prompt_examples_all_follows_the_library_and_never_sends_test_rows(capsys, tmp_path):
    from workbench.store.selection import selected_examples

    cli(capsys, "prompt", "new", "p", "--examples", "all")
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join(chat(f"q{i}", f"a{i}") for i in range(5)) + "\n", encoding="utf-8")
    cli(capsys, "examples", "import", str(rows))
    cli(capsys, "examples", "import", str(rows), "--split", "test")
    db = open_db(main_db())
    try:
        chosen = selected_examples(db, "p")
    finally:
        db.close()
    assert len(chosen) == 5 and all(e.split == "few-shot" for e in chosen)


def main_db():
    import os

    return os.environ["WORKBENCH_DB"]


# --- data ---------------------------------------------------------------------------------------


def test_data_import_keeps_every_line_split_is_seeded_export_is_byte_exact(capsys, tmp_path):
    lines = [chat(f"question {i}", f"answer {i}") for i in range(40)]
    source = tmp_path / "train.jsonl"
    source.write_text("\n".join([*lines[:10], "{broken", *lines[10:]]) + "\n", encoding="utf-8")
    imported = cli_json(capsys, "data", "import", str(source), "--dataset", "tickets")
    assert imported["rows"] == 41 and imported["valid"] == 40 and imported["with_problems"] == 1
    assert imported["problems"][0]["line"] == 11
    split = cli_json(
        capsys, "data", "split", "tickets", "--validation", "0.1", "--test", "20%", "--seed", "7"
    )
    assert split["test"] == 8 and split["train"] + split["validation"] == 33
    listed = cli_json(capsys, "data", "list")
    assert listed == [
        {
            "name": "tickets",
            "method": "supervised",
            "train": split["train"],
            "validation": split["validation"],
            "test": 8,
            "with_problems": 1,
        }
    ]
    # the same seed on the same rows gives the same split (test rows stay test)
    again = cli_json(
        capsys, "data", "split", "tickets", "--validation", "0.1", "--test", "20%", "--seed", "7"
    )
    assert again == split
    out = tmp_path / "out.jsonl"
    exported = cli_json(capsys, "data", "export", "tickets", str(out))
    assert exported["rows"] + exported["left_out"] == split["train"]
    written = out.read_bytes().decode("utf-8").splitlines()
    assert set(written) <= set(lines)  # byte-exact: each row as it was in the source file
    assert len(written) == exported["rows"]
    code, _out, err = cli(capsys, "data", "export", "tickets", str(out))
    assert code == 0
    assert ("left out 1 rows" in err) == (exported["left_out"] == 1)


def test_data_import_reads_csv_with_named_columns(capsys, tmp_path):
    source = tmp_path / "rows.csv"
    source.write_text('q,a\n"line one\nline two",yes\nshort,\n', encoding="utf-8")
    report = cli_json(
        capsys,
        "data",
        "import",
        str(source),
        "--dataset",
        "c",
        "--prompt-column",
        "q",
        "--completion-column",
        "a",
        "--system",
        "Be brief.",
    )
    assert report["rows"] == 2 and report["valid"] == 1
    code, _out, err = cli(capsys, "data", "import", str(source), "--dataset", "c2")
    assert code == 2 and "no column named 'prompt'" in err


# --- run ----------------------------------------------------------------------------------------


def test_run_sends_the_rendered_template_and_records_the_run(on_sim, capsys):
    cli(capsys, "prompt", "new", "r", "--system", "Be brief.", "--template", "Ticket: {{input}}")
    recorded = cli_json(capsys, "run", "--prompt", "r", "--input", "printer jammed")
    assert recorded["status"] == "ok" and recorded["answer"]
    assert recorded["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Ticket: printer jammed"},
    ]
    assert recorded["version_number"] == 1 and recorded["input_tokens"] > 0
    assert recorded["cost_usd"] is not None and recorded["cost_usd"] > 0
    history = cli_json(capsys, "history")
    assert history[0]["id"] == recorded["id"] and history[0]["messages"] == recorded["messages"]
    code, out, _err = cli(capsys, "run", "--prompt", "r", "--input", "vpn")
    assert code == 0 and out.strip()  # the answer streams to stdout


def test_run_few_shot_renders_example_turns_through_the_template(on_sim, capsys, tmp_path):
    cli(capsys, "prompt", "new", "r", "--template", "Ticket: {{input}}", "--examples", "similar:1")
    rows = tmp_path / "few.jsonl"
    rows.write_text(
        json.dumps({"input": "printer jammed again", "output": "hardware"})
        + "\n"
        + json.dumps({"input": "vpn will not connect", "output": "network"})
        + "\n",
        encoding="utf-8",
    )
    cli(capsys, "examples", "import", str(rows))
    recorded = cli_json(
        capsys, "run", "--prompt", "r", "--approach", "few-shot-similar", "--input", "vpn down"
    )
    assert recorded["messages"] == [
        {"role": "user", "content": "Ticket: vpn will not connect"},
        {"role": "assistant", "content": "network"},
        {"role": "user", "content": "Ticket: vpn down"},
    ]


def test_run_missing_variable_is_usage_and_nothing_is_sent(on_sim, capsys):
    cli(capsys, "prompt", "new", "r", "--template", "{{a}} and {{b}}")
    code, _out, err = cli(capsys, "run", "--prompt", "r", "--var", "a=1")
    assert code == 2 and "fill in b" in err
    assert cli_json(capsys, "history") == []


def test_run_against_an_unreachable_provider_exits_3_and_is_recorded(capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    cli(capsys, "prompt", "new", "r", "--template", "{{input}}")
    code, _out, err = cli(capsys, "run", "--prompt", "r", "--input", "hi")
    assert code == 3 and "could not reach the provider" in err
    assert cli_json(capsys, "history")[0]["error_kind"] == "connection"


# --- jobs create --------------------------------------------------------------------------------


def _dataset(capsys, tmp_path, name: str, n: int = 12, broken: bool = False) -> None:
    rows = [chat(f"{name} question {i}", f"answer {i}") for i in range(n)]
    if broken:
        rows.append("{broken")
    path = tmp_path / f"{name}.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert cli(capsys, "data", "import", str(path), "--dataset", name)[0] == 0


def test_jobs_create_refuses_without_yes_off_a_terminal(on_sim, capsys, tmp_path, monkeypatch):
    _dataset(capsys, tmp_path, "noyes")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    code, out, err = cli(capsys, "jobs", "create", "--dataset", "noyes", "--model", MODEL)
    assert code == 2 and "pass --yes" in err
    assert "billed tokens" in out and "estimated cost" in out  # the pre-flight came first


def test_jobs_create_uploads_once_and_creates(on_sim, capsys, tmp_path):
    _dataset(capsys, tmp_path, "once")
    first = cli_json(
        capsys, "jobs", "create", "--dataset", "once", "--model", MODEL, "--yes", "--epochs", "2"
    )
    assert first["preflight"]["ok"] and first["preflight"]["epochs"] == 2
    assert first["preflight"]["estimated_cost_usd"] > 0
    assert first["job"]["id"].startswith("ftjob-") and first["job"]["dataset_name"] == "once"
    assert [u["uploaded"] for u in first["uploads"]] == [True]
    second = cli_json(capsys, "jobs", "create", "--dataset", "once", "--model", MODEL, "--yes")
    assert second["uploads"] == [{**first["uploads"][0], "uploaded": False}]
    assert second["job"]["id"] != first["job"]["id"]
    assert second["job"]["training_file"] == first["job"]["training_file"]


def test_jobs_create_stops_at_a_failed_preflight(on_sim, capsys, tmp_path):
    _dataset(capsys, tmp_path, "broken", n=0, broken=True)  # nothing valid to train on
    code, out, err = cli(capsys, "jobs", "create", "--dataset", "broken", "--model", MODEL, "--yes")
    assert code == 1 and "still has problems" in out and "not launched" in err


def test_jobs_create_leaves_problem_rows_out_and_says_so(on_sim, capsys, tmp_path):
    """One rule with `data export` and the Training pane's upload: the valid rows go, the rows
    with problems are counted, and the pre-flight (printed before the question) says so."""
    _dataset(capsys, tmp_path, "holed", broken=True)
    report = cli_json(capsys, "jobs", "create", "--dataset", "holed", "--model", MODEL, "--yes")
    assert report["preflight"]["left_out"] == 1 and report["preflight"]["examples"] == 12
    assert "1 row with problems left out" in report["preflight"]["lines"][0]["text"]
    assert report["job"]["id"].startswith("ftjob-")


def test_jobs_create_explains_training_not_available(on_sim, capsys, tmp_path):
    _dataset(capsys, tmp_path, "wound")
    on_sim.fault("training_not_available", count=1, path="/v1/fine_tuning/jobs")
    code, _out, err = cli(capsys, "jobs", "create", "--dataset", "wound", "--model", MODEL, "--yes")
    assert code == 1
    assert "winding down self-serve fine-tuning" in err and "Azure" in err


# --- the CLI stays light --------------------------------------------------------------------------

HYGIENE = """
import sys
import workbench.cli
for name in ("prompt", "examples", "data", "run", "eval", "jobs", "jobs_create", "common"):
    __import__("workbench.commands." + name)
parser = workbench.cli.build_parser()
for name in ("prompt", "examples", "data", "run", "eval"):
    assert name in parser._subparsers._group_actions[0].choices, name
print(",".join(sorted(m for m in ("textual", "openai") if m in sys.modules)))
"""


def test_the_verdict_commands_import_neither_textual_nor_the_sdk():
    out = subprocess.run(
        [sys.executable, "-c", HYGIENE], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


# --- eval: the failure paths (the verdicts themselves: test_verdict_known_answers.py) ---------------


def _held_out(capsys, tmp_path, n: int = 3) -> None:
    path = tmp_path / "held.jsonl"
    path.write_text(
        "\n".join(json.dumps({"input": f"q{i}", "output": f"a{i}"}) for i in range(n)) + "\n",
        encoding="utf-8",
    )
    assert cli(capsys, "examples", "import", str(path), "--split", "test")[0] == 0


def test_eval_without_test_examples_is_usage_and_sends_nothing(on_sim, capsys):
    cli(capsys, "prompt", "new", "e", "--template", "{{input}}")
    code, _out, err = cli(capsys, "eval", "--prompt", "e")
    assert code == 2 and "no held-out test examples" in err
    assert cli_json(capsys, "history") == []


@pytest.mark.parametrize(
    "argv, says",
    [
        (("--approaches", "zero-shot,best-shot"), "--approaches"),
        (("--approaches", "fine-tuned"), "no fine-tuned model"),
        (("--dataset", "nope"), "no dataset named 'nope'"),
        (("--scorer", "regex", "--scorer-arg", "(unclosed"), "regex pattern"),
    ],
)
def test_eval_usage_errors_name_the_flag(on_sim, capsys, tmp_path, argv, says):
    cli(capsys, "prompt", "new", "e", "--template", "{{input}}")
    _held_out(capsys, tmp_path)
    code, _out, err = cli(capsys, "eval", "--prompt", "e", *argv)
    assert code == 2 and says in err


def test_eval_against_an_unreachable_provider_exits_3(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    cli(capsys, "prompt", "new", "e", "--template", "{{input}}")
    _held_out(capsys, tmp_path)
    code, out, err = cli(capsys, "eval", "--prompt", "e", "--json")
    assert code == 3 and "could not reach the provider" in err
    result = json.loads(out)
    assert result["approaches"][0]["n"] == 0 or result["approaches"][0]["errors"] == 3
    assert result["verdict"]["recommendation"] == "inconclusive"


def test_eval_progress_goes_to_stderr_and_stdout_is_the_json(on_sim, capsys, tmp_path):
    cli(capsys, "prompt", "new", "e", "--template", "{{input}}")
    _held_out(capsys, tmp_path)
    code, out, err = cli(capsys, "eval", "--prompt", "e", "--json")
    assert code == 0 and "answers 3/3" in err
    result = json.loads(out)
    assert list(result)[:2] == ["approaches", "verdict"]
    assert list(result["approaches"][0])[:8] == [
        "approach",
        "model",
        "n",
        "score",
        "ci_low",
        "ci_high",
        "cost_per_request_usd",
        "latency_p50_s",
    ]
    assert result["verdict"]["recommendation"] == "inconclusive"  # 3 items: too thin


def test_text_output_carries_no_control_characters_from_the_data(capsys, tmp_path):
    rows = tmp_path / "esc.jsonl"
    rows.write_text(
        json.dumps({"input": "red \x1b[31malert\x07", "output": "ok\x1b]0;title\x07"}) + "\n",
        encoding="utf-8",
    )
    cli(capsys, "examples", "import", str(rows))
    cli(capsys, "prompt", "new", "p\x1b[2J", "--system", "be \x1b[1mbold")
    for argv in (("examples", "list"), ("prompt", "list"), ("prompt", "show", "p\x1b[2J")):
        code, out, err = cli(capsys, *argv)
        assert code == 0
        assert "\x1b" not in out and "\x07" not in out and "\x1b" not in err, argv
    assert cli_json(capsys, "examples", "list")[0]["input"] == "red \x1b[31malert\x07"  # data kept


def test_jobs_create_asks_on_a_terminal_and_no_means_not_launched(on_sim, capsys, tmp_path):
    """A real pseudo-terminal as stdin: the question is asked, 'n' launches nothing."""
    import os
    import pty

    _dataset(capsys, tmp_path, "asked")
    leader, follower = pty.openpty()
    try:
        os.write(leader, b"n\n")
        out = subprocess.run(
            [sys.executable, "-m", "workbench", "jobs", "create", "--dataset", "asked"]
            + ["--model", MODEL],
            stdin=follower,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert out.returncode == 1, out.stderr
    assert "launch this job? [y/N]" in out.stdout and "not launched" in out.stderr
    db = open_db(main_db())
    try:
        assert db.execute("select count(*) from jobs").fetchone()[0] == 0
    finally:
        db.close()
