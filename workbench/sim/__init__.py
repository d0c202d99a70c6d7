"""`workbench sim`: a local OpenAI-compatible SIMULATOR for demos and every API test.

It trains nothing and runs no model. The official `openai` SDK drives it unchanged over real HTTP
(`base_url=http://127.0.0.1:PORT/v1`): models, files, fine-tuning jobs (events, checkpoints, results
file, pause/resume/cancel), chat completions (plain and streamed, real tiktoken usage) and batches.

Modules: server.py (Starlette routes, app factory, uvicorn runner), training.py (the job lifecycle
on a persisted clock), batches.py (the Batch API on the same clock), replies.py (what a model
"says" - the reply rule is documented there), faults.py (API key check and faults on demand),
catalog.py (base models and shutdown dates), state.py (the SQLite state file), validation.py (job
files through workbench.core.dataset.validate_file), openai_errors.py (OpenAI's error bodies).

Flavours (`--flavor`): `openai` (default); `azure` serves `/openai/v1/` too and imitates Azure
OpenAI's documented differences (file import delay, required `trainingType`, `pending`, `.ft-` model
ids, 404 DeploymentNotFound until `PUT /_sim/deployments/{name}` {"model": ...} deploys a model; see
azure.py); `openai-compatible` is a generic OpenAI-wire host without pause/resume, checkpoints, DPO
or batch (404 / 400 in OpenAI's error shape).

Time: `--speed N` runs N simulated seconds per real second; a 10-example job (10 auto epochs,
100 steps) takes ~1,260 simulated seconds. Every job's clock is persisted, so a restarted simulator
continues each job from where it was when it stopped.

A session with the SDK (see tests/sim/test_example.py, which runs exactly this):

    from openai import OpenAI
    client = OpenAI(base_url="http://127.0.0.1:8089/v1", api_key="sk-sim")
    f = client.files.create(file=open("train.jsonl", "rb"), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model="gpt-4.1-mini-2025-04-14", training_file=f.id,
                                         suffix="demo")
    while job.status not in ("succeeded", "failed", "cancelled"):
        time.sleep(1)
        job = client.fine_tuning.jobs.retrieve(job.id)
        for event in reversed(client.fine_tuning.jobs.list_events(job.id, limit=5).data):
            print(event.message)
    reply = client.chat.completions.create(model=job.fine_tuned_model,
                                           messages=[{"role": "user", "content": "..."}])
"""
