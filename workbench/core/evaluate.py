"""Compatibility: the evaluation code lives in core/evaluation/ (scoring, verdict, formatting,
engine). Import from there; this module only re-exports for older callers."""

from workbench.core.evaluation.formatting import *  # noqa: F403
from workbench.core.evaluation.scoring import *  # noqa: F403
from workbench.core.evaluation.scoring import _parse_json  # noqa: F401
from workbench.core.evaluation.verdict import *  # noqa: F403
from workbench.core.evaluation.verdict import _setup  # noqa: F401
