"""A populated workbench database for the snapshot tests, written through the store APIs only.

One support-ticket project: a training dataset (with a broken line and bracketed text), few-shot
examples picked for the default prompt, a prompt with a saved version and a draft, recorded runs of
all three approaches, a finished fine-tuning job with its loss curve and checkpoints, and one
evaluation. Everything the panes might print as a time is fixed afterwards, so snapshots do not
change from run to run.
"""

from __future__ import annotations

import math
from pathlib import Path

from workbench.config import DEFAULT_BASE_URL
from workbench.store.db import open_db

BASE_MODEL = "gpt-4.1-mini-2025-04-14"
FT_MODEL = "ft:gpt-4.1-mini-2025-04-14:acme:tickets:Bq7xR2mD"
JOB_ID = "ftjob-snapshot0001"
# 2026-11-24 09:00:00 UTC: the job ran the day before "today" (2026-11-25)
JOB_CREATED = 1795510800
SYSTEM = "You sort support tickets into billing, bug, account or other. Answer with the label only."
TEMPLATE = "Ticket: {{ticket}}"

TICKETS = [
    ("I was charged twice for my November invoice.", "billing"),
    ("The export button does nothing in Firefox.", "bug"),
    ("How do I change the email on my account?", "account"),
    ("Can you add a dark mode?", "other"),
    ("My card was declined but the money left my bank.", "billing"),
    ("App crashes when I upload a 2 GB file.", "bug"),
    ("I cannot log in after resetting my password.", "account"),
    ("Refund for the annual plan, please.", "billing"),
    ("Search returns results from deleted projects.", "bug"),
    ("Please delete my account and all my data.", "account"),
    ("Where is your office located?", "other"),
    ("The template shows [/INST] and [bold] literally.", "bug"),
]
FEW_SHOT = [
    ("Charged for a seat I removed last month.", "billing"),
    ("The page goes blank when I click Save.", "bug"),
    ("Two-factor codes never arrive by SMS.", "account"),
]
TEST = [
    ("Invoice shows the wrong VAT number.", "billing"),
    ("Dashboard graphs are empty since the update.", "bug"),
]


def chat(ticket: str, label: str, system: str | None = SYSTEM) -> dict:
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": "user", "content": f"Ticket: {ticket}"}]
    return {"messages": [*messages, {"role": "assistant", "content": label}]}


def populate(db_path: Path, base_url: str = DEFAULT_BASE_URL) -> Path:
    """Fill a fresh database at `db_path` and return it (jobs stored under `base_url`)."""
    db = open_db(db_path)
    try:
        _examples(db)
        _prompt_and_runs(db)
        _job(db, base_url)
        _evaluation(db)
        fix_times(db)
    finally:
        db.close()
    return db_path


def tokens(data: dict) -> int:
    """The cached token count the validator would store (real tokenizer, offline files)."""
    from workbench.core.dataset import example_token_counts
    from workbench.core.tokens import get_tokenizer

    return example_token_counts(data, get_tokenizer(BASE_MODEL))[0]


def _examples(db) -> None:
    from workbench.store import examples

    dataset = examples.create_dataset(db, "support-tickets", note="tickets from the help desk")
    for i, (ticket, label) in enumerate(TICKETS, start=1):
        examples.add_example(
            db,
            chat(ticket, label),
            dataset_id=dataset.id,
            split="validation" if i in (4, 8) else "train",
            source_line=i,
            tags=[label],
            tokens=tokens(chat(ticket, label)),
        )
    examples.add_example(
        db,
        None,
        dataset_id=dataset.id,
        raw='{"messages": [{"role": "user", "content": "unfinished',
        source_line=len(TICKETS) + 1,
        problems=[{"code": "invalid_json", "message": "line is not valid JSON"}],
    )
    for ticket, label in TEST:
        data = chat(ticket, label)
        examples.add_example(db, data, dataset_id=dataset.id, split="test", tokens=tokens(data))
    shots = [
        examples.add_example(
            db,
            chat(ticket, label, system=None),
            split="few-shot",
            tags=[label],
            tokens=tokens(chat(ticket, label, system=None)),
        )
        for ticket, label in FEW_SHOT
    ]
    try:
        from workbench.core.fewshot import FewShotSelection
        from workbench.store.selection import set_selection
    except ImportError:  # the Examples pane's store is not there yet
        return
    set_selection(db, "default", FewShotSelection(mode="manual", ids=tuple(s.id for s in shots)))


def _prompt_and_runs(db) -> None:
    from workbench.store import prompts, runs

    prompts.ensure_prompt(
        db,
        "default",
        system=SYSTEM,
        template=TEMPLATE,
        model=BASE_MODEL,
        ft_model=FT_MODEL,
        variables={"ticket": "I was charged twice for my November invoice."},
        params={"temperature": 0},
    )
    version = prompts.save_version(db, "default", note="first labels")
    prompts.save_draft(db, "default", variables={"ticket": "The export button does nothing."})
    answers = [
        ("zero-shot", BASE_MODEL, "billing", 61, 1, 412, 0.0000252),
        ("few-shot", BASE_MODEL, "billing", 148, 1, 455, 0.0000608),
        ("fine-tuned", FT_MODEL, "billing", 61, 1, 380, 0.0000504),
        ("zero-shot", BASE_MODEL, "Bug: the export button", 57, 6, 530, 0.0000324),
        ("few-shot", BASE_MODEL, "bug", 144, 1, 470, 0.0000592),
    ]
    for approach, model, answer, tokens_in, tokens_out, latency, cost in answers:
        runs.record_run(
            db,
            prompt_name="default",
            approach=approach,
            model=model,
            messages=[
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Ticket: I was charged twice for my November invoice."},
            ],
            params={"temperature": 0},
            answer=answer,
            version_id=version.id,
            version_number=version.number,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            latency_ms=latency,
            cost_usd=cost,
            profile="default",
        )
    runs.record_run(
        db,
        prompt_name="default",
        approach="zero-shot",
        model=BASE_MODEL,
        messages=[{"role": "user", "content": "Ticket: [/INST] rate limit?"}],
        status="error",
        error_kind="rate_limit",
        error_message="Rate limited (429): try again in 20 s.",
        profile="default",
    )


def loss(step: int) -> float:
    """A plausible, deterministic training curve."""
    return round(0.35 + 2.1 * math.exp(-step / 9) + 0.06 * math.sin(step * 1.7), 4)


def _job(db, base_url: str) -> None:
    from workbench.store import jobs

    steps = 36
    start = JOB_CREATED + 120
    events = [
        {
            "id": "ftevent-s-created",
            "created_at": JOB_CREATED,
            "level": "info",
            "message": f"Created fine-tuning job: {JOB_ID}",
            "type": "message",
        },
        {
            "id": "ftevent-s-validating",
            "created_at": JOB_CREATED + 5,
            "level": "info",
            "message": "Validating training file: file-train0001",
            "type": "message",
        },
        {
            "id": "ftevent-s-started",
            "created_at": start,
            "level": "info",
            "message": "Fine-tuning job started",
            "type": "message",
        },
    ]
    for step in range(1, steps + 1):
        data = {
            "step": step,
            "train_loss": loss(step),
            "total_steps": steps,
            "train_mean_token_accuracy": round(min(0.99, 0.4 + step / 60), 3),
        }
        if step % 6 == 0:
            data["valid_loss"] = round(loss(step) + 0.08, 4)
        events.append(
            {
                "id": f"ftevent-s-step{step:03d}",
                "created_at": start + step * 20,
                "level": "info",
                "message": f"Step {step}/{steps}: training loss={data['train_loss']:.2f}",
                "type": "metrics",
                "data": data,
            }
        )
    finished = start + steps * 20 + 60
    events += [
        {
            "id": "ftevent-s-done",
            "created_at": finished - 30,
            "level": "info",
            "message": f"New fine-tuned model created: {FT_MODEL}",
            "type": "message",
        },
        {
            "id": "ftevent-s-ok",
            "created_at": finished,
            "level": "info",
            "message": "The job has successfully completed",
            "type": "message",
        },
    ]
    job = {
        "object": "fine_tuning.job",
        "id": JOB_ID,
        "model": BASE_MODEL,
        "status": "succeeded",
        "created_at": JOB_CREATED,
        "finished_at": finished,
        "fine_tuned_model": FT_MODEL,
        "trained_tokens": 5184,
        "training_file": "file-train0001",
        "validation_file": "file-valid0001",
        "method": {
            "type": "supervised",
            "supervised": {
                "hyperparameters": {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8}
            },
        },
        "user_provided_suffix": "tickets",
        "seed": 42,
        "metadata": {"project": "tickets"},
        "error": None,
        "result_files": ["file-results0001"],
    }
    jobs.upsert_job(
        db,
        "default",
        base_url,
        job,
        dataset_name="support-tickets",
        estimated_tokens=5184,
        estimated_cost_usd=0.026,
    )
    jobs.add_events(db, base_url, JOB_ID, list(reversed(events)))
    checkpoints = [
        {
            "id": f"ftckpt-s-{step}",
            "created_at": start + step * 20,
            "step_number": step,
            "fine_tuned_model_checkpoint": f"{FT_MODEL}:ckpt-step-{step}",
            "metrics": {"step": step, "train_loss": loss(step)},
        }
        for step in (12, 24)
    ]
    jobs.add_checkpoints(db, base_url, JOB_ID, checkpoints)
    failed = dict(
        job,
        id="ftjob-snapshot0000",
        status="failed",
        created_at=JOB_CREATED - 7200,
        finished_at=JOB_CREATED - 7000,
        fine_tuned_model=None,
        trained_tokens=None,
        error={
            "code": "invalid_training_file",
            "message": "Line 13: not valid JSON",
            "param": "training_file",
        },
    )
    jobs.upsert_job(db, "default", base_url, failed, dataset_name="support-tickets")


def _evaluation(db) -> None:
    from workbench.store import evals, examples

    test_rows = examples.list_examples(db, split="test")
    for approach, model, passed in (
        ("zero-shot", BASE_MODEL, (True, False)),
        ("few-shot", BASE_MODEL, (True, True)),
        ("fine-tuned", FT_MODEL, (True, True)),
    ):
        run = evals.create_run(
            db,
            eval_name="default / support-tickets",
            group_id="snapshot0001",
            approach=approach,
            model=model,
            scorer={"kind": "exact"},
            seed=7,
            items_total=len(test_rows),
            prompt_name="default",
        )
        for example, ok in zip(test_rows, passed, strict=False):
            expected = example.messages[-1]["content"]
            evals.record_item(
                db,
                evals.EvalItem(
                    run_id=run.id,
                    example_id=example.id,
                    question=example.messages[-2]["content"],
                    expected=expected,
                    answer=expected if ok else "other",
                    passed=ok,
                    latency_ms=420.0,
                    input_tokens=60 if approach != "few-shot" else 150,
                    output_tokens=1,
                    cost_usd=0.00003,
                ),
            )
        evals.finish_run(db, run.id)


FIXED = "2026-11-25 09:00:00"


def fix_times(db) -> None:
    """Every stored ISO time becomes 2026-11-25 09:00 UTC plus a minute per row (order kept)."""
    for table in db.table_names():
        if table.startswith("_") or table.startswith("sqlite"):
            continue
        for column in db[table].columns:
            if not column.name.endswith("_at") or column.type.upper() != "TEXT":
                continue
            db.execute(
                f"""update [{table}] set [{column.name}] =
                    strftime('%Y-%m-%dT%H:%M:%S.000+00:00', ?, '+' || rowid || ' minutes')
                    where [{column.name}] is not null""",
                [FIXED],
            )
    db.conn.commit()
