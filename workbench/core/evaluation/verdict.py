"""The verdict: which approach to use, from measured quality and the one price.

Pick the cheapest approach over the horizon (training included) among those whose quality is not
clearly worse than the best one (95% intervals overlap); say when the data is too thin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.core.evaluation.formatting import fmt_count, fmt_months, fmt_usd
from workbench.core.evaluation.scoring import (
    MIN_EVAL_ITEMS,
    SCORER_PHRASE,
    ApproachResult,
    intervals_overlap,
)

DEFAULT_HORIZON_MONTHS = 6

CUSTOMIZATION = {
    "zero-shot": "instructions only",
    "few-shot": "instructions + examples in every prompt",
    "few-shot-similar": "instructions + the examples most similar to each input",
    "fine-tuned": "trained weights, short prompt",
}


@dataclass(frozen=True)
class VerdictRow:
    approach: str
    model: str
    customization: str
    quality: ApproachResult | None
    cost_per_1k: float | None
    one_off: float | None
    setup: str

    def to_json(self) -> dict[str, Any]:
        return {
            "approach": self.approach,
            "model": self.model,
            "customization": self.customization,
            "quality": None if self.quality is None else self.quality.to_json(),
            "cost_per_1k": self.cost_per_1k,
            "one_off": self.one_off,
            "setup": self.setup,
        }


@dataclass(frozen=True)
class Verdict:
    rows: tuple[VerdictRow, ...]
    recommendation: str | None  # the approach to use; None when nothing can be said
    headline: str
    reasons: tuple[str, ...]
    thin: bool  # the data is too thin to conclude
    volume: int
    horizon_months: int
    prices_as_of: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "recommendation": self.recommendation,
            "headline": self.headline,
            "reasons": list(self.reasons),
            "thin": self.thin,
            "volume_per_month": self.volume,
            "horizon_months": self.horizon_months,
            "prices_as_of": self.prices_as_of,
            "rows": [r.to_json() for r in self.rows],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class ApproachFacts:
    """What the verdict knows about one approach apart from measured quality."""

    approach: str
    model: str
    per_request: float | None
    one_off: float | None
    examples_needed: int = 0
    train_time: str = ""


def _setup(f: ApproachFacts) -> str:
    if f.approach == "zero-shot":
        return "a prompt"
    if f.approach == "few-shot":
        return f"{f.examples_needed} examples in the prompt"
    if f.approach == "few-shot-similar":
        return f"{f.examples_needed} examples to pick from"
    time = f.train_time or "train ~10 min–2 h"
    return f"{f.examples_needed} training examples; {time}"


def horizon_cost(f: ApproachFacts, volume: int, months: float) -> float | None:
    if f.per_request is None or f.one_off is None:
        return None
    return f.one_off + f.per_request * volume * months


def make_verdict(
    facts: Sequence[ApproachFacts],
    results: Mapping[str, ApproachResult],
    *,
    volume: int,
    break_even: int | None = None,
    horizon_months: int = DEFAULT_HORIZON_MONTHS,
    prices_as_of: str = "",
    notes: Sequence[str] = (),
    ft_months_left: float | None = None,
) -> Verdict:
    """Pick the cheapest approach (over the horizon, training included) among those whose quality
    is not clearly worse than the best one (its 95% interval overlaps the best's); say so when the
    data is too thin for the quality comparison to mean anything."""
    rows = tuple(
        VerdictRow(
            approach=f.approach,
            model=f.model,
            customization=CUSTOMIZATION.get(f.approach, ""),
            quality=results.get(f.approach),
            cost_per_1k=None if f.per_request is None else f.per_request * 1000,
            one_off=f.one_off,
            setup=_setup(f),
        )
        for f in facts
    )
    by_name = {f.approach: f for f in facts}
    measured = [r for r in results.values() if r.n > 0 and r.approach in by_name]
    reasons: list[str] = []
    if not measured:
        return Verdict(
            rows,
            None,
            "No verdict yet: run an evaluation on your held-out test examples first.",
            ("quality is not measured, so only cost can be compared",),
            True,
            volume,
            horizon_months,
            prices_as_of,
            tuple(notes),
        )
    best = max(measured, key=lambda r: (r.score or 0.0, -r.n))
    contenders = [r for r in measured if r is best or intervals_overlap(r, best)]
    fewest = min(r.n for r in measured)
    too_few = fewest < MIN_EVAL_ITEMS

    # quality, in words
    ordered = sorted(measured, key=lambda r: -(r.score or 0.0))
    reasons.append(
        "; ".join(
            f"{r.approach} reaches {r.score:.2f} [{r.ci[0]:.2f}–{r.ci[1]:.2f}]" for r in ordered
        )
        + f" ({SCORER_PHRASE}, 95% interval)"
    )
    if fewest < MIN_EVAL_ITEMS:
        reasons.append(
            f"only {fewest} scored test items: at least {MIN_EVAL_ITEMS} are needed to tell "
            "approaches apart"
        )
    clearly_worse = [r.approach for r in measured if r not in contenders]
    if len(contenders) > 1:
        names = ", ".join(r.approach for r in contenders)
        reasons.append(
            f"{names}: the intervals overlap, so their quality is not distinguishable yet"
        )
    if clearly_worse:
        reasons.append(f"clearly worse than {best.approach}: {', '.join(clearly_worse)}")

    # cost, in words
    if break_even is not None and "fine-tuned" in by_name and "few-shot" in by_name:
        months = break_even / volume if volume else None
        when = f" ({fmt_months(months)} at your volume)" if months is not None else ""
        reasons.append(f"fine-tuning pays back after {fmt_count(break_even)} requests{when}")
    elif "fine-tuned" in by_name and "few-shot" in by_name:
        ft, few = by_name["fine-tuned"], by_name["few-shot"]
        if ft.per_request is not None and few.per_request is not None:
            if ft.per_request >= few.per_request:
                reasons.append(
                    "fine-tuning never pays back: "
                    "a fine-tuned request costs no less than a few-shot one"
                )
            elif ft.one_off is None:
                reasons.append(
                    "when fine-tuning pays back is unknown: no training cost yet (pick a dataset)"
                )
    prompt_arms = [r for r in measured if r.approach != "fine-tuned"]
    tuned = [r for r in measured if r.approach == "fine-tuned"]
    if prompt_arms and tuned:
        strongest = max(prompt_arms, key=lambda r: (r.score or 0.0, -r.n))
        ft = max(tuned, key=lambda r: r.score or 0.0)
        same = (
            "not distinguishable from"
            if intervals_overlap(ft, strongest)
            else ("better than" if (ft.score or 0) > (strongest.score or 0) else "worse than")
        )
        reasons.append(
            f"fine-tuned is {same} the strongest prompt arm measured, {strongest.approach}"
        )
    reasons.append(f"your volume is {fmt_count(volume)} requests/month")

    # a fine-tuned model the provider retires before the horizon only earns its keep until then
    months = float(horizon_months)
    if ft_months_left is not None and "fine-tuned" in by_name:
        if ft_months_left <= 0:
            contenders = [r for r in contenders if r.approach != "fine-tuned"] or contenders
            reasons.append("the fine-tuned model is retired by its provider: it cannot be used")
        elif ft_months_left < months:
            months = ft_months_left
            reasons.append(
                f"the fine-tuned model is retired in {fmt_months(months)}: "
                "costs are compared over that"
            )
    priced = [(horizon_cost(by_name[r.approach], volume, months), r) for r in contenders]
    known = [(c, r) for c, r in priced if c is not None]
    if known:
        cost, choice = min(known, key=lambda cr: (cr[0], -(cr[1].score or 0.0)))
        others = [(c, r) for c, r in known if r is not choice]
        if others:
            reasons.append(
                f"over {fmt_months(months)} {choice.approach} costs {fmt_usd(cost)} against "
                + ", ".join(f"{r.approach} {fmt_usd(c)}" for c, r in others)
            )
    else:
        choice = best
        reasons.append("no prices for the contenders: chose on quality alone")

    # Overlapping intervals leave the decision open only when it trades quality for cost: a
    # cheaper arm that scores at least as well as the best one wins on both counts.
    thin = too_few or (len(contenders) > 1 and (choice.score or 0.0) < (best.score or 0.0))
    verb = {
        "zero-shot": "use zero-shot",
        "few-shot": "stay with few-shot",
        "few-shot-similar": "use few-shot with similar examples",
        "fine-tuned": "fine-tune",
    }
    headline = f"Recommendation: {verb.get(choice.approach, choice.approach)}"
    if choice is best and len(contenders) == 1 and len(measured) > 1:
        headline += " (clearly the best quality)"
    elif len(contenders) > 1:
        headline += " (similar quality, lowest cost)"
    if thin:
        headline = "Too thin to conclude. Leaning: " + headline.removeprefix("Recommendation: ")
    if not best.score:
        # a "leaning" on quality nobody reached would be cost alone dressed up as a verdict
        headline = (
            "No approach passed a single test item: check the scorer and the expected "
            "answers before choosing"
        )
    return Verdict(
        rows,
        choice.approach,
        headline,
        tuple(reasons),
        thin,
        volume,
        horizon_months,
        prices_as_of,
        tuple(notes),
    )


# --- the verdict from an estimate and an evaluation's results ---------------------------------


def measured_per_request(result: ApproachResult | None, terms: Any, volume: float) -> float | None:
    """What one request cost in the evaluation (the mean of its answers' prices, core.pricing),
    plus the profile's hourly terms spread over the volume: the Evaluate tab and the verdict
    both show this figure for a measured approach."""
    from workbench.core.pricing import hosting_per_request

    if result is None or result.n == 0 or result.cost_per_request is None:
        return None
    return result.cost_per_request + hosting_per_request(terms, result.approach, volume)


def train_time_words(started: Any, finished: Any) -> str:
    """How long a fine-tuning job took, for the verdict's setup column: 'trained in 12 min' from
    its start and end (ISO text or epoch seconds); "" when either cannot be read."""
    from datetime import datetime

    try:
        start, end = (
            datetime.fromisoformat(str(v))
            if not isinstance(v, int | float)
            else datetime.fromtimestamp(v)
            for v in (started, finished)
        )
    except (TypeError, ValueError):
        return ""
    minutes = max(0.0, (end - start).total_seconds() / 60)
    return f"trained in {minutes:.0f} min" if minutes >= 1 else "trained in under a minute"


def verdict_for(
    est: Any,
    results: Mapping[str, ApproachResult],
    *,
    examples_needed: Mapping[str, int] | None = None,
    train_times: Mapping[str, str] | None = None,
    still_running: bool = False,
    horizon_months: int | None = None,
    provider_kind: str = "openai",
    today: Any = None,
) -> Verdict:
    """The verdict: measured quality and measured per-request cost from the evaluation (`results`,
    label -> ApproachResult), the estimate's figures for what was not measured, its training
    cost as the one-off. Several fine-tuned models: the estimate's, else the best-scoring one."""
    needed = examples_needed or {}
    ft_cost = est.approach("fine-tuned")
    ft_results = {k: r for k, r in results.items() if r.approach == "fine-tuned"}
    chosen = None
    if ft_results:
        chosen = next(
            (r for r in ft_results.values() if ft_cost and r.model == ft_cost.model),
            max(ft_results.values(), key=lambda r: r.score or 0.0),
        )
    measured = {k: r for k, r in results.items() if r.approach != "fine-tuned"}
    if chosen is not None:
        measured["fine-tuned"] = chosen
    terms, volume = est.settings.terms, est.settings.volume
    facts = []
    names = [c.approach for c in est.approaches]
    names += [k for k in measured if k not in names]
    for name in names:
        cost = est.approach(name)
        result = measured.get(name)
        model = result.model if result is not None else (cost.model if cost else "")
        per_request = measured_per_request(result, terms, volume)
        if per_request is None and cost is not None:
            per_request = cost.per_request
        one_off = cost.one_off if cost is not None else 0.0
        facts.append(
            ApproachFacts(
                approach=name,
                model=model,
                per_request=per_request,
                one_off=one_off,
                examples_needed=needed.get(name, 0),
                train_time=(train_times or {}).get(model, "") if name == "fine-tuned" else "",
            )
        )
    notes = list(est.notes)
    deadline = _shutdown_note(ft_cost, est, provider_kind, today)
    if deadline:
        notes.insert(0, deadline)
    if measured:
        notes.append("per-request costs of measured approaches: this evaluation's answers")
    if still_running:
        notes.append("the evaluation is still running: figures will change")
    return make_verdict(
        facts,
        measured,
        volume=volume,
        break_even=_break_even(facts, est),
        horizon_months=horizon_months or DEFAULT_HORIZON_MONTHS,
        prices_as_of=est.prices_as_of,
        notes=notes,
        ft_months_left=_months_left(ft_cost, provider_kind, today),
    )


def _break_even(facts: Sequence[ApproachFacts], est: Any) -> int | None:
    """Requests after which fine-tuning beats few-shot, on the figures the verdict shows."""
    from workbench.core.estimate import break_even_volume

    by_name = {f.approach: f for f in facts}
    few, ft = by_name.get("few-shot"), by_name.get("fine-tuned")
    if few is None or ft is None:
        return est.break_even
    return break_even_volume(ft.one_off, few.per_request, ft.per_request)


def _months_left(ft_cost: Any, provider_kind: str, today: Any) -> float | None:
    from datetime import date

    if provider_kind != "openai" or ft_cost is None or ft_cost.price is None:
        return None
    if not ft_cost.price.shutdown:
        return None
    days = (date.fromisoformat(ft_cost.price.shutdown) - (today or date.today())).days
    return max(0.0, days / 30)


def _shutdown_note(ft_cost: Any, est: Any, provider_kind: str, today: Any) -> str:
    """OpenAI retires fine-tuned gpt-4o/4.1 models on a fixed date: a fine-tune must pay back first."""
    from datetime import date

    if ft_cost is None or ft_cost.price is None or not ft_cost.price.shutdown:
        return ""
    if provider_kind != "openai":
        return ""
    day = today or date.today()
    end = date.fromisoformat(ft_cost.price.shutdown)
    days = (end - day).days
    if days < 0:
        return f"fine-tuned {ft_cost.price.family} models stopped working on {end.isoformat()} at OpenAI"
    text = (
        f"OpenAI stops serving fine-tuned {ft_cost.price.family} models on {end.isoformat()} "
        f"({days} days from now; new training jobs end 2027-01-06)"
    )
    months = est.break_even_months
    if months is not None and months * 30 > days:
        text += ": at your volume the fine-tune would not pay back before then"
    return text
