"""Training and serving dates per provider: Azure's own table in the job form's model list."""

from __future__ import annotations

from datetime import date

from workbench.core import jobs as cj

TODAY = date(2026, 11, 25)


def test_azure_list_has_its_own_dates():
    models = {m.id: m for m in cj.fine_tunable_models(None, "azure")}
    mini = models["gpt-4.1-mini-2025-04-14"]
    assert mini.unavailable_reason(TODAY) is None
    assert "Azure trains until 2027-04-14" in mini.describe(TODAY)
    assert "deployments until 2027-10-14" in mini.describe(TODAY)
    assert "2027-04-01" in models["gpt-4o-2024-08-06"].describe(TODAY)
    # OpenAI's 2027-01-14 shutdown does not apply on Azure
    assert mini.unavailable_reason(date(2027, 2, 1)) is None
    assert cj.BaseModel(mini.id, "2027-01-14").unavailable_reason(date(2027, 2, 1))


def test_a_model_past_its_azure_date_cannot_be_picked():
    models = cj.fine_tunable_models(None, "azure")
    later = date(2027, 4, 20)
    reason = next(m for m in models if m.id == "gpt-4.1-2025-04-14").unavailable_reason(later)
    assert "Azure retired fine-tuning training on 2027-04-14" in reason
    assert "2027-10-14" in reason
    request = cj.JobRequest(dataset_name="d", model="gpt-4.1-2025-04-14")
    assert any("retired" in p for p in request.problems(models, later))
    o4 = next(m for m in models if m.id == "o4-mini-2025-04-16")
    assert o4.unavailable_reason(TODAY)  # its base retired 2026-10-16


def test_azure_listing_narrows_to_what_the_resource_lists():
    listed = [{"id": "gpt-4.1-mini-2025-04-14"}, {"id": "gpt-4o"}]
    assert [m.id for m in cj.fine_tunable_models(listed, "azure")] == ["gpt-4.1-mini-2025-04-14"]
    # OpenAI stays as it was
    assert all(m.provider == "openai" for m in cj.fine_tunable_models(None))
