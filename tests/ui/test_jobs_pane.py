"""The Jobs pane against the real simulator (real SDK, real HTTP, real SQLite), driven by Pilot."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from tests.ui.conftest import app_factory, wait_until
from workbench.providers.openai_api import TRAINING_NOT_AVAILABLE_HELP
from workbench.store import examples as ex
from workbench.store import jobs as store
from workbench.store.db import open_db
from workbench.ui.jobs import JobPolled, JobsScreen
from workbench.ui.jobs_chart import LossChart
from workbench.ui.jobs_create import CreateJobModal
from workbench.ui.jobs_view import JobView

SIZE = (100, 30)


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch):
    monkeypatch.setattr(JobsScreen, "POLL_MINIMUM", 0.05)
    monkeypatch.setattr(JobsScreen, "POLL_MAXIMUM", 0.5)
    monkeypatch.setattr(JobsScreen, "REDRAW_SECONDS", 0.05)


def use_sim(monkeypatch, server) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)


def example(i: int) -> dict:
    return {
        "messages": [
            {"role": "system", "content": "You answer support questions."},
            {"role": "user", "content": f"question {i} [/INST] about [bold]orders[/bold]"},
            {"role": "assistant", "content": f"answer {i}"},
        ]
    }


def make_dataset(db_path, name: str, train: int = 12, validation: int = 3) -> int:
    db = open_db(db_path)
    try:
        dataset = ex.create_dataset(db, name)
        ex.add_examples(db, ({"data": example(i)} for i in range(train)), dataset.id, "train")
        ex.add_examples(
            db, ({"data": example(100 + i)} for i in range(validation)), dataset.id, "validation"
        )
        return dataset.id
    finally:
        db.close()


make_app = app_factory("jobs")


def stored(db_path, base_url, job_id):
    db = open_db(db_path)
    try:
        return store.get_job(db, base_url, job_id)
    except KeyError:
        return None
    finally:
        db.close()


def upload_and_create(server, lines: list[str], **kwargs) -> str:
    client = server.client()
    data = ("\n".join(lines) + "\n").encode()
    file_id = client.files.create(file=("train.jsonl", data), purpose="fine-tune").id
    job = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14", training_file=file_id, **kwargs
    )
    client.close()
    return job.id


def jobs_screen(app) -> JobsScreen:
    screen = app.screen
    assert isinstance(screen, JobsScreen)
    return screen


async def test_launch_from_dataset_and_watch_to_success(sim, monkeypatch, db_path):
    use_sim(monkeypatch, sim)
    name = f"support [/INST] {uuid.uuid4().hex[:6]}"
    make_dataset(db_path, name)
    suffix = f"ui{uuid.uuid4().hex[:6]}"
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, CreateJobModal), "the create form")
        modal = app.screen
        modal.query_one("#create-suffix").value = suffix
        assert modal.query_one("#create-validation").value is True
        modal.action_preflight()
        await wait_until(
            pilot,
            lambda: modal.preflight_result is not None,
            f"the pre-flight ({modal.query_one('#create-error').render()})",
            600,
        )
        preflight = str(modal.query_one("#create-preflight").render())
        assert "12 examples" in preflight and "billed tokens" in preflight
        assert "epochs" in preflight and "estimated cost" in preflight
        assert "2027-01-14" in preflight and "2027-01-06" in preflight
        await pilot.press("ctrl+l")
        await wait_until(
            pilot, lambda: isinstance(app.screen, JobsScreen), "the launch", timeout=60
        )
        screen = jobs_screen(app)
        job_id = screen.selected
        assert job_id and job_id.startswith("ftjob-")
        await wait_until(
            pilot,
            lambda: (
                (j := stored(db_path, sim.base_url, job_id)) is not None
                and j.status == "succeeded"
                and screen.query_one(JobView).detail.job.status == "succeeded"
                and screen.query_one(JobView).detail.results
            ),
            "the job to succeed",
            600,
        )
        detail = screen.query_one(JobView).detail
        job = detail.job
        assert job.dataset_name == name
        assert job.metadata["workbench_dataset"] == name
        assert job.suffix == suffix and job.validation_file
        assert job.fine_tuned_model and suffix in job.fine_tuned_model
        assert detail.checkpoints and all(c.metrics for c in detail.checkpoints)
        assert len(detail.points) == detail.points[-1].total_steps
        chart = screen.query_one(LossChart)
        assert set(chart.series) >= {"train loss", "valid loss"}
        assert len(chart.series["train loss"][0]) == len(detail.points)
        await pilot.press("a")
        assert "train acc" in chart.series
        events_text = str(screen.query_one("#job-events").render())
        assert "The job has successfully completed" in events_text
        assert "[/INST]" in str(screen.query_one("#job-summary").render())
        assert detail.results and "train_loss" in detail.results[0]
        await pilot.press("s")
        saved = db_path.parent / "exports" / f"{job_id}-results.csv"
        assert saved.read_text().startswith("step,train_loss")
        assert not detail.cost.estimated and detail.cost.usd is not None
        # try it in the Prompt pane: the model id goes through the app's declared hand-off
        tried: list[str] = []
        try_model = app.try_fine_tuned_model

        def spy(model: str) -> None:
            tried.append(model)
            try_model(model)

        app.try_fine_tuned_model = spy
        assert screen.check_action("try_model", ()) is True
        await pilot.press("t")
        await pilot.pause()
        assert tried == [job.fine_tuned_model]
        assert app.current_mode == "prompt"
        await pilot.press("f4")  # and back: the job is still there
        await pilot.pause()
        assert app.current_mode == "jobs" and jobs_screen(app).selected == job_id


async def test_training_not_available_is_explained_and_form_kept(sim, monkeypatch, db_path):
    use_sim(monkeypatch, sim)
    make_dataset(db_path, f"blocked {uuid.uuid4().hex[:6]}")
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, CreateJobModal), "the create form")
        modal = app.screen
        modal.query_one("#create-suffix").value = "kept"
        modal.query_one("#create-n_epochs").value = "2"
        sim.fault("training_not_available", count=1)
        modal.action_launch()
        await wait_until(
            pilot,
            lambda: "winding down" in str(modal.query_one("#create-error").render()),
            "the explanation",
            600,
        )
        assert app.screen is modal
        assert str(modal.query_one("#create-error").render()) == TRAINING_NOT_AVAILABLE_HELP
        assert modal.query_one("#create-suffix").value == "kept"
        assert modal.query_one("#create-n_epochs").value == "2"
        assert not modal.query_one("#create-launch").disabled


async def test_at_80x24_the_launch_error_and_the_cost_are_in_view(sim, monkeypatch, db_path):
    """At 80x24 the form scrolls: a refusal under the pre-flight was printed out of sight (the
    launch looked like it did nothing), and the pre-flight showed one line of six."""
    use_sim(monkeypatch, sim)
    make_dataset(db_path, f"small {uuid.uuid4().hex[:6]}")
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, CreateJobModal), "the create form")
        modal = app.screen
        form = modal.query_one("#create-form")
        modal.action_preflight()
        preflight = modal.query_one("#create-preflight")
        await wait_until(
            pilot, lambda: "estimated cost" in str(preflight.render()), "pre-flight", 600
        )
        await pilot.pause()
        assert form.scrollable_content_region.contains_region(preflight.region)
        sim.fault("training_not_available", count=1)
        modal.action_launch()
        error = modal.query_one("#create-error")
        await wait_until(
            pilot, lambda: "winding down" in str(error.render()), "the refusal", timeout=60
        )
        await pilot.pause()
        assert form.scrollable_content_region.contains_region(error.region)


async def test_bad_hyperparameter_names_the_field(sim, monkeypatch, db_path):
    use_sim(monkeypatch, sim)
    make_dataset(db_path, f"hp {uuid.uuid4().hex[:6]}")
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, CreateJobModal), "the create form")
        modal = app.screen
        modal.query_one("#create-n_epochs").value = "500"
        modal.action_launch()
        await pilot.pause()
        assert "epochs: must be between 1 and 50" in str(modal.query_one("#create-error").render())
        modal.query_one("#create-n_epochs").value = ""
        modal.query_one("#create-model").value = "gpt-4.1-nano-2025-04-14"
        await pilot.pause()
        assert "shut down" in str(modal.query_one("#create-model-note").render())
        modal.action_launch()
        await pilot.pause()
        assert "was shut down on 2026-10-23" in str(modal.query_one("#create-error").render())


async def test_failing_file_shows_its_error_with_the_line(sim, monkeypatch, db_path):
    use_sim(monkeypatch, sim)
    good = json.dumps(example(1))
    bad = json.dumps({"messages": [{"role": "user", "content": "no answer"}]})
    job_id = upload_and_create(sim, [good] * 11 + [bad], suffix=f"bad{uuid.uuid4().hex[:4]}")
    db = open_db(db_path)
    store.upsert_job(db, "default", sim.base_url, {"id": job_id, "status": "validating_files"})
    db.close()
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = jobs_screen(app)
        screen.selected = job_id
        await wait_until(
            pilot,
            lambda: (
                (d := screen.query_one(JobView).detail) is not None
                and d.job.id == job_id
                and d.job.status == "failed"
            ),
            "the job to fail",
            600,
        )
        summary = str(screen.query_one("#job-summary").render())
        assert "error" in summary and "line 12" in summary.lower()
        timeline = str(screen.query_one("#job-timeline").render())
        assert "✗ failed" in timeline


async def test_pause_resume_cancel_with_confirmation(sim_factory, monkeypatch, db_path):
    # speed 60: queued after 1 s, then 360 steps of 0.2 s (30 epochs). The job is cancelled long
    # before it ends, so the length costs nothing; it only has to outlast the three dialogs on a
    # busy machine (8 auto epochs, 19 s, once finished first and the cancel never came).
    server = sim_factory(speed=60)
    use_sim(monkeypatch, server)
    job_id = upload_and_create(
        server,
        [json.dumps(example(i)) for i in range(12)],
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 30}}},
    )
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = jobs_screen(app)

        def status() -> str | None:
            job = stored(db_path, server.base_url, job_id)
            return job.status if job else None

        await wait_until(pilot, lambda: status() == "running", "the job to run", timeout=60)
        screen.selected = job_id
        # pause follows the selected job's state: on once the pane has drawn it running
        await wait_until(
            pilot,
            lambda: screen.check_action("job_action", ("pause",)) is True,
            "pause to be on for the running job",
        )
        assert screen.check_action("job_action", ("resume",)) is None
        await pilot.press("p")
        await wait_until(pilot, lambda: app.screen is not screen, "the confirmation")
        await pilot.press("n")  # said no: nothing happens
        await pilot.pause()
        assert status() == "running"
        await pilot.press("p")
        await wait_until(pilot, lambda: app.screen is not screen, "the confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: status() == "paused", "the pause", timeout=60)
        await wait_until(
            pilot, lambda: "paused" in str(screen.query_one("#job-timeline").render()), "redraw"
        )
        assert screen.check_action("job_action", ("pause",)) is None
        assert screen.check_action("job_action", ("resume",)) is True
        await pilot.press("r")
        await wait_until(pilot, lambda: app.screen is not screen, "the confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: status() in ("queued", "running"), "the resume", timeout=60)
        await pilot.press("c")
        await wait_until(pilot, lambda: app.screen is not screen, "the confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: status() == "cancelled", "the cancel", timeout=60)

        def messages() -> list[str]:
            db = open_db(db_path)
            try:
                return [e.message for e in store.list_events(db, server.base_url, job_id)]
            finally:
                db.close()

        await wait_until(
            pilot, lambda: "Fine-tuning job cancelled" in messages(), "the last events"
        )
        assert "Fine-tuning job paused" in messages()
        assert "✗ cancelled" in str(screen.query_one("#job-timeline").render())


async def test_restart_mid_job_restores_history_then_resumes(sim_factory, monkeypatch, db_path):
    server = sim_factory(speed=40)
    use_sim(monkeypatch, server)
    # 3 epochs: 36 steps of 0.3 s, so ~10 s still to run when the first app closes after 3 steps
    job_id = upload_and_create(
        server,
        [json.dumps(example(i)) for i in range(12)],
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
    )
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:

        def metric_count() -> int:
            db = open_db(db_path)
            try:
                return len(store.metric_events(db, server.base_url, job_id))
            finally:
                db.close()

        await wait_until(pilot, lambda: metric_count() >= 3, "some training steps", timeout=60)
    # the first app is gone (terminal closed); the job went on without anyone watching
    db = open_db(db_path)
    events_before = store.count_events(db, server.base_url, job_id)
    db.close()
    assert stored(db_path, server.base_url, job_id).status == "running"
    # the next polls fail, so what the new app shows first can only come from SQLite
    server.fault("drop", count=2, path=f"/v1/fine_tuning/jobs/{job_id}")
    polled: list[JobPolled] = []
    app2 = make_app(db_path)
    async with app2.run_test(
        size=SIZE, message_hook=lambda m: polled.append(m) if isinstance(m, JobPolled) else None
    ) as pilot:
        screen = jobs_screen(app2)
        view = screen.query_one(JobView)
        assert view.detail is not None and view.detail.job.id == job_id
        assert view.detail.event_count >= events_before
        assert screen.query_one(LossChart).series["train loss"][0]
        await wait_until(
            pilot,
            lambda: (d := view.detail) is not None and d.job.status == "succeeded",
            "watching to resume",
            900,
        )
        assert any("could not reach" in m.problem for m in polled)
        detail = view.detail
        assert len(detail.points) == detail.points[-1].total_steps  # no gap across the restart


async def test_rate_limits_during_watching_are_shown_and_survived(sim, monkeypatch, db_path):
    use_sim(monkeypatch, sim)
    job_id = upload_and_create(sim, [json.dumps(example(i)) for i in range(12)])
    db = open_db(db_path)
    store.upsert_job(db, "default", sim.base_url, {"id": job_id, "status": "validating_files"})
    db.close()
    sim.fault("429", count=3, path=f"/v1/fine_tuning/jobs/{job_id}", retry_after=0)
    polled: list[JobPolled] = []
    app = make_app(db_path)
    async with app.run_test(
        size=SIZE, message_hook=lambda m: polled.append(m) if isinstance(m, JobPolled) else None
    ) as pilot:
        screen = jobs_screen(app)
        screen.selected = job_id
        await wait_until(
            pilot,
            lambda: (j := stored(db_path, sim.base_url, job_id)) and j.status == "succeeded",
            "the job to finish",
            900,
        )
        assert any("rate limited" in m.problem for m in polled)
        await wait_until(pilot, lambda: not screen.watch_notes.get(job_id), "the note to clear")


async def test_empty_pane_without_key(db_path):
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = jobs_screen(app)
        assert "No fine-tuning jobs" in str(screen.query_one("#jobs-note").render())
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, CreateJobModal), "the create form")
        assert app.screen.query_one("#create-launch").disabled
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_preflight_leaves_problem_rows_out_as_the_upload_does(sim, monkeypatch, db_path):
    """One rule with the Training pane's upload ("upload only the valid rows?"): the pre-flight
    refused a dataset the upload accepted. Now it takes the valid rows, says how many rows were
    left out, and the launch asks once before leaving them out."""
    use_sim(monkeypatch, sim)
    dataset_id = make_dataset(db_path, f"broken {uuid.uuid4().hex[:6]}", validation=0)
    db = open_db(db_path)
    ex.add_example(
        db,
        None,
        dataset_id=dataset_id,
        raw='{"messages": [',
        source_line=13,
        problems=[{"code": "invalid_json", "message": "not JSON", "severity": "error"}],
    )
    jobs_before = len(sim.client().fine_tuning.jobs.list(limit=100).data)
    db.close()
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, CreateJobModal), "the create form")
        modal = app.screen
        assert modal.query_one("#create-validation").disabled
        await pilot.press("ctrl+l")
        await wait_until(
            pilot,
            lambda: "not launched yet" in str(modal.query_one("#create-error").render()),
            "the question",
            600,
        )
        preflight = str(modal.query_one("#create-preflight").render())
        assert "1 row with problems left out" in preflight and "12 valid rows" in preflight
        assert "Training data, F3" in preflight and "✓ validation: 12 examples" in preflight
        assert app.screen is modal
        assert len(sim.client().fine_tuning.jobs.list(limit=100).data) == jobs_before
        await pilot.press("ctrl+l")  # the user has read it: launch with the valid rows
        await wait_until(pilot, lambda: isinstance(app.screen, JobsScreen), "the launch", 600)
    assert len(sim.client().fine_tuning.jobs.list(limit=100).data) == jobs_before + 1


async def test_no_job_selected_shows_no_empty_chart_or_spinning_bar(monkeypatch, db_path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # no provider: no remote jobs either
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, JobsScreen), "the Jobs pane")
        view = app.screen.query_one(JobView)
        await wait_until(
            pilot,
            lambda: "No job selected" in str(view.query_one("#job-summary").render()),
            "the empty view",
        )
        assert not view.query_one("#job-chart").display
        assert not view.query_one("#job-progress").display


async def test_ctrl_k_runs_the_preflight_from_inside_a_field(sim, monkeypatch, db_path):
    """The form says "press ctrl+k"; from an Input, the Input's own ctrl+k (delete to the end of
    the line) won and ate the text instead."""
    use_sim(monkeypatch, sim)
    make_dataset(db_path, f"keys {uuid.uuid4().hex[:6]}")
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, CreateJobModal), "the create form")
        modal = app.screen
        suffix = modal.query_one("#create-suffix")
        suffix.focus()
        await pilot.press(*"abc", "home")
        await pilot.press("ctrl+k")
        await wait_until(pilot, lambda: modal.preflight_result is not None, "the pre-flight", 600)
        assert suffix.value == "abc"
        assert "billed tokens" in str(modal.query_one("#create-preflight").render())


async def test_a_job_finished_before_the_app_opened_is_fetched_once(sim, monkeypatch, db_path):
    """A job that ended before the app first saw it showed 0 events and "waiting for the first
    training step" for ever (only unfinished jobs were polled); `jobs show` fetched them."""
    use_sim(monkeypatch, sim)
    job_id = upload_and_create(sim, [json.dumps(example(i)) for i in range(12)])
    client = sim.client()
    for _ in range(600):
        if client.fine_tuning.jobs.retrieve(job_id).status == "succeeded":
            break
        await asyncio.sleep(0.05)
    client.close()
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = jobs_screen(app)

        def events_stored() -> int:
            db = open_db(db_path)
            try:
                return store.count_events(db, sim.base_url, job_id)
            finally:
                db.close()

        await wait_until(pilot, lambda: events_stored() > 0, "the finished job's events", 600)
        screen.selected = job_id
        await wait_until(
            pilot,
            lambda: (
                (detail := screen.query_one(JobView).detail) is not None
                and detail.points
                and detail.checkpoints
            ),
            "the loss curve and checkpoints",
            600,
        )
        assert "waiting for the first training step" not in str(
            screen.query_one("#job-progress-text").render()
        )


@pytest.mark.parametrize("size,columns", [((120, 40), 4), ((80, 24), 2)])
async def test_the_jobs_list_shows_what_tells_jobs_apart(monkeypatch, db_path, size, columns):
    """At 120 columns the list showed status, a cut job id and half a model name."""
    from tests.ui.snapshot_apps.populate import populate
    from workbench.ui.jobs_list import JobList

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    populate(db_path)
    app = make_app(db_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.screen.query_one(JobList)
        widths = [c.get_render_width(table) for c in table.columns.values()]
        keys = [str(c.key.value) for c in table.columns.values()]
        assert keys[:4] == ["status", "job", "model", "cost"]
        assert sum(widths[:columns]) <= table.scrollable_content_region.width
        assert "gpt-4.1-mini" in [str(table.get_cell_at((0, 2)))]
