"""The estimate and the verdict from stored rows, so the Costs pane and `workbench estimate` agree.

Gathers what they need from the other tables (the prompt's latest version, its selected few-shot
examples, a dataset's training rows, recorded runs, an evaluation's results) and turns it into
plain core inputs; the figures themselves are computed in core.estimate and core.evaluation.
Kept apart from store.evals, whose tables it only reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.store.evals import EvalGroup, item_results
from workbench.store.examples import Example

if TYPE_CHECKING:
    import sqlite_utils

    from workbench.core.estimate import ApproachTokens, Estimate, EstimateSettings, TrainingPlan
    from workbench.core.tokens import Tokenizer


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


# --- the verdict from stored results -------------------------------------------------------------


def group_results(db: sqlite_utils.Database, group: EvalGroup) -> dict[str, Any]:
    """label -> ApproachResult for each run of an evaluation (several fine-tuned models get their
    model in the label)."""
    from workbench.core.evaluation.scoring import aggregate

    out: dict[str, Any] = {}
    ft_runs = [r for r in group.runs if r.approach == "fine-tuned"]
    for run in group.runs:
        label = run.approach
        if run.approach == "fine-tuned" and len(ft_runs) > 1:
            label = f"fine-tuned ({run.model})"
        out[label] = aggregate(run.approach, run.model, item_results(db, run.id))
    return out


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
    from workbench.core.evaluation.verdict import train_time_words

    return train_time_words(*row)
