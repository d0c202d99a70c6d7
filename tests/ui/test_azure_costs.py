"""The Costs pane on an Azure profile (Pilot)."""

from __future__ import annotations

import pytest


async def test_costs_pane_on_an_azure_profile(db_path, tmp_path):
    """The Costs pane takes the profile's terms: hosting enters the fine-tuned arm, said in words."""
    from tests.store.test_evals_store import seed_scenario
    from tests.ui.test_costs_pane import make_app, settle
    from workbench.config import write_config
    from workbench.store.db import open_db

    db = open_db(db_path)
    seed_scenario(db)
    db.close()
    write_config(
        {
            "active_profile": "az",
            "profiles": {
                "az": {
                    "kind": "azure",
                    "base_url": "https://r.openai.azure.com/openai/v1/",
                    "training_type": "GlobalStandard",
                }
            },
        }
    )
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(app, pilot)
        ft = screen.view.estimate.approach("fine-tuned")
        assert ft.hosting_per_request == pytest.approx(1224.0 / screen.settings.volume)
        summary = " ".join(str(screen.query_one("#cost-summary").render()).split())
        assert "hosting $1.70/h x 720 h = $1,224.00 per month" in summary
        app.save_screenshot(str(tmp_path / "costs.svg"))
        import shutil

        shutil.copy(tmp_path / "costs.svg", "/tmp/i_costs_azure.svg")
