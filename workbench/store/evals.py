"""Evaluations: eval runs and their per-item results; and what the Costs pane reads from the store.

An eval set is the live examples in the held-out "test" split (never trained on, never few-shot).
One evaluation runs that set through several approaches at once; each approach is an EvalRun and
they share a `group_id`. Runs of the same `eval_name` (prompt + eval set) can be compared over time.

The second half gathers what an estimate or an evaluation needs from the other tables (the prompt's
latest version, its selected few-shot examples, a dataset's training rows, recorded runs) and turns
it into plain core inputs, so the pane and `workbench estimate` compute exactly the same figures.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlite_utils

from workbench.store.examples import Example, _example, now
from workbench.store.migrations import migration

if TYPE_CHECKING:
    from workbench.core.estimate import ApproachTokens, Estimate, EstimateSettings, TrainingPlan
    from workbench.core.evaluate import ItemResult
    from workbench.core.tokens import Tokenizer

RUN_STATUSES = ("running", "batch", "done", "failed", "cancelled")


@migration
def v001_eval_runs_and_items(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table eval_runs (
            id integer primary key,
            eval_name text not null,        -- what is compared over time: prompt + eval set
            group_id text not null,         -- the runs started together (one per approach)
            prompt_name text not null default '',
            approach text not null,         -- zero-shot | few-shot | fine-tuned
            model text not null,
            scorer text not null,           -- JSON of core.evaluate.Scorer
            seed integer not null,          -- judge answer order, replayable
            mode text not null default 'concurrent' check (mode in ('concurrent', 'batch')),
            status text not null default 'running'
                check (status in ('running', 'batch', 'done', 'failed', 'cancelled')),
            batch_id text,                  -- the provider's batch id (Batch API runs)
            items_total integer not null default 0,
            error text,
            created_at text not null,
            finished_at text
        )"""
    )
    db.execute("create index eval_runs_name on eval_runs (eval_name, created_at desc)")
    db.execute("create index eval_runs_group on eval_runs (group_id)")
    db.execute(
        """
        create table eval_items (
            id integer primary key,
            run_id integer not null references eval_runs(id) on delete cascade,
            example_id integer not null,
            question text not null default '',
            expected text not null default '',
            answer text not null default '',
            passed integer,                 -- 1 / 0; null: not scored (request failed)
            detail text not null default '',
            latency_ms real,
            input_tokens integer,
            output_tokens integer,
            cached_tokens integer,
            cost_usd real,                  -- null: no price for the model
            error text,
            created_at text not null,
            unique (run_id, example_id)
        )"""
    )


@migration
def v002_cost_settings(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table cost_settings (
            prompt_name text primary key,
            data text not null,             -- JSON: volume, output_tokens, caching, batch, dataset, scorer
            updated_at text not null
        )"""
    )


def get_cost_settings(db: sqlite_utils.Database, prompt_name: str) -> dict[str, Any]:
    """What the user last set in the Costs pane for this prompt (empty: defaults)."""
    row = db.execute(
        "select data from cost_settings where prompt_name = ?", [prompt_name]
    ).fetchone()
    return json.loads(row[0]) if row else {}


def save_cost_settings(db: sqlite_utils.Database, prompt_name: str, data: dict[str, Any]) -> None:
    with db.atomic():
        db.execute(
            """insert into cost_settings (prompt_name, data, updated_at) values (?, ?, ?)
               on conflict (prompt_name) do update set data = excluded.data,
               updated_at = excluded.updated_at""",
            [prompt_name, json.dumps(data, sort_keys=True), now()],
        )


@dataclass
class EvalRun:
    id: int
    eval_name: str
    group_id: str
    approach: str
    model: str
    scorer: dict[str, Any]
    seed: int
    prompt_name: str = ""
    mode: str = "concurrent"
    status: str = "running"
    batch_id: str | None = None
    items_total: int = 0
    error: str | None = None
    created_at: str = ""
    finished_at: str | None = None
    items_done: int = 0


@dataclass
class EvalItem:
    run_id: int
    example_id: int
    question: str = ""
    expected: str = ""
    answer: str = ""
    passed: bool | None = None
    detail: str = ""
    latency_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    cost_usd: float | None = None
    error: str | None = None
    id: int | None = None


def _run_row(row: dict[str, Any]) -> EvalRun:
    data = dict(row)
    data["scorer"] = json.loads(data["scorer"])
    return EvalRun(**{k: v for k, v in data.items() if k in EvalRun.__dataclass_fields__})


def _item_row(row: dict[str, Any]) -> EvalItem:
    data = {k: row[k] for k in EvalItem.__dataclass_fields__ if k in row}
    data["passed"] = None if row["passed"] is None else bool(row["passed"])
    return EvalItem(**data)


_RUN_SELECT = """select r.*, (select count(*) from eval_items i where i.run_id = r.id) as items_done
                 from eval_runs r"""


def new_group_id() -> str:
    return uuid.uuid4().hex[:12]


def create_run(
    db: sqlite_utils.Database,
    *,
    eval_name: str,
    group_id: str,
    approach: str,
    model: str,
    scorer: dict[str, Any],
    seed: int,
    items_total: int,
    prompt_name: str = "",
    mode: str = "concurrent",
) -> EvalRun:
    with db.atomic():
        cursor = db.execute(
            """insert into eval_runs (eval_name, group_id, prompt_name, approach, model, scorer, seed,
                                      mode, status, items_total, created_at)
               values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                eval_name,
                group_id,
                prompt_name,
                approach,
                model,
                json.dumps(scorer, sort_keys=True),
                seed,
                mode,
                "batch" if mode == "batch" else "running",
                items_total,
                now(),
            ],
        )
    return get_run(db, cursor.lastrowid)


def get_run(db: sqlite_utils.Database, run_id: int) -> EvalRun:
    rows = list(db.query(f"{_RUN_SELECT} where r.id = ?", [run_id]))
    if not rows:
        raise KeyError(f"no eval run with id {run_id}")
    return _run_row(rows[0])


def record_item(db: sqlite_utils.Database, item: EvalItem) -> None:
    """Store one item's outcome (a re-run of the same item replaces it)."""
    with db.atomic():
        db.execute(
            """insert or replace into eval_items (run_id, example_id, question, expected, answer,
                   passed, detail, latency_ms, input_tokens, output_tokens, cached_tokens, cost_usd,
                   error, created_at)
               values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                item.run_id,
                item.example_id,
                item.question,
                item.expected,
                item.answer,
                None if item.passed is None else int(item.passed),
                item.detail,
                item.latency_ms,
                item.input_tokens,
                item.output_tokens,
                item.cached_tokens,
                item.cost_usd,
                item.error,
                now(),
            ],
        )


def finish_run(
    db: sqlite_utils.Database, run_id: int, status: str = "done", error: str | None = None
) -> None:
    if status not in RUN_STATUSES:
        raise ValueError(f"status must be one of {', '.join(RUN_STATUSES)}")
    with db.atomic():
        db.execute(
            "update eval_runs set status = ?, error = ?, finished_at = ? where id = ?",
            [status, error, now() if status in ("done", "failed", "cancelled") else None, run_id],
        )


def set_batch(db: sqlite_utils.Database, run_id: int, batch_id: str) -> None:
    with db.atomic():
        db.execute(
            "update eval_runs set batch_id = ?, status = 'batch' where id = ?", [batch_id, run_id]
        )


def list_runs(
    db: sqlite_utils.Database,
    *,
    eval_name: str | None = None,
    group_id: str | None = None,
    status: str | None = None,
    limit: int | None = 100,
) -> list[EvalRun]:
    """Eval runs, newest first."""
    clauses, params = [], []
    for column, value in (("eval_name", eval_name), ("group_id", group_id), ("status", status)):
        if value:
            clauses.append(f"r.{column} = ?")
            params.append(value)
    where = (" where " + " and ".join(clauses)) if clauses else ""
    sql = f"{_RUN_SELECT}{where} order by r.created_at desc, r.id desc"
    if limit is not None:
        sql += " limit ?"
        params.append(limit)
    return [_run_row(r) for r in db.query(sql, params)]


@dataclass
class EvalGroup:
    """One evaluation: the runs started together, one per approach."""

    group_id: str
    eval_name: str
    created_at: str
    runs: list[EvalRun] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return all(r.status in ("done", "failed", "cancelled") for r in self.runs)


def list_groups(
    db: sqlite_utils.Database, eval_name: str | None = None, limit: int = 20
) -> list[EvalGroup]:
    """Evaluations, newest first (optionally only those of one eval)."""
    where, params = ("where eval_name = ?", [eval_name]) if eval_name else ("", [])
    rows = db.query(
        f"""select group_id, eval_name, min(created_at) as created_at from eval_runs {where}
            group by group_id order by min(created_at) desc, max(id) desc limit ?""",
        [*params, limit],
    )
    groups = [EvalGroup(r["group_id"], r["eval_name"], r["created_at"]) for r in rows]
    for group in groups:
        group.runs = sorted(list_runs(db, group_id=group.group_id, limit=None), key=lambda r: r.id)
    return groups


def list_items(
    db: sqlite_utils.Database, run_id: int, *, limit: int | None = 100, offset: int = 0
) -> list[EvalItem]:
    sql = "select * from eval_items where run_id = ? order by example_id"
    params: list[Any] = [run_id]
    if limit is not None:
        sql += " limit ? offset ?"
        params += [limit, offset]
    return [_item_row(r) for r in db.query(sql, params)]


def item_results(db: sqlite_utils.Database, run_id: int) -> list[ItemResult]:
    """The slim per-item tuples aggregation needs (no answers, no questions)."""
    from workbench.core.evaluate import ItemResult

    return [
        ItemResult(
            example_id=r[0],
            passed=None if r[1] is None else bool(r[1]),
            latency_ms=r[2],
            cost_usd=r[3],
            error=r[4],
        )
        for r in db.execute(
            "select example_id, passed, latency_ms, cost_usd, error from eval_items "
            "where run_id = ? order by example_id",
            [run_id],
        )
    ]


def items_for_example(
    db: sqlite_utils.Database, group_id: str, example_id: int
) -> list[tuple[EvalRun, EvalItem]]:
    """Every approach's answer to one test item (for reading a disagreement)."""
    out = []
    for run in sorted(list_runs(db, group_id=group_id, limit=None), key=lambda r: r.id):
        rows = list(
            db.query(
                "select * from eval_items where run_id = ? and example_id = ?", [run.id, example_id]
            )
        )
        if rows:
            out.append((run, _item_row(rows[0])))
    return out


# --- the eval set -----------------------------------------------------------------------------------


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


# --- what an estimate reads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptSetup:
    """The user's prompt as the three approaches will send it."""

    prompt_name: str
    found: bool  # a saved prompt exists
    model: str
    ft_model: str  # "" : not trained yet (priced as a future fine-tune of `model`)
    system: str = ""
    template: str = ""
    ft_system: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    examples: tuple[Example, ...] = ()


def load_prompt_setup(
    db: sqlite_utils.Database,
    prompt_name: str = "default",
    *,
    model: str | None = None,
    ft_model: str | None = None,
    default_model: str = "gpt-4.1-mini-2025-04-14",
) -> PromptSetup:
    """The prompt's latest version and selected few-shot examples; flags override the saved models."""
    from workbench.store.prompts import latest_version
    from workbench.store.selection import selected_examples

    version = latest_version(db, prompt_name)
    examples = tuple(selected_examples(db, prompt_name))
    if version is None:
        return PromptSetup(
            prompt_name, False, model or default_model, ft_model or "", examples=examples
        )
    return PromptSetup(
        prompt_name=prompt_name,
        found=True,
        model=model or version.model or default_model,
        ft_model=ft_model if ft_model is not None else (version.ft_model or ""),
        system=version.system,
        template=version.template,
        ft_system=version.ft_system,
        variables=dict(version.variables),
        params=dict(version.params),
        examples=examples,
    )


def _average_output(
    db: sqlite_utils.Database, prompt_name: str, approach: str, version_id: int | None
) -> tuple[float, int]:
    """Output tokens of this prompt version's recorded runs (not every past run of the prompt:
    an old version's or an unrelated test's answers must not move the estimate)."""
    row = db.execute(
        """select avg(output_tokens), count(output_tokens) from
           (select output_tokens from runs where prompt_name = ? and approach = ? and status = 'ok'
              and version_id is ? and output_tokens is not null order by id desc limit 200)""",
        [prompt_name, approach, version_id],
    ).fetchone()
    return (float(row[0]) if row[0] is not None else 0.0), int(row[1] or 0)


def group_token_means(
    db: sqlite_utils.Database, group: EvalGroup
) -> dict[str, tuple[float, float, float, int]]:
    """approach -> (mean input, mean cached, mean output tokens, answers) of an evaluation."""
    out: dict[str, tuple[float, float, float, int]] = {}
    for run in group.runs:
        row = db.execute(
            """select avg(input_tokens), avg(coalesce(cached_tokens, 0)), avg(output_tokens),
                      count(*) from eval_items
               where run_id = ? and error is null and output_tokens is not null""",
            [run.id],
        ).fetchone()
        if row[3] and run.approach not in out:
            out[run.approach] = (float(row[0]), float(row[1]), float(row[2]), int(row[3]))
    return out


def _runs_table(db: sqlite_utils.Database) -> bool:
    return "runs" in db.table_names()


@dataclass(frozen=True)
class DatasetTokens:
    dataset: str | None
    per_example: tuple[int, ...]
    assistant_average: float | None  # average assistant tokens per example (an output estimate)


def dataset_tokens(
    db: sqlite_utils.Database,
    dataset_name: str | None,
    tokenizer: Tokenizer,
    *,
    allow_none: bool = False,
) -> DatasetTokens:
    """Token counts of a dataset's training rows (the validator's formula), for the training cost.
    No name: the first dataset, unless `allow_none` (the user chose "(none)")."""
    from workbench.core.dataset import example_token_counts
    from workbench.store.examples import find_dataset, iter_examples, list_datasets

    if dataset_name:
        dataset = find_dataset(db, dataset_name)
        if dataset is None:
            raise KeyError(f"no dataset named {dataset_name!r}")
    else:
        datasets = [] if allow_none else list_datasets(db)
        if not datasets:
            return DatasetTokens(None, (), None)
        dataset = datasets[0]
    totals: list[int] = []
    assistant: list[int] = []
    for example in iter_examples(db, dataset.id, split="train"):
        if example.data is None:
            continue
        total, out = example_token_counts(example.data, tokenizer, method=dataset.method)
        totals.append(total)
        assistant.append(out)
    avg = sum(assistant) / len(assistant) if assistant else None
    return DatasetTokens(dataset.name, tuple(totals), avg)


def estimate_from_store(
    db: sqlite_utils.Database,
    setup: PromptSetup,
    settings: EstimateSettings,
    *,
    dataset_name: str | None = None,
    overrides: dict | None = None,
    tokenizer: Tokenizer | None = None,
    epochs: int | None = None,
    group: EvalGroup | None = None,
    allow_none: bool = False,
) -> tuple[Estimate, DatasetTokens]:
    """The Estimate for a prompt setup and a dataset, with the output length measured where we can:
    an evaluation (`group`) gives each approach it measured its mean input and output tokens
    (so the estimate prices the same requests the evaluation did); otherwise the output is the
    average of the prompt's current version's runs, else the dataset's or examples' replies."""
    from workbench.core.estimate import (
        APPROACHES,
        DEFAULT_OUTPUT_TOKENS,
        estimate,
        measure_messages,
        training_plan,
    )
    from workbench.core.fewshot import example_pair_messages
    from workbench.core.prompts import assemble_messages
    from workbench.core.tokens import count_message_tokens, get_tokenizer

    tok = tokenizer or get_tokenizer(setup.model)
    data = dataset_tokens(db, dataset_name, tok, allow_none=allow_none)
    # a fallback output length: the assistant replies the user wrote themselves
    fallback, fallback_source = float(DEFAULT_OUTPUT_TOKENS), "a default guess"
    if data.assistant_average:
        fallback, fallback_source = data.assistant_average, "average reply in your dataset"
    elif setup.examples:
        replies = [
            count_message_tokens(
                [m for m in example_pair_messages(e) if m["role"] == "assistant"],
                tok,
                reply_priming=False,
            )
            for e in setup.examples
        ]
        fallback, fallback_source = sum(replies) / len(replies), "average reply in your examples"

    from workbench.core.estimate import ApproachTokens
    from workbench.store.prompts import latest_version

    version = latest_version(db, setup.prompt_name)
    measured = group_token_means(db, group) if group is not None else {}
    requests: list[ApproachTokens] = []
    for approach in APPROACHES:
        messages = assemble_messages(
            approach,
            setup.system,
            setup.template,
            setup.variables,
            setup.examples,
            setup.ft_system,
            strict=False,
        )
        model = setup.ft_model or setup.model if approach == "fine-tuned" else setup.model
        if approach in measured:
            tokens_in, _cached, tokens_out, n = measured[approach]
            source = f"this evaluation's {n} answer{'' if n == 1 else 's'}"
            requests.append(ApproachTokens(approach, model, tokens_in, 0, tokens_out, source))
            continue
        output, source = fallback, fallback_source
        if _runs_table(db):
            vid = version.id if version else None
            avg, count = _average_output(db, setup.prompt_name, approach, vid)
            if count:
                label = f"v{version.number}" if version else "this prompt"
                output, source = avg, f"average of {count} {label} run{'' if count == 1 else 's'}"
        requests.append(measure_messages(approach, model, messages, tok, output, source))
    plan: TrainingPlan | None = None
    if data.per_example:
        plan = training_plan(
            setup.model, data.per_example, epochs=epochs, overrides=overrides, terms=settings.terms
        )
    est = estimate(requests, settings, plan, overrides)
    notes = list(est.notes)
    if not tok.exact:
        notes.append(tok.note)
    if not setup.found:
        notes.append(f"no saved prompt named {setup.prompt_name!r}: figures use an empty prompt")
    if plan is None:
        notes.append("no training rows: the one-off training cost is unknown (add a dataset)")
    from dataclasses import replace

    return replace(est, notes=tuple(dict.fromkeys(notes))), data


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


# --- the verdict from stored results -------------------------------------------------------------


def group_results(db: sqlite_utils.Database, group: EvalGroup) -> dict[str, Any]:
    """label -> ApproachResult for each run of an evaluation (several fine-tuned models get their
    model in the label)."""
    from workbench.core.evaluate import aggregate

    out: dict[str, Any] = {}
    ft_runs = [r for r in group.runs if r.approach == "fine-tuned"]
    for run in group.runs:
        label = run.approach
        if run.approach == "fine-tuned" and len(ft_runs) > 1:
            label = f"fine-tuned ({run.model})"
        out[label] = aggregate(run.approach, run.model, item_results(db, run.id))
    return out


def latest_group(db: sqlite_utils.Database, eval_name: str) -> EvalGroup | None:
    groups = list_groups(db, eval_name, limit=1)
    return groups[0] if groups else None


def verdict_from_store(
    db: sqlite_utils.Database,
    setup: PromptSetup,
    est: Estimate,
    data: DatasetTokens,
    group: EvalGroup | None,
    *,
    horizon_months: int | None = None,
    provider_kind: str = "openai",
    today: Any = None,
) -> Any:
    """The verdict (core.evaluation.verdict.verdict_for) from the stored evaluation's results."""
    from workbench.core.evaluation.verdict import verdict_for

    results = group_results(db, group) if group is not None else {}
    models = {r.model for r in results.values() if r.approach == "fine-tuned"}
    ft = est.approach("fine-tuned")
    if ft is not None:
        models.add(ft.model)
    return verdict_for(
        est,
        results,
        examples_needed={
            "few-shot": len(setup.examples),
            "few-shot-similar": len(setup.examples),
            "fine-tuned": len(data.per_example),
        },
        train_times={m: _train_time(db, m) for m in models},
        still_running=group is not None and not group.finished,
        horizon_months=horizon_months,
        provider_kind=provider_kind,
        today=today,
    )


def _train_time(db: sqlite_utils.Database, model: str) -> str:
    """How long the job that made `model` took, from the jobs table when it is there."""
    if not model or "jobs" not in db.table_names():
        return ""
    try:
        cols = {c.name for c in db["jobs"].columns}
        if not {"fine_tuned_model", "created_at", "finished_at"} <= cols:
            return ""
        row = db.execute(
            "select created_at, finished_at from jobs where fine_tuned_model = ? "
            "and finished_at is not null order by rowid desc limit 1",
            [model],
        ).fetchone()
    except Exception:  # another engineer's table: never let its shape break the verdict
        return ""
    if not row:
        return ""
    from datetime import datetime

    try:
        start, end = (
            datetime.fromisoformat(str(v))
            if not isinstance(v, int | float)
            else datetime.fromtimestamp(v)
            for v in row
        )
    except (TypeError, ValueError):
        return ""
    minutes = max(0.0, (end - start).total_seconds() / 60)
    return f"trained in {minutes:.0f} min" if minutes >= 1 else "trained in under a minute"


# --- running an evaluation: the store's side -------------------------------------------------------

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

    from workbench.core.evaluation.engine import ApproachPlan, EvalPlan
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


def resumable_group(db: sqlite_utils.Database, eval_name: str) -> EvalGroup | None:
    """The newest evaluation of this eval left unfinished (killed, stopped, a batch out)."""
    group = latest_group(db, eval_name)
    if group is None or group.finished and not any(r.status == "cancelled" for r in group.runs):
        return None
    return group


class EvalLedger:
    """The SQLite side of core.evaluation.engine: eval runs and items, and a Run per request."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def open_runs(self, plan: Any, mode: str) -> tuple[str, dict[Any, int]]:
        """The runs of the plan's group (resumed) or of a new one; one run per approach."""
        group = plan.group_id or new_group_id()
        existing = {
            (r.approach, r.model): r for r in list_runs(self.db, group_id=group, limit=None)
        }
        runs: dict[Any, int] = {}
        for target in plan.approaches:
            run = existing.get((target.approach, target.model))
            if run is None:
                run = create_run(
                    self.db,
                    eval_name=plan.eval_name,
                    group_id=group,
                    approach=target.approach,
                    model=target.model,
                    scorer=plan.scorer.to_json(),
                    seed=plan.seed,
                    items_total=len(plan.cases),
                    prompt_name=plan.prompt_name,
                    mode=mode,
                )
            else:
                with self.db.atomic():
                    self.db.execute(
                        "update eval_runs set status = ?, finished_at = null, items_total = ? "
                        "where id = ?",
                        ["batch" if mode == "batch" else "running", len(plan.cases), run.id],
                    )
            runs[target] = run.id
        return group, runs

    def answered(self, run_id: int) -> set[int]:
        rows = self.db.execute(
            "select example_id from eval_items where run_id = ? and error is null", [run_id]
        )
        return {r[0] for r in rows}

    def record(self, item: Any, plan: Any) -> None:
        from workbench.store.runs import record_run

        case = item.case
        record_item(
            self.db,
            EvalItem(
                run_id=item.run_id,
                example_id=case.example_id,
                question=case.question,
                expected=case.expected,
                answer=item.answer,
                passed=item.passed,
                detail=item.detail,
                latency_ms=item.latency_ms,
                input_tokens=item.input_tokens,
                output_tokens=item.output_tokens,
                cached_tokens=item.cached_tokens,
                cost_usd=item.cost_usd,
                error=item.error,
            ),
        )
        record_run(
            self.db,
            prompt_name=plan.prompt_name,
            approach=item.approach,
            model=item.model,
            messages=item.messages,
            params=item.params,
            answer=item.answer,
            status="error" if item.error else "ok",
            version_id=plan.version_id,
            version_number=plan.version_number,
            input_tokens=item.input_tokens,
            output_tokens=item.output_tokens,
            cached_tokens=item.cached_tokens,
            latency_ms=None if item.latency_ms is None else round(item.latency_ms),
            cost_usd=item.cost_usd,
            error_kind="eval" if item.error else None,
            error_message=item.error,
            profile=plan.profile,
            eval_run_id=item.run_id,
        )

    def finish(self, run_id: int, status: str, error: str | None = None) -> None:
        finish_run(self.db, run_id, status, error)

    def batch_id(self, run_id: int) -> str | None:
        return get_run(self.db, run_id).batch_id

    def set_batch(self, run_id: int, batch_id: str | None) -> None:
        with self.db.atomic():
            self.db.execute("update eval_runs set batch_id = ? where id = ?", [batch_id, run_id])

    def item_results(self, run_id: int) -> list[Any]:
        return item_results(self.db, run_id)
