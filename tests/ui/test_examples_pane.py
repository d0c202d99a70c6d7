"""The Examples pane, driven through Pilot on a real SQLite file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import Input, Select, Static, TextArea

from tests.ui.conftest import app_factory, run_from_palette, wait_until
from workbench.core.fewshot import FewShotSelection
from workbench.store import examples as store
from workbench.store.db import open_db
from workbench.store.selection import get_selection, set_selection
from workbench.ui.examples import EMPTY_MESSAGE, MODE_OPTIONS, ExamplesScreen
from workbench.ui.examples_form import ExampleForm
from workbench.ui.examples_list import ExampleList

DATA = Path(__file__).resolve().parents[1] / "data"
SIZE = (100, 30)


make_app = app_factory("examples")


def pair(q: str, a: str) -> dict:
    return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}


def seed(db_path, *rows: tuple[dict, str, list[str]]) -> list[int]:
    db = open_db(db_path)
    ids = [store.add_example(db, data, split=split, tags=tags).id for data, split, tags in rows]
    db.close()
    return ids


async def ready(app, pilot) -> ExamplesScreen:
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ExamplesScreen)
    return screen


def listed_ids(screen: ExamplesScreen) -> list[int]:
    lst = screen.example_list
    return [lst.row(i).id for i in range(lst.total)]


async def move_to(pilot, screen: ExamplesScreen, example_id: int) -> None:
    lst = screen.example_list
    lst.focus()
    lst.cursor = listed_ids(screen).index(example_id)
    await pilot.pause()
    assert lst.highlighted.id == example_id


def independent_tokens(messages: list[dict]) -> int:
    """The cookbook formula with tiktoken directly: 3 per message + role + content."""
    import tiktoken

    enc = tiktoken.get_encoding("o200k_base")
    return sum(3 + len(enc.encode(m["role"])) + len(enc.encode(m["content"])) for m in messages)


async def fill_form(pilot, app, text_in: str, text_out: str) -> ExampleForm:
    form = app.screen
    assert isinstance(form, ExampleForm)
    await pilot.press(*text_in)  # typed into the focused input area
    form.query_one("#form-output", TextArea).insert(text_out)
    await pilot.pause()
    return form


async def test_empty_library_says_how_to_start(db_path):
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        empty = screen.query_one("#examples-empty", Static)
        assert empty.display
        assert str(empty.render()) == EMPTY_MESSAGE
        assert not screen.query_one("#examples-main").display


async def test_add_tag_search_pick_and_total_tokens(db_path):
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        # first example, typed through the form; saved without any save step
        await pilot.press("a")
        await pilot.pause()
        await fill_form(pilot, app, "hello", "Hi there!")
        await pilot.press("escape")
        await pilot.pause()
        # second example, with bracketed text that must stay literal
        await pilot.press("a")
        await pilot.pause()
        form = await fill_form(pilot, app, "refund", " Refunds take 5 days.")
        form.query_one("#form-input", TextArea).insert(" [/INST] policy?")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()

        db = app.db
        library = store.list_examples(db, dataset_id=None, order="position")
        assert [e.messages for e in library] == [
            pair("hello", "Hi there!")["messages"],
            pair("refund [/INST] policy?", " Refunds take 5 days.")["messages"],
        ]
        assert all(e.split == "few-shot" for e in library)
        first, second = library
        assert not screen.query_one("#examples-empty").display

        # tag the second one through the form
        await move_to(pilot, screen, second.id)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#form-tags", Input).value = "billing, refunds"
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert store.get_example(db, second.id).tags == ["billing", "refunds"]

        # live search
        await pilot.press("slash")
        await pilot.press(*"billing")
        await wait_until(pilot, lambda: screen.example_list.total == 1, "the search's one match")
        assert listed_ids(screen) == [second.id]
        screen.query_one("#examples-search", Input).value = ""
        await wait_until(pilot, lambda: screen.example_list.total == 2, "both examples again")

        # pick both: second first, then first -> that is the prompt order
        await move_to(pilot, screen, second.id)
        await pilot.press("space")
        await move_to(pilot, screen, first.id)
        await pilot.press("space")
        await pilot.pause()
        assert get_selection(db, "default") == FewShotSelection(ids=(second.id, first.id))
        assert screen.example_list.marks == {second.id: 1, first.id: 2}

        expected = independent_tokens(
            pair("refund [/INST] policy?", " Refunds take 5 days.")["messages"]
            + pair("hello", "Hi there!")["messages"]
        )
        assert screen.total_tokens() == expected
        total_text = str(screen.query_one("#selection-total", Static).render())
        assert total_text == f"2 examples · {expected} tokens"

        # delete with undo: the selection follows the library
        await move_to(pilot, screen, first.id)
        await pilot.press("d")
        await pilot.pause()
        assert store.get_example(db, first.id).deleted_at is not None
        assert listed_ids(screen) == [second.id]
        assert str(screen.query_one("#selection-total", Static).render()).startswith("1 example ")
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert store.get_example(db, first.id).deleted_at is None
        assert sorted(listed_ids(screen)) == sorted([first.id, second.id])
        assert screen.total_tokens() == expected


async def test_space_refuses_a_held_out_example(db_path):
    (test_id,) = seed(db_path, (pair("held", "out"), "test", []))
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await move_to(pilot, screen, test_id)
        await pilot.press("space")
        await pilot.pause()
        assert get_selection(app.db, "default").ids == ()
        assert screen.example_list.marks == {}


async def test_modes_and_selection_per_prompt(db_path):
    ids = seed(
        db_path,
        (pair("a", "A"), "few-shot", ["x"]),
        (pair("b", "B"), "few-shot", []),
        (pair("c", "C"), "few-shot", ["x"]),
        (pair("d", "D"), "test", ["x"]),
    )
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("m")  # manual -> k most recent
        await pilot.pause()
        assert get_selection(app.db, "default").mode == "recent"
        screen.query_one("#selection-k", Input).value = "2"
        await pilot.pause()
        assert get_selection(app.db, "default").k == 2
        assert screen.example_list.marks == {ids[1]: 1, ids[2]: 2}
        await pilot.press("m")  # -> by tag
        await pilot.pause()
        screen.query_one("#selection-tag", Select).value = "x"
        await pilot.pause()
        assert get_selection(app.db, "default") == FewShotSelection("tag", (), 2, "x")
        assert screen.example_list.marks == {ids[0]: 1, ids[2]: 2}

        # another prompt has its own selection
        app.active_prompt = "other"
        await pilot.pause()
        assert screen.example_list.marks == {}
        assert str(screen.query_one("#selection-total", Static).render()).startswith("0 examples")
        await move_to(pilot, screen, ids[1])
        await pilot.press("space")
        await pilot.pause()
        assert get_selection(app.db, "other") == FewShotSelection(ids=(ids[1],))
        app.active_prompt = "default"
        await pilot.pause()
        assert screen.example_list.marks == {ids[0]: 1, ids[2]: 2}


async def test_selection_survives_restart(db_path):
    ids = seed(db_path, (pair("one", "1"), "few-shot", []), (pair("two", "2"), "few-shot", []))
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        for example_id in (ids[1], ids[0]):
            await move_to(pilot, screen, example_id)
            await pilot.press("space")
        await pilot.pause()
        before = str(screen.query_one("#selection-total", Static).render())

    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert screen.example_list.marks == {ids[1]: 1, ids[0]: 2}
        assert str(screen.query_one("#selection-total", Static).render()) == before
        assert before.startswith("2 examples · ")


async def import_file(pilot, app, path: Path, screen: ExamplesScreen) -> str:
    await pilot.press("i")
    await pilot.pause()
    app.screen.query_one("#import-path", Input).value = str(path)
    await pilot.press("enter")
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    return str(screen.query_one("#examples-message", Static).render())


async def test_import_jsonl_reports_bad_lines_by_number(db_path, tmp_path):
    path = tmp_path / "examples.jsonl"
    shutil.copy(DATA / "examples_import.jsonl", path)
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        message = await import_file(pilot, app, path, screen)
        assert message.startswith("Imported 3 examples from examples.jsonl; skipped 2: line 3: ")
        assert "line 4: no assistant reply after the last user message" in message
        rows = store.list_examples(app.db, dataset_id=None, order="position")
        assert [(r.source_line, r.split) for r in rows] == [
            (1, "few-shot"),
            (2, "few-shot"),
            (6, "few-shot"),
        ]
        assert rows[0].tags == ["geo"]
        assert len(rows[1].messages) == 4  # multi-turn kept as messages
        assert rows[2].messages == pair("2+2?", "4")["messages"]
        assert rows[2].tags == ["math", "quick"]
        assert screen.example_list.total == 3


async def test_import_csv_with_tags_and_a_bad_line(db_path, tmp_path):
    path = tmp_path / "examples.csv"
    shutil.copy(DATA / "examples_import.csv", path)
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        message = await import_file(pilot, app, path, screen)
        assert message == (
            "Imported 3 examples from examples.csv; skipped 1: line 5: 'output' is empty"
        )
        rows = store.list_examples(app.db, dataset_id=None, order="position")
        assert [r.source_line for r in rows] == [2, 3, 6]
        assert rows[0].tags == ["lang", "fr"]
        assert rows[1].messages[0]["content"] == "A quoted\nmulti-line input"


async def test_import_csv_without_columns_names_them(db_path, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("question,answer\nq,a\n", encoding="utf-8")
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        message = await import_file(pilot, app, path, screen)
        assert message.startswith("Import failed: bad.csv line 1: needs input/output")
        assert "'question', 'answer'" in message
        assert store.count_examples(app.db) == 0


async def test_promote_to_a_dataset_moves_the_example(db_path):
    ids = seed(db_path, (pair("keep", "me"), "few-shot", []), (pair("move", "me"), "few-shot", []))
    db = open_db(db_path)
    dataset = store.create_dataset(db, "support-v1")
    set_selection(db, "default", FewShotSelection(ids=tuple(ids)))
    db.close()
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await move_to(pilot, screen, ids[1])
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("enter")  # the highlighted dataset in the list
        await pilot.pause()
        moved = store.get_example(app.db, ids[1])
        assert (moved.dataset_id, moved.split) == (dataset.id, "train")
        assert listed_ids(screen) == [ids[0]]
        assert screen.example_list.marks == {ids[0]: 1}  # no longer few-shot: out of the prompt
        assert store.count_examples(app.db) == 2  # moved, not copied


async def test_promote_refuses_held_out_test_example(db_path):
    (test_id,) = seed(db_path, (pair("held", "out"), "test", []))
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await move_to(pilot, screen, test_id)
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ExamplesScreen)
        assert store.get_example(app.db, test_id).dataset_id is None


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_bracketed_text_renders_literally(db_path, size):
    tricky = "[/INST] [bold]not bold[/bold] [link=x]"
    (example_id,) = seed(db_path, (pair(tricky, "[/] ok"), "few-shot", ["[red]tag"]))
    app = make_app(db_path)
    async with app.run_test(size=size) as pilot:
        screen = await ready(app, pilot)
        lst = screen.query_one(ExampleList)
        line = lst.render_line(0).text
        assert "[/INST] [bold]" in line
        assert lst.highlighted.id == example_id
        detail = screen.query_one("#examples-detail-text", Static).render()
        assert tricky in str(detail)
        assert "[red]tag" in str(detail)
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.query_one("#form-input", TextArea).text == tricky


async def test_multi_turn_edits_as_json_and_reports_the_line(db_path):
    multi = {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "bye"},
            {"role": "assistant", "content": "see you"},
        ]
    }
    (example_id,) = seed(db_path, (multi, "few-shot", []))
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ExampleForm) and form.json_mode
        editor = form.query_one("#form-json", TextArea)
        editor.load_text(
            '[{"role": "user", "content": "x"},\n {"role": "assistant" "content": "y"}]'
        )
        await pilot.pause()
        form.save_now()
        error = str(form.query_one("#form-error", Static).render())
        assert error.startswith("messages JSON, line 2 column ")
        assert store.get_example(app.db, example_id).data == multi  # nothing half-saved
        await pilot.press("escape")  # warns first, keeps the form
        await pilot.pause()
        assert app.screen is form
        editor.load_text(
            '[{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]'
        )
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ExamplesScreen)
        assert store.get_example(app.db, example_id).data == pair("x", "y")


async def test_paging_never_holds_every_row(db_path):
    db = open_db(db_path)
    store.add_examples(
        db, ({"data": pair(f"q{i}", f"a{i}")} for i in range(2500)), None, split="few-shot"
    )
    db.close()
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        lst = screen.example_list
        assert lst.total == 2500
        await pilot.press("end")
        await pilot.pause()
        assert lst.cursor == 2499
        assert lst.highlighted is not None
        held = sum(len(page) for page in lst._pages.values())
        assert held <= 300


async def test_palette_offers_the_pane_actions(db_path):
    seed(db_path, (pair("q", "a"), "few-shot", []))
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        # built from the pane's bindings: each action once, with its key; the modes by name
        commands = {c.title: c.help for c in screen.palette_commands()}
        for description, key in (  # the keys as the palette shows them
            ("Add", "a"),
            ("Edit", "e"),
            ("Pick", "space"),
            ("Delete", "d"),
            ("Undo delete", "^z"),
            ("Duplicate", "c"),
            ("Import", "i"),
            ("Promote", "p"),
            ("Selection mode", "m"),
            ("Search", "/"),
        ):
            title = f"Examples: {description}"
            assert title in commands, title
            assert commands[title].endswith(f"({key})"), (title, commands[title])
        assert "JSONL or CSV" in commands["Examples: Import"]
        for label, _mode in MODE_OPTIONS:
            assert f"Examples: selection {label}" in commands

        # they run their actions, from the palette as a user would
        await run_from_palette(app, pilot, "selection by tag", "Examples: selection by tag")
        await wait_until(pilot, lambda: screen.selection.mode == "tag", "the tag mode")
        await run_from_palette(app, pilot, "examples add", "Examples: Add")
        await wait_until(pilot, lambda: isinstance(app.screen, ExampleForm), "the form")


async def test_form_saves_while_typing_without_closing(db_path):
    (example_id,) = seed(db_path, (pair("old question", "old answer"), "few-shot", []))
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#form-note", Input).value = "checked by Ana"
        app.screen.query_one("#form-split", Select).value = "test"
        saved = None
        for _ in range(50):  # the debounced write lands after a short pause in typing
            await pilot.pause(0.05)
            saved = store.get_example(app.db, example_id)
            if saved.note == "checked by Ana" and saved.split == "test":
                break
        assert (saved.note, saved.split) == ("checked by Ana", "test")
        assert isinstance(app.screen, ExampleForm)  # still open: no save step needed


async def test_rows_promoted_elsewhere_show_up_when_returning(db_path):
    db = open_db(db_path)
    dataset = store.create_dataset(db, "train-set")
    row = store.add_example(db, pair("from training", "yes"), dataset_id=dataset.id)
    db.close()
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert screen.example_list.total == 0
        await pilot.press("f3")
        await pilot.pause()
        store.promote_to_few_shot(app.db, row.id)  # what the Training data pane does
        await pilot.press("f2")
        await pilot.pause()
        assert listed_ids(screen) == [row.id]
        assert not screen.query_one("#examples-empty").display


async def test_import_path_completes_file_names(tmp_path):
    from workbench.ui.widgets.path_suggester import PathSuggester

    (tmp_path / "support_examples.jsonl").write_text("{}\n", encoding="utf-8")
    (tmp_path / "data").mkdir()
    suggester = PathSuggester()
    assert await suggester.get_suggestion(f"{tmp_path}/supp") == (
        f"{tmp_path}/support_examples.jsonl"
    )
    assert await suggester.get_suggestion(f"{tmp_path}/da") == f"{tmp_path}/data/"
    assert await suggester.get_suggestion(f"{tmp_path}/nothing-like-this") is None
    # hidden names only when asked for: the Training pane offered them, Examples did not
    (tmp_path / ".secret.jsonl").write_text("{}\n", encoding="utf-8")
    assert await suggester.get_suggestion(f"{tmp_path}/") == f"{tmp_path}/data/"
    assert await suggester.get_suggestion(f"{tmp_path}/.se") == f"{tmp_path}/.secret.jsonl"


def test_every_path_field_uses_the_one_suggester():
    from workbench.ui import examples_dialogs, training_modals
    from workbench.ui.widgets.path_suggester import PathSuggester

    assert examples_dialogs.PathSuggester is training_modals.PathSuggester is PathSuggester


async def test_duplicate_and_filter_by_split_and_tag(db_path):
    ids = seed(
        db_path,
        (pair("a", "A"), "few-shot", ["x"]),
        (pair("b", "B"), "test", ["x"]),
        (pair("c", "C"), "few-shot", ["y"]),
    )
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await move_to(pilot, screen, ids[0])
        await pilot.press("c")
        await pilot.pause()
        copy = screen.example_list.highlighted
        assert copy.id not in ids
        assert (copy.data, copy.tags, copy.split) == (pair("a", "A"), ["x"], "few-shot")

        screen.query_one("#examples-split", Select).value = "test"
        await pilot.pause()
        assert listed_ids(screen) == [ids[1]]
        screen.query_one("#examples-split", Select).clear()
        screen.query_one("#examples-tag", Select).value = "x"
        await pilot.pause()
        assert listed_ids(screen) == [ids[0], ids[1], copy.id]
        screen.query_one("#examples-split", Select).value = "few-shot"
        await pilot.pause()
        assert listed_ids(screen) == [ids[0], copy.id]


async def test_escape_leaves_the_search_box_and_keeps_the_filter(db_path):
    """Escape did nothing in the search box: the keys typed after it landed in the search."""
    seed(
        db_path,
        (pair("billing question", "a"), "few-shot", []),
        (pair("other", "b"), "few-shot", []),
    )
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        search = screen.query_one("#examples-search", Input)
        await pilot.press("slash")
        await pilot.press(*"billing")
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is screen.example_list
        await pilot.press("j")  # a list key, not a letter of the search
        await pilot.pause()
        assert search.value == "billing"
        for _ in range(20):
            if screen.example_list.total == 1:
                break
            await pilot.pause(0.05)
        assert screen.example_list.total == 1
