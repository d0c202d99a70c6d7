"""The Training data pane driven as a user would: keys, the form, files, the simulator."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from textual.widgets import Checkbox, Input, Select, TextArea

from tests.ui.conftest import app_factory, run_from_palette, wait_until
from workbench.store import dataset_versions as versions_store
from workbench.store import examples as store
from workbench.store.dataset_export import export_version
from workbench.store.db import open_db
from workbench.ui.pane import EmptyState
from workbench.ui.training import NO_DATASETS, TrainingScreen
from workbench.ui.training_editor import ExampleEditor
from workbench.ui.training_modals import NameDialog
from workbench.ui.training_table import MAX_PAGES, PAGE_ROWS, ExampleTable
from workbench.ui.training_turn import TurnEditor
from workbench.ui.widgets.report import ReportScreen

DATA = Path(__file__).resolve().parents[1] / "data"
MESSY = DATA / "training_messy.jsonl"


make_app = app_factory("training")


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(ch, ch) for ch in text])


def rendered_rows(table: ExampleTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def count_widgets(screen) -> int:
    """Widgets on the screen, not counting toasts and footer keys (they follow the focus)."""
    return sum(1 for w in screen.walk_children() if type(w).__name__ not in ("Toast", "FooterKey"))


def footer_keys(screen) -> set[str]:
    """The keys the screen's own footer shows."""
    return {key.key for key in screen.query("FooterKey")}


def seed_dataset(db_path, name: str, rows: list[dict]) -> int:
    db = open_db(db_path)
    dataset = store.create_dataset(db, name)
    store.add_examples(db, rows, dataset.id)
    db.close()
    return dataset.id


def chat(user: str, assistant: str) -> dict:
    return {
        "data": {
            "messages": [
                {"role": "user", "content": user},
                {"role": "assistant", "content": assistant},
            ]
        },
        "tokens": 12,
    }


async def import_file(app, pilot, path: Path) -> ReportScreen:
    await pilot.press("i")
    await pilot.pause()
    await type_text(pilot, str(path))
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await wait_until(pilot, lambda: isinstance(app.screen, ReportScreen))
    return app.screen


async def test_empty_state_says_what_to_do(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TrainingScreen)
        empty = app.screen.query_one("#training-empty", EmptyState)
        assert empty.display and NO_DATASETS in str(empty.render())
        assert not app.screen.query_one("#training-main").display


async def test_create_dataset_and_add_an_example_through_the_form(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        await type_text(pilot, "support bot")
        await pilot.press("enter")
        await pilot.pause()
        dataset = store.find_dataset(app.db, "support bot")
        assert dataset is not None

        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ExampleEditor))
        editor = app.screen
        turns = list(editor.query(TurnEditor))
        assert [t.role for t in turns] == ["user", "assistant"]
        # the cursor starts in the user turn
        assert app.focused is turns[0].query_one(".turn-content", TextArea)
        await type_text(pilot, "How do I reset [/INST] it?")
        turns[1].query_one(".turn-content", TextArea).focus()
        await type_text(pilot, "Hold the button.")

        def saved():
            rows = store.list_examples(app.db, dataset_id=dataset.id)
            return rows and rows[0].messages[-1]["content"] == "Hold the button."

        await wait_until(pilot, saved)
        row = store.list_examples(app.db, dataset_id=dataset.id)[0]
        assert row.data == {
            "messages": [
                {"role": "user", "content": "How do I reset [/INST] it?"},
                {"role": "assistant", "content": "Hold the button."},
            ]
        }
        assert row.problems == [] and row.tokens and row.tokens > 5

        # a weight toggle on the assistant turn is saved too, and validated
        turns[1].query_one(".turn-weight", Checkbox).value = False
        await wait_until(
            pilot,
            lambda: store.get_example(app.db, row.id).messages[-1].get("weight") == 0,
        )
        problems = store.get_example(app.db, row.id).problems
        assert [p["code"] for p in problems] == ["teaches_nothing"]
        assert "⚠" in str(turns[1].query_one(".turn-problem").render()) or str(
            editor.query_one("#editor-summary").render()
        )
        turns[1].query_one(".turn-weight", Checkbox).value = True
        await wait_until(pilot, lambda: store.get_example(app.db, row.id).problems == [])

        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainingScreen))
        table = app.screen.query_one(ExampleTable)
        assert table.row_count == 1
        assert "How do I reset [/INST] it? → Hold the button." in rendered_rows(table)[0]


async def test_add_then_escape_keeps_no_blank_row(db_path):
    seed_dataset(db_path, "d", [chat("q", "a")])
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ExampleEditor))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainingScreen))
        assert app.screen.query_one(ExampleTable).row_count == 1


async def test_import_a_messy_file_see_every_problem_and_fix_them(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        report = await import_file(app, pilot, MESSY)
        body = report.query_one("#report-text").render()
        text = str(body)
        assert "imported 11 rows: 6 valid, 5 with problems" in text
        for line in (3, 6, 7, 8, 10):
            assert f"line {line}  " in text
        await pilot.press("escape")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        dataset = store.find_dataset(app.db, "training_messy")
        assert dataset is not None
        table = screen.query_one(ExampleTable)
        assert table.row_count == 11

        # only the rows with problems, each marked and with its line number
        screen.query_one("#problems-only", Checkbox).value = True
        await wait_until(pilot, lambda: table.row_count == 5)
        rows = rendered_rows(table)[:5]
        assert [int(r.split()[1]) for r in rows] == [3, 6, 7, 8, 10]
        assert all(r.startswith("⚠") for r in rows)

        # fix line 7 (an unknown role) in the form
        table.focus()
        await pilot.press("down", "down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ExampleEditor))
        editor = app.screen
        assert editor.example.source_line == 7
        first = editor.query(TurnEditor).first()
        assert first.query_one(".turn-problem").display
        first.query_one(".turn-role", Select).value = "user"
        row_id = editor.example_id
        await wait_until(pilot, lambda: store.get_example(app.db, row_id).problems == [])
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainingScreen))
        await wait_until(pilot, lambda: table.row_count == 4)

        # fix line 3 (broken JSON) in the raw JSON tab
        table.cursor = 0
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ExampleEditor))
        editor = app.screen
        assert editor.example.source_line == 3 and editor.example.data is None
        raw = editor.query_one("#raw", TextArea)
        raw.focus()
        raw.move_cursor(raw.document.end)
        await type_text(pilot, "}")
        row_id = editor.example_id
        await wait_until(pilot, lambda: store.get_example(app.db, row_id).data is not None)
        fixed = store.get_example(app.db, row_id)
        assert fixed.raw is None and fixed.problems == [] and fixed.tokens
        assert fixed.messages[0]["content"] == "Missing brace"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainingScreen))
        await wait_until(pilot, lambda: table.row_count == 3)


async def test_split_and_export_byte_exact(db_path, tmp_path):
    rows = [chat(f"question {i} [/INST]", f"answer {i}") for i in range(20)]
    dataset_id = seed_dataset(db_path, "qa", rows)
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        percent = app.screen.query_one("#percent", Input)
        percent.value = "25"
        await pilot.press("enter")
        await pilot.pause()
        assert store.count_examples(app.db, dataset_id=dataset_id, split="validation") == 5
        assert store.count_examples(app.db, dataset_id=dataset_id, split="train") == 15

        # filter by split and by text
        table = app.screen.query_one(ExampleTable)
        app.screen.query_one("#split-filter", Select).value = "validation"
        await wait_until(pilot, lambda: table.row_count == 5)
        assert all(" valid " in row for row in rendered_rows(table)[:5])
        app.screen.query_one("#split-filter", Select).clear()
        await wait_until(pilot, lambda: table.row_count == 20)
        app.screen.query_one("#search", Input).focus()
        await type_text(pilot, "question 1")
        await wait_until(pilot, lambda: table.row_count == 11)  # 1, 10..19
        await pilot.press("enter")  # enter in the search goes to the table
        assert app.focused is table
        app.screen.query_one("#search", Input).value = ""
        await wait_until(pilot, lambda: table.row_count == 20)

        target = tmp_path / "out" / "train.jsonl"
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#path", Input).value = str(target)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await wait_until(pilot, target.exists)
        expected = b"".join(
            json.dumps(e.data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
            for e in store.list_examples(app.db, dataset_id=dataset_id, split="train")
        )
        assert target.read_bytes() == expected
        versions = versions_store.list_versions(app.db, dataset_id)
        assert versions[0].sha256 == hashlib.sha256(expected).hexdigest()
        assert versions[0].examples == 15


async def test_export_with_problems_asks_first(db_path, tmp_path):
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await import_file(app, pilot, MESSY)
        await pilot.press("escape")
        await pilot.pause()
        target = tmp_path / "valid.jsonl"
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#path", Input).value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        # a confirmation names how many rows would be left out
        dialog = app.screen
        assert "5 train rows still have problems" in str(
            dialog.query_one("#confirm-message").render()
        )
        # its footer shows its own keys, not the pane's; enter presses the default: export
        assert footer_keys(dialog) >= {"y", "n", "escape"}
        assert "u" not in footer_keys(dialog)
        assert app.focused is dialog.query_one("#confirm-yes") and app.focused.has_class("-default")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await wait_until(pilot, target.exists)
        assert len(target.read_text(encoding="utf-8").splitlines()) == 6


async def test_validate_the_whole_dataset_shows_the_report(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await import_file(app, pilot, MESSY)
        await pilot.press("escape")
        await pilot.pause()
        # a stale cache (say, rules changed since the import) is put right by a full validation
        app.db.execute("update examples set problems = '[]' where source_line = 7")
        await pilot.press("v")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: isinstance(app.screen, ReportScreen))
        text = str(app.screen.query_one("#report-text").render())
        assert "examples        11 (6 valid)" in text
        assert "estimated cost" in text and "epochs" in text
        for line, code in ((3, "invalid_json"), (6, "not_an_object"), (7, "unknown_role")):
            assert f"line {line}  {code}:" in text
        assert "Whole dataset" not in text
        row = store.list_examples(app.db, with_problems=True, order="line")
        assert [r.source_line for r in row] == [3, 6, 7, 8, 10]


async def test_validate_a_tiny_dataset_says_it_is_too_small(db_path):
    seed_dataset(db_path, "tiny", [chat(f"q{i}", f"a{i}") for i in range(3)])
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: isinstance(app.screen, ReportScreen))
        text = str(app.screen.query_one("#report-text").render())
        assert "Whole dataset" in text and "too_few_examples" in text


TOOL_EXAMPLE = {
    "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
        {"role": "assistant", "content": "It is 18C.", "weight": 1},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ],
}


async def test_tool_calls_are_edited_as_json_and_checked(db_path):
    dataset_id = seed_dataset(db_path, "tools", [{"data": TOOL_EXAMPLE}])
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ExampleTable)
        table.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ExampleEditor))
        editor = app.screen
        turns = list(editor.query(TurnEditor))
        assert [t.role for t in turns] == ["user", "assistant", "tool", "assistant"]
        calls = turns[1].query_one(".turn-tool-calls", TextArea)
        assert json.loads(calls.text) == TOOL_EXAMPLE["messages"][1]["tool_calls"]
        assert turns[2].query_one(".turn-tool-call-id", Input).value == "call_1"
        row_id = editor.example_id

        # broken JSON is not written: the last good version stays, the turn says why
        calls.text = '[{"id": "call_1",'
        await wait_until(pilot, lambda: bool(editor.unsaved))
        assert "tool_calls: not valid JSON" in str(turns[1].query_one(".turn-problem").render())
        assert store.get_example(app.db, row_id).data == TOOL_EXAMPLE

        # arguments that are not a JSON string: saved, and the validator's problem is shown
        bad = [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": {"city": "Paris"}},
            }
        ]
        calls.text = json.dumps(bad)
        await wait_until(pilot, lambda: store.get_example(app.db, row_id).problems != [])
        saved = store.get_example(app.db, row_id)
        assert saved.messages[1]["tool_calls"] == bad and saved.messages[1]["content"] is None
        assert [p["code"] for p in saved.problems] == ["invalid_tool_arguments"]
        assert "messages[1]" in str(turns[1].query_one(".turn-problem").render())

        calls.text = json.dumps(TOOL_EXAMPLE["messages"][1]["tool_calls"])
        await wait_until(pilot, lambda: store.get_example(app.db, row_id).problems == [])
        # the row is back to exactly what it was, key order included
        assert json.dumps(store.get_example(app.db, row_id).data) == json.dumps(TOOL_EXAMPLE)
        await pilot.press("escape")
        await pilot.pause()
    assert store.count_examples(open_db(db_path), dataset_id=dataset_id) == 1


async def test_delete_undo_and_promote(db_path):
    dataset_id = seed_dataset(db_path, "d", [chat(f"q{i}", f"a{i}") for i in range(3)])
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ExampleTable)
        table.focus()
        first = table.current_id
        await pilot.press("d")
        await pilot.pause()
        assert table.row_count == 2
        assert store.get_example(app.db, first).deleted_at is not None
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert table.row_count == 3 and store.get_example(app.db, first).deleted_at is None

        await pilot.press("p")
        await pilot.pause()
        promoted = store.get_example(app.db, first)
        assert promoted.split == "few-shot" and promoted.dataset_id is None
        assert table.row_count == 2
        await pilot.press("ctrl+z")
        await pilot.pause()
        back = store.get_example(app.db, first)
        assert back.dataset_id == dataset_id and back.split == "train"


async def test_rename_and_delete_a_dataset(db_path):
    seed_dataset(db_path, "keep", [chat("q", "a")])
    seed_dataset(db_path, "other", [chat("q", "a")])
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#datasets").focus()
        await pilot.press("r")
        await pilot.pause()
        name = app.screen.query_one("#name", Input)
        assert name.value == "keep"
        name.value = "other"
        await pilot.press("enter")
        await pilot.pause()
        # a taken name is refused in words; the dialog stays
        assert "already a dataset called 'other'" in str(
            app.screen.query_one("#dialog-error").render()
        )
        name.value = "kept"
        await pilot.press("enter")
        await pilot.pause()
        assert store.find_dataset(app.db, "kept") is not None

        # delete asks first: escape keeps it; it cannot be undone, so the default (focused,
        # highlighted) button is "Keep it" and enter keeps it too; y deletes it
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert store.find_dataset(app.db, "kept") is not None
        await pilot.press("d")
        await pilot.pause()
        dialog = app.screen
        assert app.focused is dialog.query_one("#confirm-no") and app.focused.has_class("-default")
        assert footer_keys(dialog) >= {"y", "n", "escape"}
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is not dialog and store.find_dataset(app.db, "kept") is not None
        await pilot.press("d")
        await pilot.pause()
        assert "cannot be undone" in str(app.screen.query_one("#confirm-message").render())
        await pilot.press("y")
        await pilot.pause()
        assert store.find_dataset(app.db, "kept") is None
        assert store.find_dataset(app.db, "other") is not None
        assert not app.screen.query_one("#training-empty").display


async def test_deleting_the_last_dataset_shows_the_empty_state(db_path):
    seed_dataset(db_path, "only", [chat("q", "a")])
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#datasets").focus()
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.screen.query_one("#training-empty").display


async def test_bracketed_text_renders_literally(db_path):
    seed_dataset(
        db_path,
        "brackets",
        [chat("[INST] hi [/INST]", "[bold]not bold[/bold] [red]x[/]"), {"raw": "[/INST] {oops"}],
    )
    app = make_app(db_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ExampleTable)
        rows = rendered_rows(table)
        assert "[INST] hi [/INST] → [bold]not bold[/bold] [red]x[/]" in rows[0]
        assert "[/INST] {oops" in rows[1]
        table.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ExampleEditor))
        content = app.screen.query(TurnEditor).last().query_one(".turn-content", TextArea)
        assert content.text == "[bold]not bold[/bold] [red]x[/]"


async def test_a_100k_row_dataset_opens_and_scrolls_without_100k_widgets(db_path):
    db = open_db(db_path)
    dataset = store.create_dataset(db, "big")
    store.add_examples(
        db,
        (
            {"data": {"messages": [{"role": "user", "content": f"q{i}"}]}, "tokens": i % 97}
            for i in range(100_000)
        ),
        dataset.id,
    )
    db.close()
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ExampleTable)
        assert table.row_count == 100_000
        widgets = count_widgets(app.screen)
        table.focus()
        await pilot.press("pagedown", "pagedown", "end")
        await pilot.pause()
        assert table.cursor == 99_999
        assert rendered_rows(table)[-1].split()[0] == "new"
        await pilot.press("home")
        await pilot.pause()
        # sort by tokens (most first) over all 100k rows
        await pilot.press("o", "o")
        await pilot.pause()
        assert app.screen.order == "-tokens"
        assert table.highlighted.id == 1  # the cursor stays on the row it was on
        await pilot.press("home")
        await pilot.pause()
        assert table.highlighted.tokens == 96
        # one table widget, a bounded number of rows in memory, no widget per row
        assert count_widgets(app.screen) == widgets
        assert widgets < 100
        assert table.rows_held <= PAGE_ROWS * MAX_PAGES
        assert table.pages_loaded < 20


async def test_palette_offers_the_pane_actions(db_path):
    seed_dataset(db_path, "support", [chat("q", "a")])
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.screen.table.row_count == 1, "the row")
        # built from the pane's bindings (and its widgets'): each action once, with its key
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        for description, key in (  # the key as the footer shows it
            ("New dataset", "n"),
            ("Add example", "a"),
            ("Import", "i"),
            ("Export", "e"),
            ("Check", "v"),
            ("Split", "s"),
            ("Upload", "u"),
            ("Undo", "^z"),
            ("Search", "/"),
            ("Sort rows", "o"),
            ("Problems only", "f"),
            ("Rename dataset", "r"),
            ("Delete dataset", "d"),
            ("Edit", "⏎"),
            ("Delete", "d"),
            ("Promote to few-shot", "p"),
        ):
            title = f"Training data: {description}"
            assert title in commands, title
            assert commands[title].endswith(f"({key})"), (title, commands[title])
        assert "Validate the dataset" in commands["Training data: Check"]
        # the cursor keys are not commands
        assert not any(t.endswith((": Up", ": Down", ": First", ": Last")) for t in commands)

        # one runs its action, from the palette as a user would
        await run_from_palette(app, pilot, "new dataset", "Training data: New dataset")
        await wait_until(pilot, lambda: isinstance(app.screen, NameDialog), "the name dialog")


async def test_upload_to_the_simulator_records_the_file_once(db_path, sim, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", sim.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", sim.base_url)
    dataset_id = seed_dataset(db_path, "upload-me", [chat(f"q{i}", f"a{i}") for i in range(12)])
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("u")
        await app.workers.wait_for_complete()
        await pilot.pause()
        versions = versions_store.list_versions(app.db, dataset_id)
        assert len(versions) == 1
        file_id = versions_store.uploaded_file_id(app.db, versions[0].id, sim.base_url)
        assert file_id
        remote = sim.client().files.retrieve(file_id)
        assert remote.purpose == "fine-tune" and remote.bytes == versions[0].bytes
        content = sim.client().files.content(file_id).read()
        assert hashlib.sha256(content).hexdigest() == versions[0].sha256
        assert any(file_id in line for line in app.screen.last_upload)

        # same content again: no second upload
        await pilot.press("u")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "already uploaded" in app.screen.last_upload[0]
        count = app.db.execute("select count(*) from dataset_uploads").fetchone()[0]
        assert count == 1


async def test_upload_errors_are_explained_in_words(db_path, sim, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    monkeypatch.setenv("OPENAI_BASE_URL", sim.base_url)
    seed_dataset(db_path, "nope", [chat(f"q{i}", f"a{i}") for i in range(12)])
    app = make_app(db_path)
    messages: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        monkeypatch.setattr(app, "notify", lambda message, **kw: messages.append(str(message)))
        sim.fault("500", count=5, path="/v1/files")
        try:
            await pilot.press("u")
            await app.workers.wait_for_complete()
            await pilot.pause()
        finally:
            sim.clear_faults()
    assert any(
        m.startswith("upload failed: the provider") and "Traceback" not in m for m in messages
    )


async def test_header_click_sorts_and_the_editor_holds_a_row_out(db_path):
    rows = [dict(chat(f"q{i}", f"a{i}"), tokens=t) for i, t in enumerate([5, 50, 20])]
    dataset_id = seed_dataset(db_path, "d", rows)
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ExampleTable)
        header = app.screen.query_one("#table-header")
        await pilot.click(header, offset=(16, 0))  # the tokens column
        await pilot.pause()
        assert app.screen.order == "-tokens"
        assert [table.row(i).tokens for i in range(3)] == [50, 20, 5]
        await pilot.click(header, offset=(16, 0))
        await pilot.pause()
        assert [table.row(i).tokens for i in range(3)] == [5, 20, 50]

        table.focus()
        table.cursor = 0
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ExampleEditor))
        app.screen.query_one("#editor-split", Select).value = "test"
        await pilot.pause()
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainingScreen))
        assert store.count_examples(app.db, dataset_id=dataset_id, split="test") == 1
        # a held-out row is never exported for training
        version, _ = export_version(app.db, dataset_id)
        assert version.examples == 2


async def test_import_csv_with_a_system_prompt(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        await type_text(pilot, str(DATA / "training_prompts.csv"))
        await pilot.pause()
        dialog = app.screen
        assert dialog.query_one("#csv-options").display
        dialog.query_one("#dataset", Input).value = "haiku"
        dialog.query_one("#system", Input).value = "Be brief."
        dialog.query_one("#path", Input).focus()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: isinstance(app.screen, ReportScreen))
        assert "imported 4 rows: 4 valid (1 with warnings)" in str(
            app.screen.query_one("#report-text").render()
        )
        dataset = store.find_dataset(app.db, "haiku")
        rows = store.list_examples(app.db, dataset_id=dataset.id, order="line")
        assert [r.source_line for r in rows] == [2, 3, 7, 8]
        assert rows[0].messages == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "4"},
        ]
        assert rows[3].problems and rows[0].tokens


async def test_a_new_dataset_is_the_one_shown(db_path):
    seed_dataset(db_path, "aaa", [chat("q", "a"), chat("q2", "a2")])
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.query_one(ExampleTable).row_count == 2
        await pilot.press("n")
        await pilot.pause()
        await type_text(pilot, "zzz")
        await pilot.press("enter")
        await wait_until(pilot, lambda: store.find_dataset(app.db, "zzz"), "the new dataset")
        created = store.find_dataset(app.db, "zzz")
        await wait_until(pilot, lambda: screen.dataset_id == created.id, "the new dataset shown")
        assert screen.query_one(ExampleTable).row_count == 0
        assert screen.query_one("#dataset-empty").display


async def test_opening_a_row_with_a_bad_weight_does_not_rewrite_it(db_path):
    """Opening and closing a row is not an edit: a weight of 0.5 or "1" stays for the user to
    decide (it was silently saved as 1); ticking the box is the decision."""
    weighted = {
        "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "a", "weight": 0.5},
        ]
    }
    seed_dataset(db_path, "weights", [{"data": weighted}])
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ExampleTable)
        table.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ExampleEditor))
        editor = app.screen
        row_id = editor.example_id
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ExampleEditor))
        assert store.get_example(app.db, row_id).data == weighted

        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ExampleEditor))
        editor = app.screen
        box = editor.query(TurnEditor)[1].query_one(".turn-weight", Checkbox)
        box.value = False
        await wait_until(
            pilot, lambda: store.get_example(app.db, row_id).messages[1].get("weight") == 0
        )
        box.value = True
        await wait_until(
            pilot, lambda: store.get_example(app.db, row_id).messages[1].get("weight") == 1
        )
        assert store.get_example(app.db, row_id).problems == []
        await pilot.press("escape")
        await pilot.pause()


async def test_import_keeps_a_dataset_name_the_user_typed(db_path):
    """The name follows the file name only until the user types one: editing the path after
    typing a name (or a path change arriving late) overwrote it with the file's stem."""
    from workbench.ui.training_modals import ImportDialog

    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ImportDialog))
        dialog = app.screen
        path, name = dialog.query_one("#path", Input), dialog.query_one("#dataset", Input)
        await type_text(pilot, "train.json")
        await wait_until(pilot, lambda: name.value == "train")
        await pilot.press("tab")
        await pilot.press(*["backspace"] * 5)
        await type_text(pilot, "support")
        path.focus()
        await pilot.press("end", "l")
        await pilot.pause()
        assert path.value == "train.jsonl"
        assert name.value == "support"


async def test_removing_the_first_turn_keeps_the_app_and_undo_restores_it(db_path):
    """Removing the first turn crashed the app (a TextArea re-rendered after its turn was gone)
    with the removal already saved; it now stays up, and ctrl+z puts the turn back."""
    row = {
        "messages": [
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
        ]
    }
    seed_dataset(db_path, "turns", [{"data": row}])
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one(ExampleTable).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ExampleEditor))
        editor = app.screen
        row_id = editor.example_id
        first = editor.query(TurnEditor).first()
        assert app.focused is first.query_one(".turn-content", TextArea)
        await pilot.press("shift+tab")  # the first turn's "✕ remove turn"
        assert app.focused is first.query_one(".turn-remove")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(editor.query(TurnEditor)) == 1)
        await wait_until(pilot, lambda: len(store.get_example(app.db, row_id).messages) == 1)
        await pilot.pause(0.2)
        assert app.is_running and app.screen is editor
        assert store.get_example(app.db, row_id).messages[0]["role"] == "assistant"

        await pilot.press("ctrl+z")
        await wait_until(pilot, lambda: store.get_example(app.db, row_id).data == row)
        assert [t.role for t in editor.query(TurnEditor)] == ["user", "assistant"]
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ExampleEditor))
        assert app.is_running
        assert store.get_example(app.db, row_id).data == row


async def test_escape_leaves_the_training_search_box(db_path):
    seed_dataset(db_path, "d", [chat("alpha", "a"), chat("beta", "b")])
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one(ExampleTable).focus()
        await pilot.press("slash", *"alpha", "escape")
        await pilot.pause()
        assert app.focused is app.screen.query_one(ExampleTable)
        await pilot.press("o")  # sorts the table; not typed into the search
        assert app.screen.query_one("#search", Input).value == "alpha"


async def test_another_panes_css_does_not_shrink_the_import_dialog(db_path):
    """costs.tcss said `#dataset { width: 24 }` for its own Select, and the Training import
    dialog's dataset-name field (also #dataset) became 24 columns: each pane's rules are scoped."""
    from workbench.ui.training_modals import ImportDialog

    app = make_app(db_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ImportDialog))
        field = app.screen.query_one("#dataset", Input)
        path = app.screen.query_one("#path", Input)
        assert field.outer_size.width == path.outer_size.width > 24


async def test_split_upload_and_undo_show_in_the_footer_at_80_columns(db_path):
    seed_dataset(db_path, "d", [chat("q", "a")])
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()

        def shown() -> set[str]:
            return {
                key.key
                for key in app.screen.query("FooterKey")
                if key.region.width and key.region.right <= 80 - len("^p palette")
            }

        for focus in ("#examples", "#datasets"):
            app.screen.query_one(focus).focus()
            await wait_until(
                pilot, lambda: {"s", "u", "ctrl+z"} <= shown(), f"s, u, ctrl+z with {focus}"
            )


async def test_a_filter_matching_nothing_keeps_the_header_and_says_so(db_path):
    from workbench.ui.training import NO_MATCH

    seed_dataset(db_path, "d", [chat("alpha", "a")])
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#search", Input).value = "nothing like this"
        await wait_until(pilot, lambda: app.screen.query_one("#dataset-empty").display)
        assert app.screen.query_one("#table-header").display
        assert str(app.screen.query_one("#dataset-empty").render()) == NO_MATCH
