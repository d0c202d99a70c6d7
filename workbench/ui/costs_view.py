"""What the Costs pane shows, read from the store in one go: the estimate, the latest evaluation of
the chosen held-out set, the earlier ones, and the verdict computed from both.

`build_view` runs in the pane's thread worker with its own connection, so the tabs only render a
finished `CostView` and never wait on SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.core.estimate import Estimate, EstimateSettings
from workbench.core.evaluation.verdict import Verdict

if TYPE_CHECKING:
    from workbench.config import Config
    from workbench.store.evals import EvalGroup


@dataclass
class CostView:
    """Everything the pane shows, computed in a worker from the store."""

    prompt: str
    datasets: list[str]
    dataset: str | None
    estimate: Estimate
    verdict: Verdict
    group: EvalGroup | None = None
    results: dict[str, Any] = field(default_factory=dict)
    history: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    disagreements: list[int] = field(default_factory=list)
    test_items: int = 0
    error: str = ""
    scope: str | None = None  # the held-out set: None = all, "library", or a dataset's name
    held_out: dict[str, int] = field(default_factory=dict)  # test examples per scope


def build_view(
    db_path: Path,
    config: Config,
    prompt: str,
    settings: EstimateSettings,
    dataset: str | None,
    scope: str | None = None,
) -> CostView:
    """Read the store and compute estimate, eval results and verdict (runs in a thread).
    `dataset` (training cost): None = the first dataset, "" = none. `scope`: the held-out set."""
    from workbench.core.evaluation.scoring import disagreements
    from workbench.store import eval_estimate, evals
    from workbench.store.db import open_db
    from workbench.store.eval_plan import eval_name_for, held_out_counts
    from workbench.store.examples import list_datasets

    db = open_db(db_path)
    try:
        names = [d.name for d in list_datasets(db)]
        if dataset is None:
            chosen = names[0] if names else None
        else:
            chosen = dataset if dataset in names else None
        held_out = held_out_counts(db)
        if scope and scope not in held_out and scope not in names:
            scope = None  # a dataset since deleted: back to every test example, said in the select
        setup = eval_estimate.load_prompt_setup(
            db, prompt, default_model=config.profile.default_model
        )
        eval_name = eval_name_for(prompt, scope)
        groups = evals.list_groups(db, eval_name, limit=6)
        group = groups[0] if groups else None
        est, data = eval_estimate.estimate_from_store(
            db,
            setup,
            settings,
            dataset_name=chosen or None,
            overrides=config.prices,
            group=group,
            allow_none=True,
        )
        verdict = eval_estimate.verdict_from_store(
            db, setup, est, data, group, provider_kind=config.profile.kind
        )
        results = eval_estimate.group_results(db, group) if group else {}
        history = [(g.created_at, eval_estimate.group_results(db, g)) for g in groups[1:]]
        diffs: list[int] = []
        if group is not None:
            diffs = disagreements(
                {r.approach + r.model: evals.item_results(db, r.id) for r in group.runs}
            )
        test_items = sum(held_out.values()) if not scope else held_out.get(scope, 0)
        view = CostView(
            prompt, names, chosen, est, verdict, group, results, history, diffs, test_items
        )
        view.scope, view.held_out = scope, held_out
        return view
    finally:
        db.close()
