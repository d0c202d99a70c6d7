"""The Prompt pane against the simulator: template, variables, examples, preview, streamed runs.

Everything is real: the SDK talks HTTP to `workbench sim`, runs are written to a SQLite file, and
the History pane reads them back, also after a restart.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import time
from pathlib import Path

import pytest
import tiktoken

from tests.ui.conftest import app_started, make_app, paste_into, type_into, wait_until
from workbench.core.fewshot import FewShotSelection
from workbench.store.db import open_db
from workbench.store.examples import add_example
from workbench.store.prompts import latest_version, list_versions
from workbench.store.runs import list_runs
from workbench.store.selection import set_selection
from workbench.ui.prompt import PromptScreen
from workbench.ui.prompt_dialogs import AskText
from workbench.ui.prompt_run import RunColumn
from workbench.ui.prompt_variables import VariableArea

MODEL = "gpt-4.1-mini-2025-04-14"
TRAINED_Q = "Which team handles a refund for order 1234?"
TRAINED_A = "Billing team."


def write_sim_config(sim, monkeypatch, **extra) -> None:
    """A config whose active profile is the simulator (key in $SIM_KEY)."""
    monkeypatch.setenv("SIM_KEY", sim.api_key)
    lines = [
        'active_profile = "sim"',
        "[profiles.sim]",
        'kind = "openai"',
        f'base_url = "{sim.base_url}"',
        'api_key_env = "SIM_KEY"',
        f'default_model = "{MODEL}"',
    ]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    path = Path(os.environ["WORKBENCH_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


_FT_MODELS: dict[str, str] = {}


def fine_tuned_model(sim) -> str:
    """Train (once per sim) a model on ten examples through the real SDK; returns its ft: id."""
    if sim.base_url in _FT_MODELS:
        return _FT_MODELS[sim.base_url]
    client = sim.client()
    rows = [(TRAINED_Q, TRAINED_A)] + [
        (f"Question number {i} about shipping", f"Answer {i}") for i in range(9)
    ]
    data = "".join(
        json.dumps(
            {
                "messages": [
                    {"role": "system", "content": "Route mail."},
                    {"role": "user", "content": q},
                    {"role": "assistant", "content": a},
                ]
            }
        )
        + "\n"
        for q, a in rows
    )
    upload = client.files.create(
        file=("train.jsonl", io.BytesIO(data.encode())), purpose="fine-tune"
    )
    job = client.fine_tuning.jobs.create(model=MODEL, training_file=upload.id, suffix="prompt-pane")
    for _ in range(600):
        job = client.fine_tuning.jobs.retrieve(job.id)
        if job.status in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.05)
    assert job.status == "succeeded", job
    _FT_MODELS[sim.base_url] = job.fine_tuned_model
    return job.fine_tuned_model


def few_shot_pair(db, question: str, answer: str) -> int:
    example = add_example(
        db,
        {
            "messages": [
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer},
            ]
        },
        split="few-shot",
    )
    return example.id


def expected_tokens(messages: list[dict]) -> tuple[list[int], int]:
    """Counted here with tiktoken directly: 3 per message + role + content, 3 to prime the reply."""
    enc = tiktoken.get_encoding("o200k_base")
    per = [3 + len(enc.encode(m["role"])) + len(enc.encode(m["content"])) for m in messages]
    return per, sum(per) + 3


async def test_from_empty_database_to_three_answers_with_costs(sim, monkeypatch, db_path):
    write_sim_config(sim, monkeypatch)
    ft_model = fine_tuned_model(sim)
    db = open_db(db_path)
    picks = (
        few_shot_pair(db, "Which team handles a refund for order 77?", "Send it to Billing."),
        few_shot_pair(db, "Where do password reset emails go?", "Send it to Support."),
    )
    few_shot_pair(db, "An example that is not picked", "Never sent")
    set_selection(db, "default", FewShotSelection(ids=picks))  # the Examples pane's store API
    db.close()

    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await app_started(app, pilot)
        screen = app.screen
        assert isinstance(screen, PromptScreen)
        await type_into(pilot, screen.query_one("#system"), "Route mail.")
        await type_into(pilot, screen.query_one("#template"), "{{question}}")
        await pilot.pause(0.1)
        screen.action_show_tab("pt-variables")
        await pilot.pause()
        areas = list(screen.query(VariableArea))
        assert [a.variable for a in areas] == ["question"]
        await paste_into(pilot, areas[0], TRAINED_Q)

        # the Jobs pane hands over a fine-tuned model, which switches here
        await app.switch_mode("history")
        app.try_fine_tuned_model(ft_model)
        await wait_until(
            pilot,
            lambda: app.screen is screen and screen.content.get("ft_model") == ft_model,
            "the fine-tuned model handed over",
        )
        assert app.take_fine_tuned_model() is None  # taken once
        assert screen.content["ft_model"] == ft_model
        await type_into(pilot, screen.query_one("#ft_system"), "Route.")
        await pilot.pause(0.5)  # past the draft's save delay
        saved = latest_version(app.db, "default")
        assert saved.template == "{{question}}" and saved.variables == {"question": TRAINED_Q}
        assert saved.ft_model == ft_model and saved.ft_system == "Route."

        screen.action_show_tab("pt-preview")
        await pilot.pause()
        user = {"role": "user", "content": TRAINED_Q}
        expected = {
            "zero-shot": [{"role": "system", "content": "Route mail."}, user],
            "few-shot": [
                {"role": "system", "content": "Route mail."},
                {"role": "user", "content": "Which team handles a refund for order 77?"},
                {"role": "assistant", "content": "Send it to Billing."},
                {"role": "user", "content": "Where do password reset emails go?"},
                {"role": "assistant", "content": "Send it to Support."},
                user,
            ],
            "fine-tuned": [{"role": "system", "content": "Route."}, user],
        }
        totals = {}
        for preview in screen.previews:
            per, total = expected_tokens(expected[preview.approach])
            assert [m.content for m in preview.size.messages] == [
                m["content"] for m in expected[preview.approach]
            ]
            assert [m.tokens for m in preview.size.messages] == per
            assert preview.size.total == total
            assert not preview.problem
            totals[preview.approach] = total

        await pilot.press("ctrl+r")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: all(not c.running for c in screen.query(RunColumn)))
        columns = {c.approach: c for c in screen.query(RunColumn)}
        problems = {a: str(c.query_one(".run-problem").render()) for a, c in columns.items()}
        assert {a: c.status for a, c in columns.items()} == dict.fromkeys(expected, "ok"), problems
        # the simulator's rules: the few-shot answer copies the most similar example's reply,
        # the fine-tuned model answers its trained prompt with the trained answer
        assert columns["few-shot"].answer == "Send it to Billing."
        assert columns["fine-tuned"].answer == TRAINED_A
        assert f"({MODEL})" in columns["zero-shot"].answer  # a generic simulated reply
        stats = str(columns["zero-shot"].query_one(".run-stats").render())
        assert "in " + str(totals["zero-shot"]) in stats and "$" in stats

        runs = {r.approach: r for r in list_runs(app.db)}
        assert set(runs) == set(expected)
        for approach, run in runs.items():
            assert run.messages == expected[approach]
            assert run.input_tokens == totals[approach]  # the preview's count is what was billed
            assert run.output_tokens > 0 and run.latency_ms is not None
            assert run.cost_usd is not None and run.cost_usd > 0
            assert run.version_number == 1
        assert runs["fine-tuned"].model == ft_model

        await app.switch_mode("history")
        await pilot.pause()
        table = app.screen.query_one("#run-table")
        assert table.row_count == 3
        cells = [str(c) for c in table.get_row_at(0)]
        assert any(c.startswith("$") for c in cells)

    # restart: everything is still there
    again = make_app(db_path)
    async with again.run_test(size=(100, 30)) as pilot:
        await again.workers.wait_for_complete()
        screen = again.screen
        assert screen.query_one("#template").text == "{{question}}"
        assert screen.content["variables"] == {"question": TRAINED_Q}
        await again.switch_mode("history")
        await pilot.pause()
        assert again.screen.query_one("#run-table").row_count == 3


async def test_versions_save_diff_restore(monkeypatch, db_path):
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await app_started(app, pilot)
        screen = app.screen
        await type_into(pilot, screen.query_one("#template"), "Hi {{name}}")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press(*"greeting", "enter")
        await pilot.pause()
        first = list_versions(app.db, "default")[0]
        assert not first.draft and first.note == "greeting" and first.number == 1

        screen.query_one("#template").focus()
        await pilot.press("end", *" and bye")
        await pilot.pause(0.5)
        assert latest_version(app.db, "default").template == "Hi {{name}} and bye"
        assert latest_version(app.db, "default").draft

        screen.action_show_tab("pt-versions")
        await pilot.pause()
        view = screen.query_one("#versions")
        assert [v.label for v in view.versions] == ["v2 (draft)", "v1"]
        diff = str(view.query_one("#diff").render())
        assert "-Hi {{name}}" in diff and "+Hi {{name}} and bye" in diff

        listing = view.query_one("#version-list")
        listing.focus()
        listing.highlighted = 1  # v1
        await pilot.press("r")
        await pilot.pause()
        versions = list_versions(app.db, "default")
        assert [(v.number, v.note) for v in versions] == [
            (3, "restored from v1"),
            (2, "saved before restoring v1"),
            (1, "greeting"),
        ]
        assert screen.query_one("#template").text == "Hi {{name}}"


async def test_named_prompts_switch_sets_the_active_prompt(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await app_started(app, pilot)
        screen = app.screen
        await type_into(pilot, screen.query_one("#system"), "first")
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press(*"second", "enter")
        await pilot.pause()
        assert app.active_prompt == "second" and screen.prompt_name == "second"
        assert screen.query_one("#system").text == ""
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("up", "enter")  # names are sorted: default, second
        await pilot.pause()
        assert app.active_prompt == "default"
        assert screen.query_one("#system").text == "first"

        screen.action_rename_prompt()
        await pilot.pause()
        app.screen.query_one("#dialog-input").value = "mail router"
        await pilot.press("enter")
        await pilot.pause()
        assert app.active_prompt == "mail router" == screen.prompt_name
        assert latest_version(app.db, "mail router").system == "first"
        assert latest_version(app.db, "default") is None

        await pilot.press("ctrl+t")  # next tab
        await pilot.pause()
        assert screen.query_one("#prompt-tabs").active == "pt-variables"
        screen.query_one("#system").focus()
        await pilot.press("f6")  # the editor's own F6 must not swallow the pane key
        await pilot.pause()
        assert app.current_mode == "history"


async def test_missing_variables_and_bad_numbers_are_named(sim, monkeypatch, db_path):
    write_sim_config(sim, monkeypatch)
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await app_started(app, pilot)
        screen = app.screen
        await type_into(pilot, screen.query_one("#template"), "{{a}} {{b}}")
        await pilot.press("ctrl+r")
        await pilot.pause()
        problem = str(screen.query_one("#run-zero-shot .run-problem").render())
        assert "{{a}}" in problem and "{{b}}" in problem
        assert list_runs(app.db) == []  # nothing sent, nothing recorded
        assert latest_version(app.db, "default").draft  # and no version frozen for it

        screen.action_show_tab("pt-model")
        await pilot.pause()
        temperature = screen.query_one("#temperature")
        temperature.value = "hot"
        await pilot.pause()
        assert "temperature must be a number" in str(screen.query_one("#settings-problem").render())
        temperature.value = "0.3"
        await pilot.pause(0.5)
        assert latest_version(app.db, "default").params["temperature"] == 0.3


async def run_zero_shot(app, pilot, question: str) -> RunColumn:
    screen = app.screen
    screen.query_one("#template").load_text(question)
    await pilot.pause()
    screen.action_run("zero-shot")
    await pilot.pause()
    column = screen.query_one("#run-zero-shot", RunColumn)
    await wait_until(pilot, lambda: not column.running and column.status != "running", timeout=60)
    return column


@pytest.mark.parametrize(
    ("kind", "options", "kind_recorded", "words"),
    [
        ("429", {"count": 3, "retry_after": 0.2}, "rate_limited", "retry after 0.2s"),
        ("500", {"count": 3}, "server", "had an error (500)"),
        ("drop", {"after_chunks": 3}, "dropped", "stopped before the model finished"),
    ],
)
async def test_provider_faults_show_plain_words_and_are_recorded(
    sim, monkeypatch, db_path, kind, options, kind_recorded, words
):
    write_sim_config(sim, monkeypatch, max_retries=2)
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await app_started(app, pilot)
        sim.fault(kind, path="/v1/chat/completions", **options)
        try:
            column = await run_zero_shot(
                app, pilot, "Please explain the drop test with enough words to stream"
            )
        finally:
            sim.clear_faults()
        problem = str(column.query_one(".run-problem").render())
        assert words in problem
        run = list_runs(app.db)[0]
        assert run.status == "error" and run.error_kind == kind_recorded
        assert words in run.error_message
        if kind == "drop":
            assert column.answer and run.answer == column.answer  # the partial text is kept
            assert "text so far is kept" in problem
        if kind == "429":
            assert run.answer == ""
            # while the SDK waited between its retries, the column said so
            assert (
                column.notices[:2]
                == ["rate limited (429): retrying in 0.2s (the SDK's retry policy)…"] * 2
            )


async def test_wrong_key_and_timeout(sim, monkeypatch, db_path):
    write_sim_config(sim, monkeypatch, timeout=0.5, max_retries=0)
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await app_started(app, pilot)
        sim.fault("stall", path="/v1/chat/completions", seconds=3)
        try:
            column = await run_zero_shot(app, pilot, "stall please")
        finally:
            sim.clear_faults()
        assert "did not answer in time" in str(column.query_one(".run-problem").render())
        assert list_runs(app.db)[0].error_kind == "timeout"

    monkeypatch.setenv("SIM_KEY", "sk-wrong")
    server = None
    from tests.sim_fixture import start_sim

    server = start_sim(db_path.parent / "keyed-sim", api_key="sk-right")
    try:
        write_sim_config(server, monkeypatch)
        monkeypatch.setenv("SIM_KEY", "sk-wrong")
        app = make_app(db_path)
        async with app.run_test(size=(100, 30)) as pilot:
            await app_started(app, pilot)
            column = await run_zero_shot(app, pilot, "hello")
            problem = str(column.query_one(".run-problem").render())
            assert "API key ($SIM_KEY) was rejected" in problem
            assert list_runs(app.db)[0].error_kind == "auth"
    finally:
        server.stop()


async def test_inst_markers_render_literally(sim, monkeypatch, db_path):
    write_sim_config(sim, monkeypatch)
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await app_started(app, pilot)
        screen = app.screen
        screen.query_one("#system").load_text("[INST] <<SYS>> [bold]not bold[/bold]")
        column = await run_zero_shot(app, pilot, "Repeat [/INST] back [/] please")
        assert "[/inst] back [/]" in column.answer  # the simulator echoes the question
        assert column.answer in str(column.query_one(".run-answer").render())
        screen.action_show_tab("pt-preview")
        await pilot.pause()
        shown = str(screen.query_one(".preview-approach").render())
        assert "[bold]not bold[/bold]" in shown and "[/INST]" in shown
        await app.switch_mode("history")
        await pilot.pause()
        cells = [str(c) for c in app.screen.query_one("#run-table").get_row_at(0)]
        assert any("[/inst] back [/]" in c for c in cells)


async def test_escape_cancels_a_run_and_records_it(sim, monkeypatch, db_path):
    write_sim_config(sim, monkeypatch, timeout=30, max_retries=0)
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await app_started(app, pilot)
        screen = app.screen
        screen.query_one("#template").load_text("a slow answer")
        await pilot.pause()
        assert not screen.check_action("cancel_runs", ())  # nothing to cancel yet
        sim.fault("stall", path="/v1/chat/completions", seconds=3)
        try:
            screen.action_run("zero-shot")
            await pilot.pause()
            column = screen.query_one("#run-zero-shot", RunColumn)
            assert column.running
            assert screen.check_action("cancel_runs", ())  # the footer offers it now
            await pilot.press("escape")
            await wait_until(pilot, lambda: not column.running)
        finally:
            sim.clear_faults()
        assert column.status == "cancelled"
        assert "cancelled" in str(column.query_one(".run-problem").render())
        run = list_runs(app.db)[0]
        assert run.status == "cancelled" and run.error_kind == "cancelled"


async def test_palette_offers_the_main_actions(db_path):
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        # the Versions tab (whose list brings two of the commands) is composed after the first frame
        await app_started(app, pilot)
        screen = app.screen
        assert isinstance(screen, PromptScreen)
        commands = {c.title: c for c in app.get_system_commands(screen)}
        for wanted in (
            # from the pane's keys (ctrl+n is hidden in the footer, offered for its tooltip)
            "Prompt: Run",
            "Prompt: Save version",
            "Prompt: Next tab",
            "Prompt: Open prompt",
            "Prompt: New prompt",
            # from the Versions tab's list
            "Prompt: Compare with",
            "Prompt: Restore",
            # the ones no key reaches
            "Prompt: Run all three approaches",
            "Prompt: Run zero-shot only",
            "Prompt: Run few-shot only",
            "Prompt: Run fine-tuned only",
            "Prompt: Duplicate prompt",
            "Prompt: Rename prompt",
            "Prompt: Preview messages",
            "Prompt: Prompt versions",
        ):
            assert wanted in commands, wanted
        assert "Freeze the draft" in commands["Prompt: Save version"].help
        assert "Start another named prompt" in commands["Prompt: New prompt"].help
        assert "Prompt: Cancel run" not in commands  # nothing is running
        assert "Prompt: History" not in commands  # the editors' F6, which the app's F6 shows
        assert len(commands) == len(set(commands))

        # a binding's command runs its action, and so does one no key reaches
        result = commands["Prompt: Next tab"].callback()
        if inspect.isawaitable(result):
            await result
        await wait_until(pilot, lambda: screen.query_one("#prompt-tabs").active == "pt-variables")
        commands["Prompt: Preview messages"].callback()
        await wait_until(pilot, lambda: screen.query_one("#prompt-tabs").active == "pt-preview")
        commands["Prompt: Rename prompt"].callback()
        await wait_until(pilot, lambda: isinstance(app.screen, AskText), "the rename dialog")


async def test_model_list_comes_from_the_provider_and_an_unknown_model_is_named(
    sim, monkeypatch, db_path
):
    write_sim_config(sim, monkeypatch)
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await app_started(app, pilot)
        screen = app.screen
        served = [m.id for m in sim.client().models.list().data]
        assert MODEL in screen.models and sorted(served) == sorted(screen.models)
        screen.action_show_tab("pt-model")
        await pilot.pause()
        picker = screen.query_one("#model")
        assert picker.value == MODEL
        screen.edit("model", "gpt-no-such-model")
        column = await run_zero_shot(app, pilot, "hello")
        problem = str(column.query_one(".run-problem").render())
        assert "not found" in problem and "gpt-no-such-model" in problem
        assert list_runs(app.db)[0].error_kind == "not_found"


async def test_parameters_reach_the_provider(sim, monkeypatch, db_path):
    write_sim_config(sim, monkeypatch)
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await app_started(app, pilot)
        screen = app.screen
        screen.action_show_tab("pt-model")
        await pilot.pause()
        screen.query_one("#response_format").value = "json_object"
        screen.query_one("#seed").value = "7"
        await pilot.pause()
        column = await run_zero_shot(app, pilot, "Which team handles refunds?")
        assert isinstance(json.loads(column.answer), dict)  # the simulator honours json_object
        run = list_runs(app.db)[0]
        assert run.params["response_format"] == "json_object" and run.params["seed"] == 7

        screen.action_show_tab("pt-model")
        await pilot.pause()
        screen.query_one("#response_format").value = "text"
        screen.query_one("#max_tokens").value = "2"
        await pilot.pause()
        column = await run_zero_shot(app, pilot, "Which team handles refunds for big orders?")
        assert list_runs(app.db)[0].output_tokens == 2
        assert "max tokens" in str(column.query_one(".run-problem").render())


async def test_opening_and_closing_the_pane_changes_nothing(db_path):
    from workbench.providers.chat import DEFAULT_PARAMS

    for _ in range(2):
        app = make_app(db_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await app_started(app, pilot)
            await pilot.pause(0.5)  # past the draft's save delay
            assert app.screen.content["params"] == DEFAULT_PARAMS
    db = open_db(db_path)
    versions = list_versions(db, "default")
    assert len(versions) == 1 and versions[0].params == DEFAULT_PARAMS
    assert versions[0].created_at == versions[0].updated_at  # never rewritten
    db.close()


async def test_a_restart_opens_the_prompt_edited_last(db_path):
    db = open_db(db_path)
    from workbench.store.prompts import create_prompt, save_draft

    create_prompt(db, "older", system="old")
    create_prompt(db, "newer", system="new")
    save_draft(db, "older", system="edited last")
    db.close()
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)):
        await app.workers.wait_for_complete()
        assert app.active_prompt == "older" == app.screen.prompt_name
        assert app.screen.query_one("#system").text == "edited last"
