"""Does LoRA training through `workbench local`'s trainer learn, and what does the wrapper cost?

    TIKTOKEN_CACHE_DIR=../shared/tiktoken .venv/bin/python bench/local_train.py [--epochs 10]

A 4-label classification set of customer messages routed to teams by arbitrary code words
(falcon, otter, maple, coral): a model cannot guess them from the instruction (zero-shot is near
0%), it has to learn them, from the prompt (8-shot) or in its weights (LoRA). 10 messages per team
to train on, 5 per team held out. It trains SmolLM2-135M-Instruct with the default learning rate
and batch size through `python -m workbench.local.trainer` (the process the server spawns) and,
in the same run, with a bare TRL script with the same settings; it prints held-out accuracy of
zero-shot, 8-shot and both LoRA adapters, wall/CPU/peak memory of both training processes, and
time to first text and tokens per second of generation through the server's inference code.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SEED = 0

SYSTEM = "Route the customer's message to a team. Reply with the team's code word only."

TEAMS: dict[str, list[str]] = {
    # billing: charges, invoices, payments
    "falcon": [
        "I was charged twice for my order this month.",
        "Can you send me a copy of my last invoice?",
        "My credit card payment was declined but the money left my account.",
        "Why is there an extra fee on my bill?",
        "I want to change the card you charge every month.",
        "The discount code was not applied to my payment.",
        "Please explain the charges on my statement.",
        "I paid the invoice but it still shows as unpaid.",
        "How do I update my billing address for invoices?",
        "You billed me after I cancelled my subscription.",
        "There is a charge on my card that I do not recognise.",
        "Can I pay my invoice by bank transfer instead?",
        "My monthly bill is higher than the price I signed up for.",
        "I need a receipt for the payment I made yesterday.",
        "The payment page took my money but showed an error.",
    ],
    # delivery: parcels, tracking, couriers
    "otter": [
        "My parcel has not arrived yet and it is a week late.",
        "The tracking number you sent does not work.",
        "The courier left my package at the wrong address.",
        "Can I change the delivery address of my order?",
        "The box arrived damaged and crushed.",
        "When will my package be delivered?",
        "The driver never came even though I stayed home all day.",
        "My order shows delivered but there is nothing at my door.",
        "Do you ship to Canada, and how long does it take?",
        "Only half of my items were in the parcel.",
        "The delivery van dropped my parcel in the rain.",
        "Tracking has said in transit for ten days now.",
        "Can the courier deliver on Saturday instead?",
        "My package was sent back to the warehouse by mistake.",
        "I need express shipping for my next order.",
    ],
    # technical: the app, the website, logins
    "maple": [
        "The app crashes every time I open it.",
        "I cannot log in, it says my password is wrong.",
        "The website shows a blank page on my phone.",
        "I never receive the password reset email.",
        "The app keeps freezing on the loading screen.",
        "Two-factor codes are not reaching my phone.",
        "The search bar on your site does nothing when I type.",
        "After the update the app will not start at all.",
        "I get an error 500 when I click on my profile.",
        "The page keeps logging me out every few minutes.",
        "The app drains my battery and then crashes.",
        "My account says locked after I entered my password.",
        "Buttons on the website do not respond in my browser.",
        "The app shows an error saying no connection even on wifi.",
        "I cannot upload my profile photo, it spins forever.",
    ],
    # the shops: opening hours, addresses, visits
    "coral": [
        "What time does your shop in the city centre open?",
        "Are you open on Sunday afternoons?",
        "Where is your nearest store to the train station?",
        "Is there parking next to your shop?",
        "Can I visit the showroom without an appointment?",
        "What are your opening hours on public holidays?",
        "Is the store on Main Street still open or did it close?",
        "Do you have a shop in the north of town?",
        "How late is the store open on Fridays?",
        "Is your shop accessible with a wheelchair?",
        "Which of your stores is open the latest tonight?",
        "Can I bring my dog into your shop?",
        "What is the address of your flagship store?",
        "Is the shop at the mall open during the renovation?",
        "Do I need to book before visiting your store?",
    ],
}
TRAIN_PER_TEAM = 10


def chat(message: str, answer: str | None = None) -> list[dict]:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": message}]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


def split() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(train, held out) as (message, team) pairs, teams interleaved."""
    train = [(m, t) for i in range(TRAIN_PER_TEAM) for t, ms in TEAMS.items() for m in [ms[i]]]
    held = [(m, t) for t, ms in TEAMS.items() for m in ms[TRAIN_PER_TEAM:]]
    return train, held


def few_shot_messages(train: list[tuple[str, str]], message: str, shots: int = 8) -> list[dict]:
    """The system prompt, `shots` examples as earlier turns (2 per team), then the question."""
    messages = [{"role": "system", "content": SYSTEM}]
    for example, team in train[:shots]:
        messages += [
            {"role": "user", "content": example},
            {"role": "assistant", "content": team},
        ]
    return messages + [{"role": "user", "content": message}]


# ---- the runs ------------------------------------------------------------------------------------
BARE_TRL = r'''
"""A bare TRL LoRA run with the same settings, as a user would write it (no workbench import)."""
import json, sys, time
import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
rows = [json.loads(line) for line in open(cfg["train"])]
data = Dataset.from_list([{"prompt": r["messages"][:-1], "completion": r["messages"][-1:]} for r in rows])
tokenizer = AutoTokenizer.from_pretrained(cfg["model"])
model = AutoModelForCausalLM.from_pretrained(cfg["model"], dtype=torch.float32)
lora = LoraConfig(r=cfg["rank"], lora_alpha=cfg["alpha"], lora_dropout=cfg["dropout"],
                  target_modules=cfg["targets"], task_type="CAUSAL_LM")
args = SFTConfig(output_dir=cfg["out"], num_train_epochs=cfg["epochs"],
                 per_device_train_batch_size=cfg["batch"], learning_rate=cfg["lr"],
                 lr_scheduler_type="linear", warmup_steps=0, weight_decay=0.0, seed=cfg["seed"],
                 data_seed=cfg["seed"], save_strategy="no", report_to="none", disable_tqdm=True,
                 gradient_checkpointing=False, bf16=False, use_cpu=True)
trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer,
                     peft_config=lora)
started = time.perf_counter()
trainer.train()
loop = time.perf_counter() - started
trainer.model.save_pretrained(cfg["out"] + "/adapter")
print("BARE_RESULT " + json.dumps({"train_loop_seconds": loop}), flush=True)
'''


@dataclass
class Run:
    wall: float
    cpu: float
    peak_rss_mb: float
    loop: float | None = None


def run_process(argv: list[str], env: dict, log: Path) -> tuple[Run, int]:
    """Wall time, CPU time and peak RSS of one child process (os.wait4: its own rusage)."""
    started = time.perf_counter()
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    run = Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)
    return run, process.returncode


def child_env(threads: int) -> dict:
    env = dict(os.environ, WORKBENCH_TRAIN_THREADS=str(threads), HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def run_ours(work: Path, model: Path, train: Path, epochs: int, threads: int) -> tuple[Run, Path]:
    from workbench.local import jobdir as jd

    job = work / "job"
    job.mkdir()
    jd.write_spec(job, {
        "job_id": "ftjob-bench", "base_model": "SmolLM2-135M-Instruct", "model_path": str(model),
        "training_file": str(train), "hyperparameters": {"n_epochs": epochs}, "seed": SEED,
        "device": "cpu",
    })  # fmt: skip
    run, code = run_process(jd.trainer_command(job), child_env(threads), job / jd.LOG)
    state = jd.read_state(job)
    if code or state["status"] != "succeeded":
        sys.exit(
            f"our trainer failed ({code}): {state['error']}\n{(job / jd.LOG).read_text()[-2000:]}"
        )
    events = jd.read_events(job)
    started = next(e["created_at"] for e in events if e["message"] == "Fine-tuning job started")
    last = [e for e in events if e["type"] == "metrics"][-1]
    run.loop = float(last["created_at"] - started)  # whole seconds: event timestamps
    losses = [e["data"]["train_loss"] for e in events if e["type"] == "metrics"]
    print(f"  our trainer: {len(losses)} steps, loss {losses[0]:.3f} -> {losses[-1]:.3f}, "
          f"trained_tokens {state['trained_tokens']}, hyperparameters {state['hyperparameters']}"
          f" (learning rate {state['learning_rate']:g})")  # fmt: skip
    return run, Path(state["adapter_dir"])


def run_bare(work: Path, model: Path, train: Path, epochs: int, threads: int) -> tuple[Run, Path]:
    from workbench.local import training_plan as plan

    out = work / "bare"
    out.mkdir()
    hp = plan.resolve_hyperparameters({"hyperparameters": {"n_epochs": epochs}, "seed": SEED}, 40)
    cfg = {
        "threads": threads, "train": str(train), "model": str(model), "out": str(out),
        "rank": plan.LORA_RANK, "alpha": plan.LORA_ALPHA, "dropout": plan.LORA_DROPOUT,
        "targets": plan.LORA_TARGET_MODULES, "epochs": hp["n_epochs"], "batch": hp["batch_size"],
        "lr": hp["learning_rate"], "seed": SEED,
    }  # fmt: skip
    script = work / "bare_trl.py"
    script.write_text(BARE_TRL)
    argv = [sys.executable, str(script), json.dumps(cfg)]
    run, code = run_process(argv, child_env(threads), out / "log.txt")
    text = (out / "log.txt").read_text()
    if code:
        sys.exit(f"the bare TRL script failed ({code}):\n{text[-2000:]}")
    line = next(x for x in text.splitlines() if x.startswith("BARE_RESULT "))
    run.loop = json.loads(line.removeprefix("BARE_RESULT "))["train_loop_seconds"]
    return run, out / "adapter"


# ---- evaluation through the server's inference -----------------------------------------------------
def first_word(text: str) -> str:
    words = text.strip().split()
    return words[0].strip(".,;:!?\"'`*").lower() if words else ""


def accuracy(host, source, adapter, prompts: list[list[dict]], gold: list[str]) -> float:
    from workbench.local.inference import GenerationRequest

    right = 0
    for messages, team in zip(prompts, gold, strict=True):
        request = GenerationRequest(messages=messages, max_tokens=6, temperature=0.0)
        right += first_word(host.generate(source, adapter, request).text) == team
    return right / len(gold)


def generation_speed(host, source, adapter, tokens: int = 64) -> tuple[float, float]:
    """(seconds to the first streamed text, tokens per second) for one answer, best of 3."""
    from workbench.local.inference import GenerationRequest

    best_ttft, best_rate = float("inf"), 0.0
    question = [{"role": "user", "content": "Describe the sea on a stormy day in a paragraph."}]
    for _ in range(3):
        first: list[float] = []
        started = time.perf_counter()
        request = GenerationRequest(messages=question, max_tokens=tokens, temperature=0.0)

        def note(_text: str, first: list[float] = first) -> None:
            if not first:
                first.append(time.perf_counter())

        result = host.generate(source, adapter, request, on_text=note)
        total = time.perf_counter() - started
        best_ttft = min(best_ttft, (first[0] if first else time.perf_counter()) - started)
        best_rate = max(best_rate, result.completion_tokens / total)
    return best_ttft, best_rate


def print_accuracy(name: str, value: float, mark: bool = False) -> None:
    verdict = f"   {'PASS' if value >= 0.8 else 'FAIL'} (>= 80%)" if mark else ""
    print(f"  {name:22}{value:6.0%}{verdict}", flush=True)


def print_runs(ours: Run, bare: Run | None) -> None:
    print("training (wall = whole process: imports, model load, training, saving)")
    print(f"  {'':22}{'wall s':>9}{'cpu s':>9}{'loop s':>9}{'peak RSS MB':>13}")
    for name, run in [("our trainer", ours)] + ([("bare TRL", bare)] if bare else []):
        print(f"  {name:22}{run.wall:9.1f}{run.cpu:9.1f}{run.loop:9.1f}{run.peak_rss_mb:13.0f}")
    if bare:
        print(f"  ratio ours / bare     wall {ours.wall / bare.wall:.2f}   cpu {ours.cpu / bare.cpu:.2f}"
              f"   loop {ours.loop / bare.loop:.2f}   (goal: <= 1.10)")  # fmt: skip
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    parser.add_argument("--model-dir", type=Path, help="a converted SmolLM2 dir (default: cache)")
    parser.add_argument("--skip-bare", action="store_true", help="skip the bare TRL baseline")
    parser.add_argument("--adapter", type=Path, help="evaluate this adapter; train nothing")
    args = parser.parse_args()

    import torch

    from workbench.local.inference import ModelHost
    from workbench.local.models import BaseModelSource, ensure_default_model_dir
    from workbench.local.trainer import training_threads

    threads = args.threads or training_threads()
    torch.set_num_threads(threads)
    model = args.model_dir or ensure_default_model_dir()
    train, held = split()
    print(f"model {model}, {len(train)} training examples, {len(held)} held out, "
          f"{args.epochs} epochs, {threads} threads, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    host = ModelHost("cpu")
    source = BaseModelSource("SmolLM2-135M-Instruct", model, "benchmark")
    gold = [t for _, t in held]
    plain = [chat(m) for m, _ in held]

    with tempfile.TemporaryDirectory(prefix="wb-bench-local-") as tmp:
        work = Path(tmp)
        train_file = work / "train.jsonl"
        train_file.write_text(
            "".join(json.dumps({"messages": chat(m, t)}) + "\n" for m, t in train)
        )
        ours = None
        our_adapter = args.adapter
        if our_adapter is None:
            print("training through python -m workbench.local.trainer ...", flush=True)
            ours, our_adapter = run_ours(work, model, train_file, args.epochs, threads)
            print_runs(ours, None)

        print(f"held-out accuracy ({len(held)} items, greedy, first word)")
        print_accuracy("zero-shot", accuracy(host, source, None, plain, gold))
        few = [few_shot_messages(train, m) for m, _ in held]
        print_accuracy("8-shot", accuracy(host, source, None, few, gold))
        lora = accuracy(host, source, ("ours", our_adapter), plain, gold)
        print_accuracy("LoRA (our trainer)", lora, mark=True)
        print()
        print(
            "served model (workbench.local.inference.ModelHost in this process, 64 tokens, greedy)"
        )
        for name, adapter in (("base", None), ("base + our LoRA", ("ours", our_adapter))):
            ttft, rate = generation_speed(host, source, adapter)
            print(f"  {name:22} first text after {ttft * 1000:6.0f} ms, {rate:5.1f} tokens/s")
        print(f"  this process peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB\n", flush=True)  # fmt: skip

        if ours is not None and not args.skip_bare:
            print("training with the bare TRL script ...", flush=True)
            bare, bare_adapter = run_bare(work, model, train_file, args.epochs, threads)
            print_accuracy(
                "LoRA (bare TRL)", accuracy(host, source, ("bare", bare_adapter), plain, gold)
            )
            print()
            print_runs(ours, bare)


if __name__ == "__main__":
    main()
