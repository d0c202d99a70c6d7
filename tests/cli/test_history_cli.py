"""`workbench history`: the recorded runs as a table or JSON, filtered; no Textual needed."""

from __future__ import annotations

import json
import subprocess
import sys

from workbench.cli import main
from workbench.store.runs import record_run


def _seed(db):
    record_run(
        db,
        prompt_name="mail",
        approach="zero-shot",
        model="gpt-4.1-mini",
        messages=[{"role": "user", "content": "hi [/INST]"}],
        answer="hello [/INST]",
        input_tokens=10,
        output_tokens=3,
        latency_ms=250,
        cost_usd=0.0000123,
    )
    record_run(
        db,
        prompt_name="mail",
        approach="few-shot",
        model="gpt-4.1-mini",
        messages=[{"role": "user", "content": "hi"}],
        answer="part",
        status="error",
        error_kind="dropped",
        error_message="the stream stopped",
    )
    record_run(
        db,
        prompt_name="other",
        approach="fine-tuned",
        model="ft:gpt-4.1-mini:o::x",
        messages=[{"role": "user", "content": "q"}],
        answer="a",
        input_tokens=5,
        output_tokens=1,
        cost_usd=None,
    )


def test_json_lists_newest_first_with_everything(db, db_path, capsys):
    _seed(db)
    assert main(["--db", str(db_path), "history", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["approach"] for r in runs] == ["fine-tuned", "few-shot", "zero-shot"]
    assert runs[2]["messages"] == [{"role": "user", "content": "hi [/INST]"}]
    assert runs[2]["cost_usd"] == 0.0000123 and runs[0]["cost_usd"] is None
    assert runs[1]["error_kind"] == "dropped" and runs[1]["answer"] == "part"


def test_filters_and_limit(db, db_path, capsys):
    _seed(db)
    main(["history", "--db", str(db_path), "--json", "--prompt", "mail", "--limit", "1"])
    runs = json.loads(capsys.readouterr().out)
    assert [(r["prompt_name"], r["approach"]) for r in runs] == [("mail", "few-shot")]
    main(["history", "--db", str(db_path), "--json", "--approach", "zero-shot"])
    assert [r["answer"] for r in json.loads(capsys.readouterr().out)] == ["hello [/INST]"]


def test_table_says_no_price_and_marks_failures(db, db_path, capsys):
    _seed(db)
    assert main(["history", "--db", str(db_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["ID", "WHEN", "PROMPT"]
    assert "no price" in out[1] and "$0.000012" in out[3]
    assert "[dropped] part" in out[2]


def test_no_database_yet_is_not_an_error(tmp_path, capsys):
    assert main(["history", "--db", str(tmp_path / "none.db"), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "[]" and "no runs yet" in captured.err
    assert not (tmp_path / "none.db").exists()


def test_bad_limit_is_a_usage_error(db_path, capsys):
    assert main(["history", "--db", str(db_path), "--limit", "-1"]) == 2
    assert "--limit" in capsys.readouterr().err


def test_history_command_does_not_import_textual_or_openai(db, db_path):
    _seed(db)
    code = (
        "import sys; from workbench.cli import main; rc = main(['history', '--db', sys.argv[1]]);"
        "assert 'textual' not in sys.modules and 'openai' not in sys.modules, 'heavy import';"
        "sys.exit(rc)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(db_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "hello [/INST]" in result.stdout
