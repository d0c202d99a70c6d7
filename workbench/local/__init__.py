"""`workbench local`: OpenAI's wire API over REAL models on this machine.

The simulator's wire layer (routes, file and job document store, pagination, error bodies) with a
real backend: chat through transformers `generate` (backend.py, inference.py), fine-tuning jobs run
by a detached trainer process per job whose state lives in its job directory (jobdir.py, jobs.py,
trainer.py), base models resolved and converted once (models.py). Nothing here imports torch at
module level; the server imports it when a model is first needed.
"""
