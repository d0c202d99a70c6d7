"""Scoring answers against held-out test examples, and aggregating with honest intervals.

Every scorer is pass/fail (a score of 1.0 or 0.0), so an approach's quality is a proportion and its
95% interval is Wilson's, which behaves at 0/n and n/n where the normal approximation does not.
The LLM judge is split in two here (building the grader's messages, reading its reply); the call
itself is the engine's chat function. The judge sees the reference and the candidate in an order
drawn from a recorded seed, so position bias averages out and a run can be replayed.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
                return _text(message.get("content"))
        return ""


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return "" if content is None else str(content)


def eval_case(example_id: int, messages: Sequence[Mapping[str, Any]]) -> EvalCase | None:
    """Split a test example into question and expected answer; None if it has no final reply."""
    last = None
    for i, message in enumerate(messages):
        if isinstance(message, Mapping) and message.get("role") == "assistant":
            last = i
    if last is None or last == 0:
        return None
    before = [dict(m) for m in messages[:last] if isinstance(m, Mapping)]
    system = "\n".join(_text(m.get("content")) for m in before if m.get("role") == "system")
    conversation = tuple(m for m in before if m.get("role") != "system")
    if not any(m.get("role") == "user" for m in conversation):
        return None
    return EvalCase(example_id, conversation, _text(messages[last].get("content")), system)


def scorer_from(kind: str, arg: str = "", *, case_sensitive: bool = False) -> Scorer:
    """A Scorer from a kind and its one setting as typed (the Costs pane's two fields, `workbench
    eval --scorer KIND --scorer-arg TEXT`): regex pattern, JSON schema text, numeric tolerance,
    judge model. ScorerError names what is wrong."""
    import json

    arg = arg.strip()
    if kind == "regex":
        return Scorer("regex", pattern=arg or None)
    if kind == "json_schema":
        try:
            schema = json.loads(arg) if arg else None
        except json.JSONDecodeError as exc:
            raise ScorerError(f"JSON schema: not JSON ({exc.msg} at column {exc.colno})") from exc
        return Scorer("json_schema", schema=schema)
    if kind == "numeric":
        try:
            tolerance = float(arg) if arg else 0.0
        except ValueError as exc:
            raise ScorerError(f"tolerance {arg!r} is not a number") from exc
        return Scorer("numeric", tolerance=tolerance)
    if kind == "judge":
        return Scorer("judge", judge_model=arg or None)
    return Scorer(kind, case_sensitive=case_sensitive)
