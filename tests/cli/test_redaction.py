"""No part of a rejected key is ever stored: the provider quotes its tail back on a 401
("Incorrect API key provided: sk-****-9876"), and that text must not reach runs.error_message or
`history --json`. Real SDK over HTTP to a simulator started with its own key."""

from __future__ import annotations

import json

from workbench.cli import main
from workbench.core.redact import redact_secrets
from workbench.store.db import open_db

WRONG_KEY = "sk-wrong-key-0000-9876"


def test_a_401_run_stores_no_fragment_of_the_key(sim_factory, db_path, monkeypatch, capsys):
    server = sim_factory(api_key="sk-the-right-one")
    monkeypatch.setenv("OPENAI_API_KEY", WRONG_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    db = ["--db", str(db_path)]
    assert main(["prompt", "new", "p", "--template", "Say {{input}}", *db]) == 0
    code = main(["run", "--prompt", "p", "--input", "hi", *db])
    assert code == 3  # key rejected
    capsys.readouterr()
    assert main(["history", "--json", *db]) == 0
    history = capsys.readouterr().out
    stored = [row["error_message"] for row in open_db(db_path)["runs"].rows]
    assert stored and "Incorrect API key" in stored[0]  # the explanation is kept...
    for text in [history, *stored]:
        assert "9876" not in text and WRONG_KEY not in text  # ...the key's tail is not
    assert json.loads(history)


def test_ids_that_look_like_hex_keys_are_kept():
    azure_fine_tune = "gpt-4.1-mini-2025-04-14.ft-0123456789abcdef0123456789abcdef"
    assert (
        redact_secrets(f"{azure_fine_tune} is not deployed") == f"{azure_fine_tune} is not deployed"
    )
    assert "0123456789abcdef0123456789abcdef" not in redact_secrets(
        "key 0123456789abcdef0123456789abcdef was rejected"
    )
