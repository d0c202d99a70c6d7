"""Streaming chat completions: the answer token by token, then the usage.

`stream_chat` yields `Delta`s as text arrives and one `Usage` at the end (asked for with
`stream_options={"include_usage": True}`). Any failure, including a stream that stops before the
model finished, raises `ChatFailed` carrying a ProviderProblem in plain words; the caller keeps
what streamed so far. The SDK retries 429/5xx/timeouts per its own policy; `on_retry` hears about
each rate-limit wait so the pane can show it while the SDK sleeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.config import Profile
from workbench.providers.openai_api import (
    ProviderProblem,
    adapt_client,
    client_kwargs,
    explain_error,
)

if TYPE_CHECKING:
    from openai import AsyncOpenAI

# The parameters the Prompt pane offers, and their defaults.
DEFAULT_PARAMS: dict[str, Any] = {
    "temperature": 1.0,
    "max_tokens": 512,
    "seed": None,
    "response_format": "text",
}
RESPONSE_FORMATS = ("text", "json_object")


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int
    cached_tokens: int = 0
    finish_reason: str | None = None


class ChatFailed(Exception):
    """A chat request failed; `problem` says why in words a user can act on."""

    def __init__(self, problem: ProviderProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class StreamDropped(Exception):
    """The stream ended before the model said it had finished."""


def make_chat_client(
    profile: Profile, on_retry: Callable[[float | None, int], None] | None = None
) -> AsyncOpenAI:
    """An async client for the profile; `on_retry(wait_seconds, status)` hears each 429/5xx.

    The profile may set `timeout` (seconds) and `max_retries` (extra settings in its table).
    """
    from openai import AsyncOpenAI, DefaultAsyncHttpxClient

    timeout = profile.extra.get("timeout")
    retries = profile.extra.get("max_retries")
    kwargs = client_kwargs(
        profile,
        float(timeout) if timeout is not None else None,
        int(retries) if retries is not None else None,
        asynchronous=True,
    )
    if on_retry is not None:

        async def hook(response: Any) -> None:
            if response.status_code == 429 or response.status_code >= 500:
                on_retry(_wait_of(response.headers), response.status_code)

        kwargs["http_client"] = DefaultAsyncHttpxClient(
            timeout=kwargs["timeout"], event_hooks={"response": [hook]}
        )
    return adapt_client(AsyncOpenAI(**kwargs), profile)  # Azure: deployments, tokens


def _wait_of(headers: Mapping[str, str]) -> float | None:
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            return float(value) * scale
        except ValueError:
            continue
    return None


def request_params(params: Mapping[str, Any], profile: Profile | None = None) -> dict[str, Any]:
    """The Prompt pane's parameters as chat.completions arguments (unset ones left out)."""
    out: dict[str, Any] = {}
    if params.get("temperature") is not None:
        out["temperature"] = float(params["temperature"])
    if params.get("max_tokens"):
        # OpenAI and Azure want max_completion_tokens; other OpenAI-wire hosts still read max_tokens
        kind = profile.kind if profile else "openai"
        key = "max_completion_tokens" if kind in ("openai", "azure") else "max_tokens"
        out[key] = int(params["max_tokens"])
    if params.get("seed") is not None and params.get("seed") != "":
        out["seed"] = int(params["seed"])
    if params.get("response_format") == "json_object":
        out["response_format"] = {"type": "json_object"}
    return out


async def stream_chat(
    client: AsyncOpenAI,
    *,
    model: str,
    messages: list[dict[str, Any]],
    params: Mapping[str, Any] | None = None,
    profile: Profile | None = None,
) -> AsyncIterator[Delta | Usage]:
    """Yield the answer's text pieces, then its usage. Raises ChatFailed on any failure.
    A profile whose host cannot stream (capabilities) gets the whole answer as one piece."""
    from workbench.providers.capabilities import capabilities_for

    if profile is not None and not capabilities_for(profile).has("streaming"):
        async for event in _whole_answer(client, model, messages, params, profile):
            yield event
        return
    finish_reason: str | None = None
    usage_seen = False
    started = False  # a chunk arrived: a failure from here on is a dropped stream
    try:
        stream = await client.chat.completions.create(
            model=model,
            messages=messages,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
            **request_params(params or {}, profile),
        )
        async for chunk in stream:
            started = True
            for choice in chunk.choices or ():
                text = getattr(choice.delta, "content", None) if choice.delta else None
                if text:
                    yield Delta(text)
                if choice.finish_reason:
                    finish_reason = choice.finish_reason
            if chunk.usage is not None:
                usage_seen = True
                details = getattr(chunk.usage, "prompt_tokens_details", None)
                cached = getattr(details, "cached_tokens", None) or 0
                yield Usage(
                    chunk.usage.prompt_tokens or 0,
                    chunk.usage.completion_tokens or 0,
                    cached,
                    finish_reason,
                )
        if finish_reason is None and not usage_seen:
            raise StreamDropped()
        if not usage_seen:
            yield Usage(0, 0, 0, finish_reason)
    except ChatFailed:
        raise
    except StreamDropped as exc:
        raise ChatFailed(_dropped()) from exc
    except Exception as exc:
        problem = explain_error(exc, profile)
        if started and problem.kind in ("connection", "timeout"):
            problem = _dropped(problem.kind)
        raise ChatFailed(problem) from exc


async def _whole_answer(
    client: AsyncOpenAI,
    model: str,
    messages: list[dict[str, Any]],
    params: Mapping[str, Any] | None,
    profile: Profile,
) -> AsyncIterator[Delta | Usage]:
    """One non-streamed request, told as a single piece and its usage."""
    try:
        answer = await client.chat.completions.create(
            model=model,
            messages=messages,  # type: ignore[arg-type]
            **request_params(params or {}, profile),
        )
    except Exception as exc:
        raise ChatFailed(explain_error(exc, profile)) from exc
    choice = answer.choices[0] if answer.choices else None
    text = (choice.message.content if choice and choice.message else None) or ""
    if text:
        yield Delta(text)
    usage = answer.usage
    details = getattr(usage, "prompt_tokens_details", None) if usage else None
    yield Usage(
        (usage.prompt_tokens or 0) if usage else 0,
        (usage.completion_tokens or 0) if usage else 0,
        getattr(details, "cached_tokens", None) or 0,
        choice.finish_reason if choice else None,
    )


def _dropped(cause: str = "connection") -> ProviderProblem:
    why = "timed out" if cause == "timeout" else "connection dropped"
    return ProviderProblem(
        "dropped", f"the answer stream stopped before the model finished ({why})"
    )


async def list_models(client: AsyncOpenAI) -> list[str]:
    """The model ids the provider offers, sorted. Raises ChatFailed."""
    try:
        page = await client.models.list()
        return sorted(m.id for m in page.data)
    except Exception as exc:
        raise ChatFailed(explain_error(exc)) from exc
