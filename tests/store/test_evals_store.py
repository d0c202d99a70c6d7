"""Eval runs and items in a real SQLite file, and the estimate built from the other stores."""

from __future__ import annotations

import pytest

from workbench.core.estimate import EstimateSettings
from workbench.store import eval_estimate, eval_plan, evals
from workbench.store.examples import add_example, create_dataset

MODEL = "gpt-4.1-mini-2025-04-14"
SYSTEM = "You route support tickets. Answer with the team name only."
THINGS = [
    ("printer", "jams", "hardware"),
    ("laptop", "overheats", "hardware"),
    ("invoice", "is wrong", "billing"),
    ("refund", "never arrived", "billing"),
    ("password", "expired", "accounts"),
    ("login", "fails", "accounts"),
    ("vpn", "drops", "network"),
    ("wifi", "is slow", "network"),
    ("report", "crashes", "analytics"),
    ("dashboard", "is blank", "analytics"),
    ("phone", "rings twice", "telephony"),
    ("headset", "buzzes", "telephony"),
    ("badge", "is rejected", "facilities"),
    ("desk", "wobbles", "facilities"),
    ("email", "bounces", "messaging"),
    ("calendar", "shows duplicates", "messaging"),
    ("contract", "needs signing", "legal"),
    ("license", "ran out", "legal"),
    ("payroll", "is late", "hr"),
    ("holiday request", "is stuck", "hr"),
]


def ticket(i: int, day: str) -> str:
    thing, problem, _team = THINGS[i]
    return f"ticket {i}: my {thing} {problem} since {day} morning"


def pair(i: int, day: str, system: bool = True) -> dict:
    messages = [
        {"role": "user", "content": ticket(i, day)},
        {"role": "assistant", "content": THINGS[i][2]},
    ]
    if system:
        messages.insert(0, {"role": "system", "content": SYSTEM})
    return {"messages": messages}


def seed_scenario(db, prompt: str = "router", few_shot: int = 16, ft_model: str = "") -> dict:
    """A ticket router: 20 training rows, `few_shot` of them also as few-shot examples, and 20
    held-out test rows that paraphrase the training prompts (monday -> tuesday)."""
    from workbench.core.fewshot import FewShotSelection
    from workbench.store.prompts import create_prompt
    from workbench.store.selection import set_selection

    create_prompt(
        db,
        prompt,
        system=SYSTEM,
        template="{{ticket}}",
        model=MODEL,
        ft_model=ft_model,
        variables={"ticket": ticket(0, "friday")},
    )
    dataset = create_dataset(db, "tickets")
    for i in range(len(THINGS)):
        add_example(db, pair(i, "monday"), dataset_id=dataset.id, split="train")
    tests = [
        add_example(db, pair(i, "tuesday"), dataset_id=dataset.id, split="test").id
        for i in range(len(THINGS))
    ]
    shots = [
        add_example(db, pair(i, "monday", system=False), split="few-shot").id
        for i in range(few_shot)
    ]
    set_selection(db, prompt, FewShotSelection("manual", tuple(shots)))
    return {"dataset": dataset, "tests": tests, "shots": shots}


def test_eval_runs_items_and_groups(db):
    group = evals.new_group_id()
    run = evals.create_run(
        db,
        eval_name="router / tickets",
        group_id=group,
        approach="few-shot",
        model=MODEL,
        scorer={"kind": "exact"},
        seed=42,
        items_total=2,
    )
    assert run.status == "running" and run.items_done == 0
    evals.record_item(
        db, evals.EvalItem(run.id, 1, "q [/INST]", "a", "a", True, latency_ms=120.0, cost_usd=1e-4)
    )
    evals.record_item(db, evals.EvalItem(run.id, 2, "q2", "b", "", None, error="rate limited"))
    evals.record_item(
        db, evals.EvalItem(run.id, 2, "q2", "b", "c", False, "differs")
    )  # re-run replaces
    evals.finish_run(db, run.id)
    again = evals.get_run(db, run.id)
    assert again.status == "done" and again.items_done == 2 and again.finished_at
    assert again.scorer == {"kind": "exact"} and again.seed == 42
    items = evals.list_items(db, run.id)
    assert [(i.example_id, i.passed) for i in items] == [(1, True), (2, False)]
    assert items[0].question == "q [/INST]"
    results = evals.item_results(db, run.id)
    assert [r.passed for r in results] == [True, False] and results[1].error is None
    other = evals.create_run(
        db,
        eval_name="router / tickets",
        group_id=group,
        approach="zero-shot",
        model=MODEL,
        scorer={"kind": "exact"},
        seed=42,
        items_total=2,
    )
    groups = evals.list_groups(db, "router / tickets")
    assert len(groups) == 1 and [r.id for r in groups[0].runs] == [run.id, other.id]
    assert not groups[0].finished
    pairs = evals.items_for_example(db, group, 1)
    assert [(r.approach, i.answer) for r, i in pairs] == [("few-shot", "a")]
    with pytest.raises(ValueError):
        evals.finish_run(db, run.id, "exploded")


def test_test_examples_are_the_held_out_split(db):
    seeded = seed_scenario(db)
    ids = [e.id for e in eval_plan.test_examples(db)]
    assert ids == seeded["tests"]
    assert eval_plan.count_test_examples(db, seeded["dataset"].id) == 20


def test_estimate_from_the_users_own_prompt_and_dataset(db):
    seed_scenario(db)
    setup = eval_estimate.load_prompt_setup(db, "router")
    assert setup.found and setup.model == MODEL and len(setup.examples) == 16
    est, data = eval_estimate.estimate_from_store(
        db, setup, EstimateSettings(volume=10_000), dataset_name="tickets"
    )
    zero, few, ft = (est.approach(a) for a in ("zero-shot", "few-shot", "fine-tuned"))
    # few-shot sends 16 example pairs more than zero-shot; fine-tuned the same prompt as zero-shot
    assert few.input_tokens > zero.input_tokens + 16 * 10
    assert ft.input_tokens == zero.input_tokens
    assert ft.price.fine_tuned and ft.model == MODEL
    # output: the average assistant reply of the dataset (one or two tokens per team name)
    assert 1 <= few.output_tokens <= 4 and few.output_source == "average reply in your dataset"
    # 20 rows -> 5 epochs (cookbook rule); $5/M for 4.1-mini
    assert est.training.examples == 20 and est.training.epochs == 5
    assert est.training.cost == pytest.approx(est.training.trained_tokens * 5 / 1e6)
    assert est.break_even is not None
    assert len(data.per_example) == 20


def test_estimate_without_a_saved_prompt_or_dataset(db):
    setup = eval_estimate.load_prompt_setup(db, "nothing-here")
    est, _ = eval_estimate.estimate_from_store(db, setup, EstimateSettings())
    assert not setup.found
    assert any("no saved prompt" in n for n in est.notes)
    assert any("no training rows" in n for n in est.notes)
    assert est.approach("fine-tuned").one_off is None


def test_recorded_runs_give_the_output_length(db):
    from workbench.store.prompts import latest_version
    from workbench.store.runs import record_run

    seed_scenario(db)
    version = latest_version(db, "router")
    # an old version's (here: no version's) runs must not move the estimate
    record_run(
        db,
        prompt_name="router",
        approach="few-shot",
        model=MODEL,
        messages=[{"role": "user", "content": "x"}],
        output_tokens=500,
        version_id=None if version else -1,
    )
    for n in (10, 30):
        record_run(
            db,
            prompt_name="router",
            approach="few-shot",
            model=MODEL,
            messages=[{"role": "user", "content": "x"}],
            output_tokens=n,
            version_id=version.id if version else None,
        )
    setup = eval_estimate.load_prompt_setup(db, "router")
    est, _ = eval_estimate.estimate_from_store(
        db, setup, EstimateSettings(), dataset_name="tickets"
    )
    few = est.approach("few-shot")
    assert few.output_tokens == 20 and few.output_source.startswith("average of 2 ")
    with pytest.raises(KeyError):
        eval_estimate.estimate_from_store(db, setup, EstimateSettings(), dataset_name="missing")
