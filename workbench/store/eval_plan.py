"""What an evaluation runs: the held-out scope, its test cases, and the EvalPlan for a prompt.

A scope is every test example, those of the library (outside any dataset), or one dataset's; the
eval name (prompt + scope) is what evaluations are compared over time by. Kept apart from
store.evals: this only reads (examples, prompts, the few-shot selection, the evaluation to resume)
to build core inputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from workbench.store.eval_estimate import PromptSetup, load_prompt_setup
from workbench.store.evals import resumable_group
from workbench.store.examples import Example, _example

if TYPE_CHECKING:
    import sqlite_utils


def test_examples(
    db: sqlite_utils.Database, dataset_id: int | None | type[...] = ..., limit: int | None = None
) -> Iterator[Example]:
    """Live held-out test examples with data, in order (one dataset, or all of them)."""
    clauses = ["split = 'test'", "deleted_at is null", "data is not null"]
    params: list[Any] = []
    if dataset_id is not ...:
        clauses.append("dataset_id is ?")
        params.append(dataset_id)
    sql = f"select * from examples where {' and '.join(clauses)} order by dataset_id, position, id"
    if limit is not None:
        sql += " limit ?"
        params.append(limit)
    for row in db.query(sql, params):
        yield _example(row)


def count_test_examples(db: sqlite_utils.Database, dataset_id: int | None | type[...] = ...) -> int:
    sql = "select count(*) from examples where split = 'test' and deleted_at is null and data is not null"
    params: list[Any] = []
    if dataset_id is not ...:
        sql += " and dataset_id is ?"
        params.append(dataset_id)
    return db.execute(sql, params).fetchone()[0]


LIBRARY = "library"  # the held-out scope of the examples kept outside any dataset (Examples pane)


def scope_dataset_id(db: sqlite_utils.Database, scope: str | None) -> int | None | type[...]:
    """The examples filter for a held-out scope: None = every test example (library and datasets),
    "library" = those outside any dataset, else a dataset's name (KeyError when none has it)."""
    from workbench.store.examples import find_dataset

    if not scope:
        return ...
    if scope == LIBRARY:
        return None
    dataset = find_dataset(db, scope)
    if dataset is None:
        raise KeyError(f"no dataset named {scope!r}")
    return dataset.id


def scope_words(scope: str | None) -> str:
    if not scope:
        return "all test examples"
    return "the library's test examples" if scope == LIBRARY else f"dataset {scope}"


def held_out_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """How many test examples each scope holds: "library" and each dataset by name."""
    rows = db.execute(
        """select d.name, count(*) from examples e left join datasets d on d.id = e.dataset_id
           where e.split = 'test' and e.deleted_at is null and e.data is not null
           group by e.dataset_id order by d.name"""
    ).fetchall()
    return {(name if name is not None else LIBRARY): n for name, n in rows}


def eval_cases(
    db: sqlite_utils.Database, dataset_id: int | None | type[...] = ..., limit: int | None = None
) -> list[Any]:
    """The held-out test examples as questions with expected answers (rows without a final
    assistant reply are skipped: there is nothing to score them against)."""
    from workbench.core.evaluation.scoring import eval_case

    cases = []
    for example in test_examples(db, dataset_id, limit):
        case = eval_case(example.id, example.messages)
        if case is not None:
            cases.append(case)
    return cases


def eval_name_for(prompt_name: str, scope: str | None) -> str:
    """What evaluations are compared over time by: the prompt and its held-out scope."""
    return f"{prompt_name} / {scope or 'all test examples'}"


def approaches_for(
    setup: PromptSetup, extra_ft_models: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """(approach, model) pairs an evaluation runs: zero-shot, few-shot if examples are selected,
    and each fine-tuned model known."""
    pairs = [("zero-shot", setup.model)]
    if setup.examples:
        pairs.append(("few-shot", setup.model))
    for m in dict.fromkeys([setup.ft_model, *extra_ft_models]):
        if m:
            pairs.append(("fine-tuned", m))
    return pairs


def plan_from_store(
    db: sqlite_utils.Database,
    prompt_name: str,
    *,
    scorer: Any,
    terms: Any,
    approaches: Sequence[str] | None = None,
    scope: str | None = None,
    ft_models: Sequence[str] = (),
    default_model: str = "gpt-4.1-mini-2025-04-14",
    seed: int | None = None,
    resume: bool = False,
    profile: str = "",
) -> Any:
    """The EvalPlan for a prompt on a held-out scope. `approaches=None`: zero-shot, few-shot when
    examples are selected, few-shot-similar when the prompt's selection is "similar", fine-tuned
    for each model known (the prompt's ft_model and `ft_models`). `resume`: go on with the newest
    unfinished evaluation of the same eval name when there is one.
    Raises KeyError (unknown dataset) or ValueError (an approach that cannot run, named)."""
    import random

    from workbench.core.evaluation.plan import ApproachPlan, EvalPlan
    from workbench.store.prompts import latest_version
    from workbench.store.selection import few_shot_pool, get_selection

    setup = load_prompt_setup(db, prompt_name, default_model=default_model)
    cases = tuple(eval_cases(db, scope_dataset_id(db, scope)))
    selection = get_selection(db, prompt_name)
    pool = tuple(few_shot_pool(db))
    fts = [m for m in dict.fromkeys([setup.ft_model, *ft_models]) if m]
    if approaches is None:
        approaches = ["zero-shot"]
        if selection.mode == "similar" and pool:
            approaches.append("few-shot-similar")
        elif setup.examples:
            approaches.append("few-shot")
        if fts:
            approaches.append("fine-tuned")
    plans: list[ApproachPlan] = []
    for name in dict.fromkeys(approaches):
        if name == "fine-tuned":
            if not fts:
                raise ValueError(
                    "fine-tuned: no fine-tuned model (set one on the prompt or pass it)"
                )
            plans.extend(ApproachPlan("fine-tuned", m) for m in fts)
            continue
        if name == "few-shot" and not setup.examples:
            raise ValueError("few-shot: the prompt has no few-shot examples selected")
        if name == "few-shot-similar" and not pool:
            raise ValueError("few-shot-similar: there are no few-shot examples to pick from")
        plans.append(ApproachPlan(name, setup.model))
    eval_name = eval_name_for(prompt_name, scope)
    group = resumable_group(db, eval_name) if resume else None
    version = latest_version(db, prompt_name)
    if scorer.kind == "judge" and scorer.judge_model is None:
        from dataclasses import replace

        scorer = replace(scorer, judge_model=setup.model)
    return EvalPlan(
        eval_name=eval_name,
        prompt_name=prompt_name,
        prompt=setup,
        approaches=tuple(plans),
        cases=cases,
        scorer=scorer,
        examples=setup.examples,
        pool=pool,
        similar_k=selection.k if selection.mode == "similar" else 3,
        seed=group.runs[0].seed if group else (random.randrange(1 << 30) if seed is None else seed),
        terms=terms,
        group_id=group.group_id if group else None,
        scope=scope_words(scope),
        version_id=version.id if version else None,
        version_number=version.number if version else None,
        profile=profile,
    )
