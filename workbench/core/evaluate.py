"""Scoring answers against held-out test examples, aggregating with honest intervals, and the verdict.

Every scorer is pass/fail (a score of 1.0 or 0.0), so an approach's quality is a proportion and its
95% interval is Wilson's, which behaves at 0/n and n/n where the normal approximation does not.
The LLM judge is split in two here (building the grader's messages, reading its reply); the call
itself is the provider's. The judge sees the reference and the candidate in an order drawn from a
recorded seed, so position bias averages out and a run can be replayed.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.core.display import plural
from workbench.core.messages import content_text

SCORERS = ("exact", "contains", "regex", "json", "json_schema", "numeric", "judge")
SCORER_LABELS = {
    "exact": "exact match",
    "contains": "contains the expected answer",
    "regex": "matches a regular expression",
    "json": "valid JSON",
    "json_schema": "valid against a JSON schema",
    "numeric": "number within tolerance",
    "judge": "LLM judge",
}
MIN_EVAL_ITEMS = 20  # below this, any conclusion is noise
DEFAULT_HORIZON_MONTHS = 6
SCORER_PHRASE = "share of held-out test items passed"


class ScorerError(ValueError):
    """A scorer is misconfigured (bad regex, bad schema); the message names the setting."""


@dataclass(frozen=True)
class Scorer:
    """How answers are judged. `pattern` for regex, `schema` for json_schema, `tolerance` for numeric
    (absolute), `grader_prompt` for the judge; `case_sensitive` for exact/contains."""

    kind: str = "exact"
    pattern: str | None = None
    schema: dict | None = None
    tolerance: float = 0.0
    case_sensitive: bool = False
    grader_prompt: str | None = None
    judge_model: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in SCORERS:
            raise ScorerError(f"scorer must be one of {', '.join(SCORERS)}, not {self.kind!r}")
        if self.kind == "regex":
            if not self.pattern:
                raise ScorerError("the regex scorer needs a pattern")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ScorerError(f"regex pattern {self.pattern!r}: {exc}") from exc
        if self.kind == "json_schema":
            from jsonschema import Draft202012Validator
            from jsonschema.exceptions import SchemaError

            if not isinstance(self.schema, dict):
                raise ScorerError("the json_schema scorer needs a schema (a JSON object)")
            try:
                Draft202012Validator.check_schema(self.schema)
            except SchemaError as exc:
                raise ScorerError(f"JSON schema: {exc.message}") from exc
        if self.tolerance < 0:
            raise ScorerError("numeric tolerance must be 0 or more")

    @property
    def label(self) -> str:
        return SCORER_LABELS[self.kind]

    def to_json(self) -> dict[str, Any]:
        return {
            k: v for k, v in self.__dict__.items() if v not in (None, False, 0.0) or k == "kind"
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Scorer:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class ItemScore:
    passed: bool
    detail: str = ""

    @property
    def score(self) -> float:
        return 1.0 if self.passed else 0.0


def _norm(text: str, case_sensitive: bool) -> str:
    text = " ".join((text or "").split())
    return text if case_sensitive else text.casefold()


_NUMBER = re.compile(r"[-+]?(?:\d+(?:[.,]\d+)*(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?")


def _first_number(text: str) -> float | None:
    match = _NUMBER.search(text or "")
    if not match:
        return None
    try:
        return float(match.group(0).replace(",", ""))
    except ValueError:
        return None


def _parse_json(text: str) -> tuple[Any, str]:
    """The JSON value of an answer; a ```json fence around it is allowed."""
    body = (text or "").strip()
    fence = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", body, flags=re.DOTALL)
    if fence:
        body = fence.group(1)
    try:
        return json.loads(body), ""
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"


def score_answer(scorer: Scorer, answer: str, expected: str) -> ItemScore:
    """Score one answer (not the judge: see judge_messages / read_judge_reply)."""
    kind = scorer.kind
    if kind == "exact":
        ok = _norm(answer, scorer.case_sensitive) == _norm(expected, scorer.case_sensitive)
        return ItemScore(ok, "" if ok else "differs from the expected answer")
    if kind == "contains":
        ok = _norm(expected, scorer.case_sensitive) in _norm(answer, scorer.case_sensitive)
        return ItemScore(ok, "" if ok else "does not contain the expected answer")
    if kind == "regex":
        flags = 0 if scorer.case_sensitive else re.IGNORECASE
        ok = re.search(scorer.pattern or "", answer or "", flags) is not None
        return ItemScore(ok, "" if ok else f"no match for {scorer.pattern}")
    if kind in ("json", "json_schema"):
        value, problem = _parse_json(answer)
        if problem:
            return ItemScore(False, problem)
        if kind == "json":
            return ItemScore(True)
        from jsonschema import Draft202012Validator

        errors = sorted(Draft202012Validator(scorer.schema or {}).iter_errors(value), key=str)
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path) or "(top level)"
            return ItemScore(False, f"schema: {where}: {errors[0].message}")
        return ItemScore(True)
    if kind == "numeric":
        got, want = _first_number(answer), _first_number(expected)
        if want is None:
            return ItemScore(False, "the expected answer has no number")
        if got is None:
            return ItemScore(False, "the answer has no number")
        ok = abs(got - want) <= scorer.tolerance + 1e-12
        return ItemScore(
            ok, "" if ok else f"{got:g} is not within {scorer.tolerance:g} of {want:g}"
        )
    raise ScorerError("the judge scorer needs a model call: use judge_messages / read_judge_reply")


# --- the LLM judge --------------------------------------------------------------------------------

DEFAULT_GRADER_PROMPT = (
    "You grade answers. Given a question and two answers, decide whether answer 1 or answer 2 is "
    "better, or whether they are equally good. Reply with exactly one word: 1, 2 or TIE."
)


def judge_order(seed: int, item_key: Any) -> bool:
    """True when the candidate goes first for this item (from the run's recorded seed)."""
    return random.Random(f"{seed}:{item_key}").random() < 0.5


def judge_messages(
    scorer: Scorer, question: str, expected: str, answer: str, *, seed: int, item_key: Any
) -> tuple[list[dict], bool]:
    """The grader's messages and whether the candidate was shown first."""
    candidate_first = judge_order(seed, item_key)
    first, second = (answer, expected) if candidate_first else (expected, answer)
    user = f"Question:\n{question}\n\nAnswer 1:\n{first}\n\nAnswer 2:\n{second}"
    return [
        {"role": "system", "content": scorer.grader_prompt or DEFAULT_GRADER_PROMPT},
        {"role": "user", "content": user},
    ], candidate_first


def judge_shortcut(answer: str, expected: str) -> ItemScore | None:
    """An answer identical to the reference (ignoring case and spacing) passes without a judge call."""
    if _norm(answer, False) == _norm(expected, False) and expected.strip():
        return ItemScore(True, "identical to the reference")
    return None


def read_judge_reply(reply: str, candidate_first: bool) -> ItemScore | None:
    """Pass when the candidate wins or ties with the reference; None when the reply is unreadable."""
    match = re.match(r"\W*(?:answer\s*)?(1|2|tie)\b", (reply or "").casefold())
    if not match:
        return None
    verdict = match.group(1)
    if verdict == "tie":
        return ItemScore(True, "judge: as good as the reference")
    candidate = "1" if candidate_first else "2"
    if verdict == candidate:
        return ItemScore(True, "judge: better than the reference")
    return ItemScore(False, "judge: the reference is better")


# --- aggregation ----------------------------------------------------------------------------------


def wilson_interval(passes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion; (0, 1) when there is nothing to go on."""
    if n <= 0:
        return 0.0, 1.0
    p = passes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    data = sorted(values)
    if not data:
        return None
    if len(data) == 1:
        return float(data[0])
    pos = (len(data) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


@dataclass(frozen=True)
class ItemResult:
    """One answered (or failed) eval item, as aggregation needs it."""

    example_id: int
    passed: bool | None  # None: no score (request failed, judge unreadable)
    latency_ms: float | None = None
    cost_usd: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class ApproachResult:
    approach: str
    model: str
    n: int  # items scored
    passes: int
    errors: int
    ci: tuple[float, float]
    p50_ms: float | None
    p95_ms: float | None
    cost_per_request: float | None

    @property
    def score(self) -> float | None:
        return self.passes / self.n if self.n else None

    def to_json(self) -> dict[str, Any]:
        return {
            "approach": self.approach,
            "model": self.model,
            "n": self.n,
            "passes": self.passes,
            "errors": self.errors,
            "score": self.score,
            "ci_low": self.ci[0],
            "ci_high": self.ci[1],
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "cost_per_request": self.cost_per_request,
        }


def aggregate(approach: str, model: str, items: Sequence[ItemResult]) -> ApproachResult:
    scored = [i for i in items if i.passed is not None]
    passes = sum(1 for i in scored if i.passed)
    latencies = [i.latency_ms for i in items if i.latency_ms is not None and i.error is None]
    costs = [i.cost_usd for i in items if i.error is None]
    cost = None if not costs or any(c is None for c in costs) else sum(costs) / len(costs)  # type: ignore[arg-type]
    return ApproachResult(
        approach=approach,
        model=model,
        n=len(scored),
        passes=passes,
        errors=sum(1 for i in items if i.error),
        ci=wilson_interval(passes, len(scored)),
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        cost_per_request=cost,
    )


def disagreements(results: Mapping[str, Sequence[ItemResult]]) -> list[int]:
    """Example ids where the approaches do not all pass or all fail: the items worth reading."""
    seen: dict[int, set[bool]] = {}
    for items in results.values():
        for item in items:
            if item.passed is not None:
                seen.setdefault(item.example_id, set()).add(item.passed)
    return sorted(eid for eid, outcomes in seen.items() if len(outcomes) > 1)


def intervals_overlap(a: ApproachResult, b: ApproachResult) -> bool:
    return a.ci[0] <= b.ci[1] and b.ci[0] <= a.ci[1]


# --- the verdict ----------------------------------------------------------------------------------

CUSTOMIZATION = {
    "zero-shot": "instructions only",
    "few-shot": "instructions + examples in every prompt",
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


def fmt_usd(value: float | None) -> str:
    if value is None:
        return "no price"
    if value == 0:
        return "$0"
    if abs(value) < 0.01:  # per-request figures: two significant digits, never "$0.0000"
        decimals = max(2, 1 - math.floor(math.log10(abs(value))))
        return f"${value:.{decimals}f}"
    if abs(value) < 100:
        return f"${value:,.2f}"
    return f"${value:,.0f}"


def fmt_months(months: float | None) -> str:
    """A payback time in words: '8.2 months', 'about 5 days'."""
    if months is None:
        return "–"
    if months < 1:
        days = months * 30
        if days < 1:
            return "under a day"
        return "about a day" if days < 1.5 else f"about {days:.0f} days"
    return f"{months:.1f} months"


def fmt_count(n: float | None) -> str:
    if n is None:
        return "–"
    if n >= 1_000_000:
        return f"{n / 1_000_000:.3g}M"
    if n >= 1_000:
        return f"{n / 1_000:.3g}k"
    return f"{n:.0f}"


def fmt_score(r: ApproachResult | None) -> str:
    if r is None or r.score is None:
        return "not measured"
    return f"{r.score:.2f} [{r.ci[0]:.2f}–{r.ci[1]:.2f}] n={r.n}"


def fmt_latency(r: ApproachResult | None) -> str:
    if r is None or r.p50_ms is None:
        return "–"
    return f"p50 {r.p50_ms / 1000:.2f}s p95 {(r.p95_ms or r.p50_ms) / 1000:.2f}s"


def _setup(f: ApproachFacts) -> str:
    if f.approach == "zero-shot":
        return "a prompt"
    if f.approach == "few-shot":
        return f"{plural(f.examples_needed, 'example')} in the prompt"
    time = f.train_time or "train ~10 min–2 h"
    return f"{plural(f.examples_needed, 'training example')}; {time}"


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
    thin = fewest < MIN_EVAL_ITEMS or len(contenders) > 1

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

    verb = {
        "zero-shot": "use zero-shot",
        "few-shot": "stay with few-shot",
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


def verdict_markdown(verdict: Verdict, *, title: str = "Fine-tune or prompt-engineer?") -> str:
    """The verdict as a Markdown document (user text escaped for table cells)."""

    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = [f"# {title}", ""]
    lines.append(f"**{verdict.headline}**")
    lines.append("")
    for reason in verdict.reasons:
        lines.append(f"- {cell(reason)}")
    lines.append("")
    lines.append(
        "| approach | customization | quality (measured) | cost per 1k requests | one-off cost "
        "| latency (measured) | setup effort |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    for row in verdict.rows:
        lines.append(
            "| "
            + " | ".join(
                cell(x)
                for x in (
                    f"{row.approach} ({row.model})",
                    row.customization,
                    fmt_score(row.quality),
                    fmt_usd(row.cost_per_1k),
                    "unknown" if row.one_off is None else fmt_usd(row.one_off),
                    fmt_latency(row.quality),
                    row.setup,
                )
            )
            + " |"
        )
    lines.append("")
    lines.append(
        f"Volume: {fmt_count(verdict.volume)} requests/month; horizon {verdict.horizon_months} months. "
        f"Prices as of {verdict.prices_as_of or 'unknown'}. Quality is the share of held-out test "
        "items passed, with a 95% Wilson interval."
    )
    for note in verdict.notes:
        lines.append(f"\n> {cell(note)}")
    return "\n".join(lines) + "\n"


# --- eval items -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalCase:
    """One held-out test example as a question to ask and the answer it should get."""

    example_id: int
    conversation: tuple[dict, ...]  # the example's messages before the final assistant reply
    expected: str
    system: str = ""  # the example's own system message, if any

    @property
    def question(self) -> str:
        for message in reversed(self.conversation):
            if message.get("role") == "user":
                return content_text(message.get("content"))
        return ""


def eval_case(example_id: int, messages: Sequence[Mapping[str, Any]]) -> EvalCase | None:
    """Split a test example into question and expected answer; None if it has no final reply."""
    last = None
    for i, message in enumerate(messages):
        if isinstance(message, Mapping) and message.get("role") == "assistant":
            last = i
    if last is None or last == 0:
        return None
    before = [dict(m) for m in messages[:last] if isinstance(m, Mapping)]
    system = "\n".join(content_text(m.get("content")) for m in before if m.get("role") == "system")
    conversation = tuple(m for m in before if m.get("role") != "system")
    if not any(m.get("role") == "user" for m in conversation):
        return None
    return EvalCase(example_id, conversation, content_text(messages[last].get("content")), system)


@dataclass(frozen=True)
class PromptParts:
    """What the approaches add around each test case (from the user's saved prompt)."""

    system: str = ""
    ft_system: str | None = None
    few_shot: tuple[dict, ...] = ()
    params: Mapping[str, Any] | None = None


def case_messages(
    approach: str,
    case: EvalCase,
    *,
    system: str = "",
    ft_system: str | None = None,
    few_shot: Sequence[Mapping[str, Any]] = (),
) -> list[dict]:
    """What an approach sends for a test case: the prompt's system (or the example's own), the
    few-shot pairs for few-shot, the short fine-tuned system for fine-tuned, then the conversation."""
    if approach == "fine-tuned" and ft_system is not None:
        sys_text = ft_system
    else:
        sys_text = system or case.system
    messages: list[dict] = []
    if sys_text.strip():
        messages.append({"role": "system", "content": sys_text})
    if approach == "few-shot":
        messages.extend(dict(m) for m in few_shot)
    messages.extend(dict(m) for m in case.conversation)
    return messages
