"""`POST /v1/chat/completions`, plain and streamed (SSE in OpenAI's chunk shape), with real token
counts; what the model says comes from replies.py."""

from __future__ import annotations

import asyncio
import json
import re
import time
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


class Chat(Handlers):
    """Chat completions."""

    # ---- chat completions ---------------------------------------------------------------------
    def answer(self, body: dict) -> tuple[str, str, str, int, dict]:
        """(model, reply, finish_reason, n, usage) for a chat request body; raises APIError."""
        from workbench.core.tokens import count_message_tokens, get_tokenizer

        model_id = body.get("model")
        messages = body.get("messages")
        if not isinstance(model_id, str) or not model_id:
            raise bad_request("you must provide a model parameter", "model")
        if not isinstance(messages, list) or not messages:
            raise bad_request("[] is too short - 'messages'", "messages")
        if not all(isinstance(m, dict) and "role" in m for m in messages):
            raise bad_request("Each message needs a 'role'.", "messages")
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
        usage = {
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
        n = body.get("n") or 1
        if not isinstance(n, int) or not 1 <= n <= 8:
            raise bad_request("Invalid 'n': must be between 1 and 8.", "n")
        if n > 1:
            usage["completion_tokens"] *= n
            usage["total_tokens"] = prompt_tokens + usage["completion_tokens"]
        return model_id, reply, finish_reason, n, usage

    async def chat_completions(self, request: Request) -> Response:
        body = await json_body(request)
        model_id, reply, finish_reason, n, usage = self.answer(body)
        completion_id = new_id("chatcmpl-", 29)
        created = int(time.time())
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return StreamingResponse(
                self._chunks(
                    completion_id,
                    created,
                    model_id,
                    reply,
                    finish_reason,
                    n,
                    usage if include_usage else None,
                ),
                media_type="text/event-stream",
                headers={"cache-control": "no-cache"},
            )
        return JSONResponse(
            completion_object(completion_id, created, model_id, reply, finish_reason, n, usage)
        )

    async def _chunks(self, completion_id, created, model, reply, finish_reason, n, usage):
        def chunk(choices: list, usage_value: Any = None, with_usage: bool = False) -> str:
            obj = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "service_tier": "default",
                "system_fingerprint": "fp_workbench_sim",
                "choices": choices,
            }
            if with_usage:
                obj["usage"] = usage_value
            return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"

        with_usage = usage is not None
        pieces = re.findall(r"\s*\S+", reply) or [""]
        for i in range(n):
            yield chunk(
                [
                    {
                        "index": i,
                        "delta": {"role": "assistant", "content": "", "refusal": None},
                        "logprobs": None,
                        "finish_reason": None,
                    }
                ],
                None,
                with_usage,
            )
            for piece in pieces:
                yield chunk(
                    [
                        {
                            "index": i,
                            "delta": {"content": piece},
                            "logprobs": None,
                            "finish_reason": None,
                        }
                    ],
                    None,
                    with_usage,
                )
                await asyncio.sleep(0)
            yield chunk(
                [{"index": i, "delta": {}, "logprobs": None, "finish_reason": finish_reason}],
                None,
                with_usage,
            )
        if with_usage:
            yield chunk([], usage, True)
        yield "data: [DONE]\n\n"

    def completion(self, body: dict) -> dict:
        """A whole `chat.completion` for a request body (the Batch API's answer per line)."""
        model_id, reply, finish_reason, n, usage = self.answer(body)
        return completion_object(
            new_id("chatcmpl-", 29), int(time.time()), model_id, reply, finish_reason, n, usage
        )
