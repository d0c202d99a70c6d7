"""Evaluation: scoring (scoring.py), the verdict (verdict.py), how figures read (formatting.py),
and the engine that runs an evaluation (engine.py; its API is in that module's docstring)."""
