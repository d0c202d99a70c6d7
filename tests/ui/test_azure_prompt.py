"""Done-when for Azure: a fine-tune trained on the Azure-flavoured simulator answers in the Prompt
pane once deployed and mapped in the profile; before that, the pane shows the `az` command."""

from __future__ import annotations

import json

from tests.sim.conftest import wait_for_status
from tests.ui.conftest import app_started, make_app, paste_into, wait_until
from tests.ui.test_prompt_pane import MODEL, TRAINED_A, TRAINED_Q
from workbench.config import write_config
from workbench.ui.prompt import PromptScreen
from workbench.ui.prompt_run import RunColumn


def train(server) -> str:
    client = server.client(base_url=server.azure_base_url)
    rows = [(TRAINED_Q, TRAINED_A)] + [(f"Question {i} about shipping", f"A{i}") for i in range(9)]
    data = "".join(
        json.dumps(
            {
                "messages": [
                    {"role": "system", "content": "Route."},
                    {"role": "user", "content": q},
                    {"role": "assistant", "content": a},
                ]
            }
        )
        + "\n"
        for q, a in rows
    ).encode()
    file_id = client.files.create(file=("t.jsonl", data), purpose="fine-tune").id
    job = client.fine_tuning.jobs.create(
        model=MODEL, training_file=file_id, extra_body={"trainingType": "GlobalStandard"}
    )
    done = wait_for_status(client, job.id)
    assert done.status == "succeeded"
    return done.fine_tuned_model


def configure(server, monkeypatch, **extra) -> None:
    monkeypatch.setenv("AZ_KEY", server.api_key)
    profile = {
        "kind": "azure",
        "base_url": server.azure_base_url,
        "api_key_env": "AZ_KEY",
        "default_model": MODEL,
        "training_type": "GlobalStandard",
        "resource_group": "rg-demo",
        "resource": "demo",
        **extra,
    }
    write_config({"active_profile": "az", "profiles": {"az": profile}})


async def run_fine_tuned(db_path, ft_model: str) -> RunColumn:
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await app_started(app, pilot)
        screen = app.screen
        assert isinstance(screen, PromptScreen)
        # pasted, not typed: typing is what tests/ui/test_prompt_pane.py is about
        await paste_into(pilot, screen.query_one("#template"), "{{question}}")
        await pilot.pause(0.1)
        screen.action_show_tab("pt-variables")
        await pilot.pause()
        from workbench.ui.prompt_variables import VariableArea

        await paste_into(pilot, screen.query_one(VariableArea), TRAINED_Q)
        await app.switch_mode("history")
        app.try_fine_tuned_model(ft_model)  # what the Jobs pane's "Try model" does
        await wait_until(
            pilot,
            lambda: app.screen is screen and screen.content.get("ft_model") == ft_model,
            "the fine-tuned model handed over",
        )
        await paste_into(pilot, screen.query_one("#ft_system"), "Route.")
        await pilot.pause(0.5)
        await pilot.press("ctrl+r")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: all(not c.running for c in screen.query(RunColumn)))
        column = next(c for c in screen.query(RunColumn) if c.approach == "fine-tuned")
        column.problem_text = str(column.query_one(".run-problem").render())
        return column


async def test_a_deployed_azure_fine_tune_answers_in_the_prompt_pane(
    sim_factory, monkeypatch, db_path
):
    server = sim_factory(flavor="azure")
    ft_model = train(server)
    assert ".ft-" in ft_model

    configure(server, monkeypatch)  # not deployed yet
    column = await run_fine_tuned(db_path, ft_model)
    assert column.status == "error"
    assert "is not deployed" in column.problem_text
    assert "az cognitiveservices account deployment create -g rg-demo -n demo" in " ".join(
        column.problem_text.split()
    )

    server.deploy("route-ft", ft_model)
    configure(server, monkeypatch, deployments={ft_model: "route-ft"})
    column = await run_fine_tuned(db_path, ft_model)
    assert column.status == "ok", column.problem_text
    assert column.answer == TRAINED_A


async def test_the_jobs_pane_shows_the_deploy_command(sim_factory, monkeypatch, db_path, tmp_path):
    from tests.ui.test_jobs_pane import fast_polling, jobs_screen, stored  # noqa: F401

    monkeypatch.setattr("workbench.ui.jobs.JobsScreen.POLL_MINIMUM", 0.05)
    server = sim_factory(flavor="azure")
    ft_model = train(server)
    configure(server, monkeypatch, deployment_sku="Developer")
    app = make_app(db_path, start_pane="jobs")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = jobs_screen(app)
        job_id = None

        def found():
            nonlocal job_id
            for job in screen._stored_jobs():
                if job.fine_tuned_model == ft_model:
                    job_id = job.id
                    return True
            return False

        await wait_until(pilot, found, "the Azure job in the list", timeout=60)
        screen.selected = job_id
        screen.redraw(all_rows=True)

        def details() -> str:
            return " ".join(str(screen.query_one("#job-summary").render()).split())

        await wait_until(pilot, lambda: "not deployed" in details(), "the deploy hint")
        assert "az cognitiveservices account deployment create -g rg-demo -n demo" in details()
        assert "--sku-name Developer --sku-capacity 50" in details()
        assert "deleted 24 hours after" in details()
        copied: list[str] = []
        monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
        screen.action_copy_deploy()
        assert copied and copied[0].startswith("az cognitiveservices") and ft_model in copied[0]
        app.save_screenshot(str(tmp_path / "jobs_azure.svg"))
        import shutil

        shutil.copy(tmp_path / "jobs_azure.svg", "/tmp/i_jobs_azure.svg")
