"""`workbench estimate` as a user runs it: same figures as the pane, JSON on stdout, Markdown."""

from __future__ import annotations

import json

import pytest

from tests.store.test_evals_store import MODEL, seed_scenario
from workbench.cli import main
from workbench.store.db import open_db


@pytest.fixture
def seeded(db_path):
    db = open_db(db_path)
    seed_scenario(db)
    db.close()
    return db_path


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_figures_and_volume(seeded, capsys):
    code, out, _ = run(
        capsys, "--db", str(seeded), "estimate", "--prompt", "router", "--volume", "5k", "--json"
    )
    assert code == 0
    data = json.loads(out)
    est = data["estimate"]
    assert est["settings"]["volume"] == 5000 and est["prices_as_of"] == "2026-06-27"
    few = est["approaches"][1]
    assert few["approach"] == "few-shot"
    assert few["per_volume"] == pytest.approx(few["per_request"] * 5000)
    assert est["training"]["epochs"] == 5 and est["break_even_requests"] > 0
    assert data["verdict"]["recommendation"] is None  # nothing evaluated yet


def test_toggles_and_user_output_figure(seeded, capsys):
    _, plain, _ = run(
        capsys,
        "--db",
        str(seeded),
        "estimate",
        "--prompt",
        "router",
        "--json",
        "--output-tokens",
        "100",
    )
    _, batch, _ = run(
        capsys,
        "--db",
        str(seeded),
        "estimate",
        "--prompt",
        "router",
        "--json",
        "--output-tokens",
        "100",
        "--batch",
    )
    p = json.loads(plain)["estimate"]["approaches"][0]
    b = json.loads(batch)["estimate"]["approaches"][0]
    assert p["output_tokens"] == 100 and p["output_source"] == "your figure"
    assert b["per_request"] == pytest.approx(p["per_request"] / 2)


def test_fine_tuned_id_and_unknown_model(seeded, capsys):
    code, out, _ = run(
        capsys,
        "--db",
        str(seeded),
        "estimate",
        "--prompt",
        "router",
        "--ft-model",
        "ft:mystery:me::1",
        "--json",
    )
    ft = json.loads(out)["estimate"]["approaches"][2]
    assert code == 0 and ft["per_request"] is None and ft["priced"] is False
    code, text, _ = run(
        capsys,
        "--db",
        str(seeded),
        "estimate",
        "--prompt",
        "router",
        "--ft-model",
        "ft:mystery:me::1",
    )
    assert "no price" in text and "$0 " not in text


def test_text_report(seeded, capsys):
    code, out, err = run(
        capsys, "--db", str(seeded), "estimate", "--prompt", "router", "--volume", "1M", "--cache"
    )
    assert code == 0 and err == ""
    assert "prices as of 2026-06-27" in out
    assert "caching on" in out and f"{MODEL} (to train)" in out
    assert "break-even: fine-tuning is cheaper than few-shot after" in out
    assert "run an evaluation" in out


def test_markdown_to_a_file(seeded, capsys, tmp_path):
    target = tmp_path / "verdict.md"
    code, out, err = run(
        capsys, "--db", str(seeded), "estimate", "--prompt", "router", "--markdown", str(target)
    )
    assert code == 0 and out == "" and str(target) in err
    text = target.read_text()
    assert "| approach | customization | quality (measured) |" in text
    code, out, _ = run(capsys, "--db", str(seeded), "estimate", "--prompt", "router", "--markdown")
    assert out.startswith("# Fine-tune or prompt-engineer? (router)")


def test_bad_input_exits_2(seeded, capsys):
    code, _, err = run(capsys, "--db", str(seeded), "estimate", "--dataset", "nope")
    assert code == 2 and "no dataset named 'nope'" in err
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(seeded), "estimate", "--volume", "lots"])
    assert exc.value.code == 2
    assert "expected a number such as 5000, 100k or 1M" in capsys.readouterr().err


def test_bad_price_override_is_named(seeded, capsys, isolated_environment):
    import os
    from pathlib import Path

    cfg = Path(os.environ["WORKBENCH_CONFIG"])
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text('[prices."gpt-4.1-mini"]\ninput = "cheap"\noutput = 2.0\n')
    code, out, err = run(
        capsys,
        "--db",
        str(seeded),
        "estimate",
        "--prompt",
        "router",
        "--json",
        "--output-tokens",
        "0",
    )
    assert code == 0
    assert 'prices."gpt-4.1-mini".input' in err
    zero = json.loads(out)["estimate"]["approaches"][0]
    assert zero["per_request"] == pytest.approx(zero["input_tokens"] * 0.40 / 1e6)
