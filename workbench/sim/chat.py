"""`POST /v1/chat/completions`, plain and streamed (SSE in OpenAI's chunk shape), with real token
counts; what the model says comes from replies.py."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from workbench.sim import replies
from workbench.sim.openai_errors import bad_request
from workbench.sim.state import new_id
from workbench.sim.wire import Handlers, json_body


def completion_object(
    completion_id: str,
    created: int,
    model: str,
    reply: str,
    finish_reason: str,
    n: int,
    usage: dict,
) -> dict:
    """A `chat.completion` object (also the body of each Batch API output line)."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": i,
                "message": {
                    "role": "assistant",
                    "content": reply,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": finish_reason,
            }
            for i in range(n)
        ],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": "fp_workbench_sim",
    }


@dataclass
class Reply:
    """What a backend answers to one chat request: the text as it is produced (`pieces`), then,
    once the pieces are exhausted, why it stopped and the token usage."""

    model: str
    pieces: AsyncIterator[str]
    n: int = 1
    finish_reason: str = "stop"
    usage: dict = field(default_factory=dict)


def usage_object(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def check_chat_request(body: dict) -> tuple[str, list[dict], int]:
    """(model, messages, n) of a chat request, or OpenAI's 400."""
    model_id = body.get("model")
    messages = body.get("messages")
    if not isinstance(model_id, str) or not model_id:
        raise bad_request("you must provide a model parameter", "model")
    if not isinstance(messages, list) or not messages:
        raise bad_request("[] is too short - 'messages'", "messages")
    if not all(isinstance(m, dict) and "role" in m for m in messages):
        raise bad_request("Each message needs a 'role'.", "messages")
    n = body.get("n") or 1
    if not isinstance(n, int) or not 1 <= n <= 8:
        raise bad_request("Invalid 'n': must be between 1 and 8.", "n")
    return model_id, messages, n


class ChatRoutes(Handlers):
    """`POST /v1/chat/completions` on the wire, plain and streamed; a backend subclasses it and
    says what the model answers in `start_reply`."""

    async def start_reply(self, body: dict) -> Reply:
        """Resolve the model (OpenAI's 404 if unknown) and begin answering; raises APIError."""
        raise NotImplementedError

    async def chat_completions(self, request: Request) -> Response:
        body = await json_body(request)
        reply = await self.start_reply(body)
        completion_id = new_id("chatcmpl-", 29)
        created = int(time.time())
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return StreamingResponse(
                self._chunks(completion_id, created, reply, include_usage),
                media_type="text/event-stream",
                headers={"cache-control": "no-cache"},
            )
        text = "".join([piece async for piece in reply.pieces])
        return JSONResponse(
            completion_object(
                completion_id, created, reply.model, text, reply.finish_reason, reply.n, reply.usage
            )
        )

    async def _chunks(self, completion_id: str, created: int, reply: Reply, with_usage: bool):
        def chunk(choices: list, usage_value: Any = None) -> str:
            obj = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": reply.model,
                "service_tier": "default",
                "system_fingerprint": "fp_workbench_sim",
                "choices": choices,
            }
            if with_usage:
                obj["usage"] = usage_value
            return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"

        pieces = [piece async for piece in reply.pieces] if reply.n > 1 else None
        for i in range(reply.n):
            yield chunk(
                [
                    {
                        "index": i,
                        "delta": {"role": "assistant", "content": "", "refusal": None},
                        "logprobs": None,
                        "finish_reason": None,
                    }
                ]
            )
            source = _replay(pieces) if pieces is not None else reply.pieces
            async for piece in source:
                yield chunk(
                    [
                        {
                            "index": i,
                            "delta": {"content": piece},
                            "logprobs": None,
                            "finish_reason": None,
                        }
                    ]
                )
                await asyncio.sleep(0)
            yield chunk(
                [{"index": i, "delta": {}, "logprobs": None, "finish_reason": reply.finish_reason}]
            )
        if with_usage:
            yield chunk([], reply.usage)
        yield "data: [DONE]\n\n"


async def _replay(pieces: list[str]) -> AsyncIterator[str]:
    for piece in pieces:
        yield piece


async def _pieces_of(text: str) -> AsyncIterator[str]:
    """A whole reply in word-sized pieces, as a stream shows it."""
    for piece in re.findall(r"\s*\S+|\s+$", text) or [""]:
        yield piece


class Chat(ChatRoutes):
    """The simulator's chat: the reply rule of replies.py, counted with tiktoken."""

    # ---- chat completions ---------------------------------------------------------------------
    def answer(self, body: dict) -> tuple[str, str, str, int, dict]:
        """(model, reply, finish_reason, n, usage) for a chat request body; raises APIError."""
        from workbench.core.tokens import count_message_tokens, get_tokenizer

        model_id, messages, n = check_chat_request(body)
        model_id, trained = self.sim.models.resolve(model_id)
        response_format = body.get("response_format") or {}
        json_object = isinstance(response_format, dict) and response_format.get("type") in (
            "json_object",
            "json_schema",
        )
        reply = replies.choose_reply(model_id, messages, trained, json_object)
        tokenizer = get_tokenizer(model_id)
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        finish_reason = "stop"
        completion_tokens = tokenizer.count(reply)
        if isinstance(limit, int) and limit >= 1 and completion_tokens > limit:
            if tokenizer.exact:
                reply = tokenizer._encoding.decode(tokenizer.encode(reply)[:limit])
            else:
                reply = reply[: int(limit * 4)]
            completion_tokens = tokenizer.count(reply)
            finish_reason = "length"
        prompt_messages = [
            {k: v for k, v in m.items() if k in ("role", "content", "name")} for m in messages
        ]
        prompt_tokens = count_message_tokens(prompt_messages, tokenizer)
        usage = usage_object(prompt_tokens, completion_tokens * n)
        return model_id, reply, finish_reason, n, usage

    async def start_reply(self, body: dict) -> Reply:
        model_id, text, finish_reason, n, usage = self.answer(body)
        return Reply(model_id, _pieces_of(text), n, finish_reason, usage)

    def completion(self, body: dict) -> dict:
        """A whole `chat.completion` for a request body (the Batch API's answer per line)."""
        model_id, reply, finish_reason, n, usage = self.answer(body)
        return completion_object(
            new_id("chatcmpl-", 29), int(time.time()), model_id, reply, finish_reason, n, usage
        )
