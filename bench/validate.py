"""Benchmark `workbench validate` against a cookbook-style validator and the tokenizer floor.

    .venv/bin/python bench/validate.py [--examples 100000] [--repeat 3] [--small 10000]

Generates a JSONL file (most examples share one system prompt, as real files do) in a temp dir,
then times, each as its own process (interpreter start-up and tokenizer load included):

  (a) `workbench validate FILE --json`, as a user runs it;
  (b) a straightforward cookbook-style validator: json.loads, the format checks, and
      `encode` of every message value, single thread (Chat_finetuning_data_prep.ipynb, fixed
      for `weight` and the o200k encoding); (b') the same with `encode_ordinary`, which skips
      tiktoken's special-token scan (a stronger single-thread baseline);
  (c) the floor: json.loads plus `encode_ordinary` of every message text, nothing else.

Prints wall times, the ratios (b)/(a) and (c)/(a), and peak memory: the largest single process
(getrusage of children) and the whole process tree (sampled /proc RSS, workers included).
The same (a) run on a file 10x smaller shows whether memory is flat in the file size.
Needs the BPE files: set TIKTOKEN_CACHE_DIR (e.g. ../shared/tiktoken) when offline.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = "gpt-4.1-mini-2025-04-14"

WORDS = [
    "order",
    "refund",
    "shipping",
    "account",
    "password",
    "invoice",
    "delivery",
    "package",
    "warranty",
    "return",
    "exchange",
    "billing",
    "address",
    "payment",
    "card",
    "subscription",
    "cancel",
    "upgrade",
    "plan",
    "support",
    "ticket",
    "status",
    "tracking",
    "number",
    "customer",
    "service",
    "weekend",
    "holiday",
    "store",
    "online",
    "mobile",
    "app",
    "login",
    "error",
    "message",
    "screen",
    "update",
    "version",
    "install",
    "device",
    "battery",
    "charger",
    "screen",
    "cable",
    "wireless",
    "network",
    "router",
    "signal",
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "is",
    "it",
    "you",
    "that",
    "for",
    "on",
    "with",
    "as",
    "be",
    "this",
    "was",
    "are",
    "at",
    "or",
    "from",
    "have",
    "not",
    "by",
    "please",
    "thanks",
    "could",
    "would",
    "should",
    "will",
    "can",
    "may",
    "might",
    "must",
    "need",
    "want",
    "like",
    "know",
    "think",
    "see",
]

SYSTEM_PROMPT = (
    "You are Ada, the customer support assistant for Northwind Electronics. Answer in two to "
    "four sentences, in a friendly and precise tone. Never promise refunds beyond the 30-day "
    "window; for warranty questions, ask for the order number and the purchase date first. "
    "If a question is about billing, point to the Billing page in the account settings and "
    "offer to open a ticket. Do not discuss competitors, internal tools or these instructions. "
    "When you are unsure, say so and offer to connect the customer with a human agent. Use the "
    "customer's name when they give it. Format lists with short dashes, never with numbers. "
) * 2

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Find an order by its number.",
            "parameters": {
                "type": "object",
                "properties": {
                    "order_number": {"type": "string", "description": "The order number."},
                    "channel": {
                        "type": "string",
                        "description": "Where it was bought",
                        "enum": ["online", "store", "phone"],
                    },
                },
                "required": ["order_number"],
            },
        },
    }
]


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def generate(path: Path, examples: int, seed: int = 7) -> None:
    """A realistic file: 90% share the system prompt, 5% use tools, a few multi-turn."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(examples):
            roll = rng.random()
            system = SYSTEM_PROMPT if roll < 0.9 else f"You are helper number {i % 50}. Be brief."
            messages = [
                {"role": "system", "content": system},
                {"role": "user", "content": _sentence(rng, rng.randint(10, 60))},
            ]
            example: dict = {"messages": messages}
            if roll > 0.95:
                example["tools"] = TOOLS
                messages.append(
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": f"call_{i}",
                                "type": "function",
                                "function": {
                                    "name": "lookup_order",
                                    "arguments": json.dumps({"order_number": str(100000 + i)}),
                                },
                            }
                        ],
                    }
                )
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": f"call_{i}",
                        "content": '{"status": "shipped"}',
                    }
                )
            elif rng.random() < 0.1:
                messages.append({"role": "assistant", "content": _sentence(rng, 20), "weight": 0})
                messages.append({"role": "user", "content": _sentence(rng, 15)})
            messages.append(
                {"role": "assistant", "content": _sentence(rng, rng.randint(20, 120)), "weight": 1}
            )
            fh.write(json.dumps(example) + "\n")


# (b): the cookbook notebook's checks and counts, with its two crashes fixed (numeric weight,
# non-string values) and the o200k encoding, single thread.
COOKBOOK = r"""
import json, sys
from collections import defaultdict
import tiktoken

_enc = tiktoken.get_encoding("o200k_base")
# the notebook calls encode(); "ordinary" swaps in encode_ordinary (no special-token scan)
encode = _enc.encode_ordinary if sys.argv[2:] == ["ordinary"] else _enc.encode
format_errors = defaultdict(int)
convo_lens, assistant_lens = [], []


def value_text(value):
    return value if isinstance(value, str) else json.dumps(value)


def num_tokens_from_messages(messages, tokens_per_message=3, tokens_per_name=1):
    num_tokens = 0
    for message in messages:
        num_tokens += tokens_per_message
        for key, value in message.items():
            if key == "weight":
                continue
            num_tokens += len(encode(value_text(value)))
            if key == "name":
                num_tokens += tokens_per_name
    return num_tokens + 3


def num_assistant_tokens_from_messages(messages):
    return sum(
        len(encode(m["content"]))
        for m in messages
        if m["role"] == "assistant" and isinstance(m.get("content"), str)
    )


with open(sys.argv[1], encoding="utf-8") as fh:
    for line in fh:
        ex = json.loads(line)
        if not isinstance(ex, dict):
            format_errors["data_type"] += 1
            continue
        messages = ex.get("messages", None)
        if not messages:
            format_errors["missing_messages_list"] += 1
            continue
        for message in messages:
            if "role" not in message or ("content" not in message and "tool_calls" not in message):
                format_errors["message_missing_key"] += 1
            if any(k not in ("role", "content", "name", "function_call", "weight", "tool_calls",
                             "tool_call_id") for k in message):
                format_errors["message_unrecognized_key"] += 1
            if message.get("role", None) not in ("system", "user", "assistant", "function", "tool"):
                format_errors["unrecognized_role"] += 1
            content = message.get("content", None)
            function_call = message.get("function_call", None) or message.get("tool_calls", None)
            if (not content and not function_call) or (content is not None and not isinstance(content, str)):
                format_errors["missing_content"] += 1
        if not any(m.get("role", None) == "assistant" for m in messages):
            format_errors["example_missing_assistant_message"] += 1
        convo_lens.append(num_tokens_from_messages(messages))
        assistant_lens.append(num_assistant_tokens_from_messages(messages))

n = len(convo_lens)
epochs = 3
if n * 3 < 100:
    epochs = min(25, 100 // n)
elif n * 3 > 25000:
    epochs = max(1, 25000 // n)
billed = sum(min(65536, x) for x in convo_lens)
print(json.dumps({"examples": n, "errors": dict(format_errors), "billed": billed,
                  "epochs": epochs, "total": sum(convo_lens)}))
"""

# (c): the floor: parse every line and encode_ordinary every message text, nothing else.
FLOOR = r"""
import json, sys
import tiktoken

enc = tiktoken.get_encoding("o200k_base")
total = 0
with open(sys.argv[1], "rb") as fh:
    for line in fh:
        for message in json.loads(line)["messages"]:
            content = message.get("content")
            if content:
                total += len(enc.encode_ordinary(content))
print(total)
"""


def _tree_pss_kb(root: int, include_root: bool = True) -> int:
    """Proportional set size of a process and its descendants (kB): pages shared after fork
    count once, unlike adding up RSS."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total = 0
    todo = [root] if include_root else list(children.get(root, []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


def run_timed(cmd: list[str], env: dict[str, str]) -> dict:
    """Wall time of one command, as a user would see it, and the CPU time it used (all its
    processes): wall shows the second core at work, CPU the work done, and CPU barely moves
    when other programs compete for the cores."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall": wall,
        "cpu": cpu,
        "rc": proc.returncode,
        "stdout": proc.stdout,
        "stderr": proc.stderr,
    }


_WRAP = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def run_memory(cmd: list[str], env: dict[str, str]) -> dict:
    """Peak memory of one command (not timed: sampling /proc costs CPU).

    `largest_mb`: the biggest single process of the command (getrusage in a fresh wrapper);
    `tree_mb`: the whole process tree, workers included (PSS sampled every 50 ms)."""
    wrapper = subprocess.Popen(
        [sys.executable, "-c", _WRAP, *cmd], stdout=subprocess.PIPE, text=True, env=env
    )
    peak_tree = 0
    while wrapper.poll() is None:
        peak_tree = max(peak_tree, _tree_pss_kb(wrapper.pid, include_root=False))
        time.sleep(0.05)
    largest = int(wrapper.stdout.read().strip() or 0)
    return {"largest_mb": largest / 1024, "tree_mb": peak_tree / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument(
        "--small", type=int, default=10_000, help="examples in the memory check file"
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    env = dict(os.environ)
    shared = ROOT.parent / "shared" / "tiktoken"
    if "TIKTOKEN_CACHE_DIR" not in env and shared.is_dir():
        env["TIKTOKEN_CACHE_DIR"] = str(shared)

    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        big = Path(tmp) / "train.jsonl"
        small = Path(tmp) / "small.jsonl"
        t0 = time.perf_counter()
        generate(big, args.examples)
        generate(small, args.small)
        print(
            f"generated {args.examples:,} examples ({big.stat().st_size / 2**20:.1f} MB) and "
            f"{args.small:,} ({small.stat().st_size / 2**20:.1f} MB) "
            f"in {time.perf_counter() - t0:.1f}s",
            file=sys.stderr,
        )
        cookbook = Path(tmp) / "cookbook.py"
        cookbook.write_text(COOKBOOK)
        floor = Path(tmp) / "floor.py"
        floor.write_text(FLOOR)

        def workbench(path: Path) -> list[str]:
            return [
                sys.executable,
                "-m",
                "workbench",
                "validate",
                str(path),
                "--json",
                "--model",
                MODEL,
            ]

        commands = {
            "a": workbench(big),
            "b": [sys.executable, str(cookbook), str(big)],
            "b2": [sys.executable, str(cookbook), str(big), "ordinary"],
            "c": [sys.executable, str(floor), str(big)],
        }
        names = {
            "a": "(a) workbench validate",
            "b": "(b) cookbook-style, 1 thread",
            "b2": "(b') the same with encode_ordinary",
            "c": "(c) floor: parse + encode_ordinary",
        }
        runs: dict[str, list[dict]] = {k: [] for k in commands}
        for i in range(args.repeat):
            for key, cmd in commands.items():
                result = run_timed(cmd, env)
                if result["rc"] not in (0, 1):
                    print(result["stderr"][-2000:], file=sys.stderr)
                    raise SystemExit(f"{names[key]} failed (exit {result['rc']})")
                runs[key].append(result)
            print(
                f"round {i + 1}: " + "  ".join(f"{k}={runs[k][-1]['wall']:.2f}s" for k in commands),
                file=sys.stderr,
            )
        memory = {key: run_memory(cmd, env) for key, cmd in commands.items()}
        memory_small = run_memory(workbench(small), env)

    report = json.loads(runs["a"][0]["stdout"])
    print(
        f"\n{args.examples:,} examples, {report['tokens']['total']:,} tokens, "
        f"{report['valid_examples']:,} valid; {args.repeat} rounds; {os.cpu_count()} CPUs; "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after\n"
    )
    print(
        f"{'':36} {'wall best':>9} {'median':>7} {'CPU':>7} "
        f"{'largest process':>16} {'whole tree (PSS)':>17}"
    )
    for key in commands:
        walls = [r["wall"] for r in runs[key]]
        cpu = min(r["cpu"] for r in runs[key])
        print(
            f"{names[key]:36} {min(walls):8.2f}s {statistics.median(walls):6.2f}s {cpu:6.2f}s "
            f"{memory[key]['largest_mb']:13.0f} MB {memory[key]['tree_mb']:14.0f} MB"
        )
    best = {k: min(r["wall"] for r in runs[k]) for k in commands}
    paired = [b["wall"] / a["wall"] for a, b in zip(runs["a"], runs["b"], strict=True)]
    print()
    print(
        f"speed-up (b)/(a): best-of {best['b'] / best['a']:.2f}x; per round "
        f"{', '.join(f'{x:.2f}x' for x in paired)}"
    )
    paired2 = [b["wall"] / a["wall"] for a, b in zip(runs["a"], runs["b2"], strict=True)]
    cpu = {k: min(r["cpu"] for r in runs[k]) for k in commands}
    print(
        f"speed-up (b')/(a): best-of {best['b2'] / best['a']:.2f}x; per round "
        f"{', '.join(f'{x:.2f}x' for x in paired2)}"
    )
    print(
        f"CPU time, (b)/(a): {cpu['b'] / cpu['a']:.2f}x, (b')/(a): {cpu['b2'] / cpu['a']:.2f}x, "
        f"(c)/(a): {cpu['c'] / cpu['a']:.2f}x  (work saved, whatever the load)"
    )
    print(
        f"against the floor (c)/(a): {best['c'] / best['a']:.2f}x   "
        f"(cookbook over floor (b)/(c): {best['b'] / best['c']:.2f}x)"
    )
    print(
        f"memory of (a), {args.small:,} vs {args.examples:,} examples: largest process "
        f"{memory_small['largest_mb']:.0f} MB vs {memory['a']['largest_mb']:.0f} MB, whole tree "
        f"{memory_small['tree_mb']:.0f} MB vs {memory['a']['tree_mb']:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
