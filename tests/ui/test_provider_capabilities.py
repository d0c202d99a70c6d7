"""Panes switch off what the active provider cannot do and say why (Pilot, generic-host simulator)."""

from __future__ import annotations

import json

from tests.ui.conftest import make_app, wait_until
from tests.ui.test_jobs_pane import (
    SIZE,
    example,
    fast_polling,  # noqa: F401 - autouse fixture
    jobs_screen,
    make_dataset,
    stored,
    upload_and_create,
)
from workbench.config import write_config
from workbench.ui.jobs_create import CreateJobModal


def use_generic(monkeypatch, server) -> None:
    monkeypatch.setenv("GENERIC_KEY", server.api_key)
    write_config(
        {
            "active_profile": "generic",
            "profiles": {
                "generic": {
                    "kind": "openai-compatible",
                    "base_url": server.base_url,
                    "api_key_env": "GENERIC_KEY",
                }
            },
        }
    )


async def test_generic_profile_shows_pause_disabled_with_the_reason(
    sim_factory, monkeypatch, db_path
):

    server = sim_factory(flavor="openai-compatible", speed=20)
    use_generic(monkeypatch, server)
    job_id = upload_and_create(server, [json.dumps(example(i)) for i in range(12)])
    make_dataset(db_path, "prefs")
    app = make_app(db_path, start_pane="jobs")
    async with app.run_test(size=SIZE) as pilot:
        screen = jobs_screen(app)
        await wait_until(
            pilot,
            lambda: (job := stored(db_path, server.base_url, job_id)) and job.status == "running",
            "the job to run",
            600,
        )
        screen.selected = job_id
        await wait_until(
            pilot,
            lambda: (job := screen.selected_job) is not None and job.status == "running",
            "the pane to draw the running job",
        )
        # the bindings are there but dimmed: pressing p opens no confirmation
        assert screen.check_action("job_action", ("pause",)) is None
        assert screen.check_action("job_action", ("resume",)) is None
        assert screen.check_action("job_action", ("cancel",)) is True
        await pilot.press("p")
        await pilot.pause()
        assert app.screen is screen
        # from the palette (or anywhere else) it says why instead of failing on a 404
        notes: list[str] = []
        monkeypatch.setattr(screen, "notify", lambda message, **kw: notes.append(message))
        screen.action_job_action("pause")
        assert app.screen is screen
        assert notes and "pausing and resuming jobs is off" in notes[0]
        assert "generic OpenAI-compatible hosts often lack it" in notes[0]
        assert "capabilities = { pause_resume = true }" in notes[0]
        # the palette says why too, and its command tells it again (the dimmed key does nothing)
        palette = {c.title: c for c in screen.palette_commands()}
        for action in ("Pause", "Resume"):
            assert "is off" in palette[f"Jobs: {action} (off for this provider)"].help
        notes.clear()
        palette["Jobs: Pause (off for this provider)"].callback()
        assert notes and "pausing and resuming jobs is off" in notes[0]
        assert app.screen is screen
        # the checkpoints section says why it stays empty
        await wait_until(
            pilot,
            lambda: "job checkpoints is off" in str(screen.query_one("#job-checkpoints").render()),
            "the checkpoints note",
        )

        # the create form labels DPO as off and refuses it with the reason
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, CreateJobModal), "the create form")
        form = app.screen
        form.query_one("#create-method").value = "dpo"
        await pilot.pause()
        try:
            form.read_request()
        except ValueError as exc:
            assert "DPO (preference) fine-tuning is off" in str(exc)
        else:
            raise AssertionError("DPO was accepted on a generic host")


async def test_training_upload_off_when_the_profile_has_no_files(monkeypatch, db_path):

    monkeypatch.setenv("GENERIC_KEY", "sk-x")
    write_config(
        {
            "active_profile": "vllm",
            "profiles": {
                "vllm": {
                    "kind": "openai-compatible",
                    "base_url": "http://127.0.0.1:9/v1",
                    "api_key_env": "GENERIC_KEY",
                    "capabilities": {"files": False},
                }
            },
        }
    )
    make_dataset(db_path, "support")
    app = make_app(db_path, start_pane="training")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.check_action("upload", ()) is None
        notes: list[str] = []
        monkeypatch.setattr(screen, "notify", lambda message, **kw: notes.append(message))
        screen.action_upload()
        assert notes and "file uploads is off for profile 'vllm'" in notes[0]
        assert "the profile's capabilities setting turns it off" in notes[0]
        # nothing was sent (the pane's own loading may still be running: only uploads count)
        assert app.screen is screen
        assert not [w for w in screen.workers if w.group == "training-upload"]
