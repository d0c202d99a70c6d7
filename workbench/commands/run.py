"""`workbench run`: send a saved prompt once, by one approach, and record it like the Prompt pane.

The messages are the ones the Prompt pane's preview shows for that approach (one renderer for
all); the run is stored (History, `workbench history --json`) whatever happens, with the frozen
prompt version it used. The answer streams to stdout; `--json` prints the recorded run instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from workbench.commands.common import (
    EXIT_CODES_EPILOG,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PROVIDER,
    PROVIDER_DOWN,
    UsageError,
    add_json,
    err,
    key_value,
    print_json,
    printable,
    require_prompt,
    run_with_context,
)

HELP = "send a saved prompt by one approach (zero-shot, few-shot, fine-tuned) and record the run"
RUN_APPROACHES = ("zero-shot", "few-shot", "few-shot-similar", "fine-tuned")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EXIT_CODES_EPILOG
    parser.add_argument("--prompt", metavar="NAME", required=True, help="a saved prompt")
    parser.add_argument("--approach", choices=RUN_APPROACHES, default="zero-shot")
    parser.add_argument(
        "--var",
        metavar="NAME=VALUE",
        type=key_value,
        action="append",
        default=[],
        help="a template variable for this run (repeatable; not saved)",
    )
    parser.add_argument(
        "--input",
        metavar="TEXT",
        help="the input: fills {{input}}, or the template's first variable",
    )
    parser.add_argument("--model", metavar="M", help="model for this run (default: the prompt's)")
    add_json(parser)


def build_messages(db, version, approach: str, variables: dict[str, Any], text: str | None):
    """The messages `approach` sends for this prompt version: core.prompts.build_messages, the
    renderer the preview and the evaluation use. `text` fills the input variable; few-shot-similar
    picks the prompt's K examples most similar to it (K from `similar:K`, else 3)."""
    from workbench.core.fewshot import select_similar
    from workbench.core.prompts import MissingVariables, render_user_turn
    from workbench.core.prompts import build_messages as render
    from workbench.store.selection import few_shot_pool, get_selection, selected_examples

    examples: list = []
    if approach == "few-shot":
        examples = selected_examples(db, version.prompt_name)
    elif approach == "few-shot-similar":
        selection = get_selection(db, version.prompt_name)
        k = selection.k if selection.mode == "similar" else 3
        live = {**version.variables, **variables}
        query = (
            text
            if text is not None
            else render_user_turn(version.template, live, None, strict=False)
        )
        examples = select_similar(few_shot_pool(db), query, k)
    if approach != "zero-shot" and approach != "fine-tuned" and not examples:
        raise UsageError(
            f"prompt {version.prompt_name!r} has no few-shot examples "
            "(`workbench examples import`, then `workbench prompt set NAME --examples all`)"
        )
    try:
        return render(approach, version, input_text=text, variables=variables, examples=examples)
    except MissingVariables as exc:
        names = ", ".join(exc.names)
        raise UsageError(f"fill in {names}: --var NAME=VALUE or --input TEXT") from None


def _model_for(version, approach: str, override: str | None, default: str) -> str:
    if override:
        return override
    if approach == "fine-tuned":
        if not version.ft_model:
            raise UsageError(
                f"prompt {version.prompt_name!r} has no fine-tuned model "
                "(`workbench prompt set NAME --ft-model ft:...` or --model)"
            )
        return version.ft_model
    return version.model or default


def run(args: argparse.Namespace) -> int:
    return run_with_context("run", args, lambda ctx: _run(ctx, args))


def _run(ctx, args: argparse.Namespace) -> int:
    from workbench.store import prompts as store

    version = require_prompt(ctx.db, args.prompt)
    model = _model_for(version, args.approach, args.model, ctx.profile.default_model)
    messages = build_messages(ctx.db, version, args.approach, dict(args.var), args.input)
    frozen = store.version_for_run(ctx.db, args.prompt)
    answer, usage, problem, latency_ms = _send(ctx, model, messages, version.params, args.json)
    cost = request_cost(ctx, model, usage, args.approach)
    from workbench.store.runs import record_run

    recorded = record_run(
        ctx.db,
        prompt_name=args.prompt,
        approach=args.approach,
        model=model,
        messages=messages,
        params=dict(version.params),
        answer=answer,
        status="error" if problem else "ok",
        version_id=frozen.id,
        version_number=frozen.number,
        input_tokens=usage.input_tokens if usage else None,
        output_tokens=usage.output_tokens if usage else None,
        cached_tokens=usage.cached_tokens if usage else None,
        latency_ms=latency_ms,
        cost_usd=cost,
        error_kind=problem.kind if problem else None,
        error_message=problem.message if problem else None,
        profile=ctx.profile.name,
    )
    if args.json:
        print_json(recorded.to_json())
    else:
        cost_text = "no price" if cost is None else f"${cost:.6f}"
        tokens = f"in {usage.input_tokens} · out {usage.output_tokens}" if usage else "no usage"
        err("run", f"run #{recorded.id} · {latency_ms / 1000:.2f}s · {tokens} · {cost_text}")
    if problem is not None:
        err("run", problem.message + (" (the text so far is kept)" if answer else ""))
        return EXIT_PROVIDER if problem.kind in PROVIDER_DOWN else EXIT_FAILED
    return EXIT_OK


def _send(ctx, model: str, messages: list[dict], params: dict, quiet: bool):
    """Stream the answer (to stdout unless quiet); (answer, usage, problem, latency ms)."""
    import asyncio

    from workbench.providers.chat import ChatFailed, Delta, make_chat_client, stream_chat

    pieces: list[str] = []
    usage = None
    problem = None
    started = time.monotonic()

    def on_retry(wait: float | None, status: int) -> None:
        when = f"retrying in {wait:g}s" if wait is not None else "retrying"
        err("run", f"provider answered {status}: {when}")

    async def go() -> None:
        nonlocal usage, started
        try:
            client = make_chat_client(ctx.profile, on_retry=on_retry)
        except Exception as exc:  # noqa: BLE001 - a missing key, explained
            raise ChatFailed(ctx.explain(exc)) from exc
        started = time.monotonic()  # the request, not the SDK's import
        try:
            async for event in stream_chat(
                client, model=model, messages=messages, params=params, profile=ctx.profile
            ):
                if isinstance(event, Delta):
                    pieces.append(event.text)
                    if not quiet:
                        sys.stdout.write(printable(event.text))
                        sys.stdout.flush()
                else:
                    usage = event
        finally:
            await client.close()

    try:
        asyncio.run(go())
    except ChatFailed as exc:
        problem = exc.problem
    if not quiet and pieces:
        sys.stdout.write("\n")
    return "".join(pieces), usage, problem, round((time.monotonic() - started) * 1000)


def request_cost(ctx, model: str, usage, approach: str) -> float | None:
    """What this request cost on the profile's terms (core.pricing, the one price; None: no price
    known, never $0)."""
    from workbench.core.pricing import request_cost as price_request
    from workbench.core.provider_pricing import terms_for

    if usage is None or not (usage.input_tokens or usage.output_tokens):
        return None
    try:
        return price_request(
            terms_for(ctx.profile, ctx.config.prices or None),
            model,
            usage.input_tokens,
            usage.output_tokens,
            cached_input=usage.cached_tokens or 0,
            fine_tuned=approach == "fine-tuned",
        )
    except Exception:  # noqa: BLE001 - a broken price override never loses the run
        return None
