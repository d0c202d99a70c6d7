"""Fine-tuning jobs as plain data, one module per concept:

- model.py: the Job, its events and checkpoints, statuses, the timeline, the API's dicts -> ours;
- base_models.py: the models a job can start from, shutdown dates, the job-creation deadline;
- metrics.py: chart points from metrics events, the results CSV, thinning a curve for a terminal;
- progress_eta.py: progress, ETA, elapsed and estimated duration, cost so far;
- polling.py: what one poll brought back, when to fetch checkpoints, the backoff between polls;
- requests.py: the create request, hyperparameters and the checks before a job is created.

No network, no SQL, no Textual: the store builds these dataclasses, the Jobs pane and `workbench
jobs` render them. Every name is re-exported here, so `from workbench.core import jobs as cj` and
`from workbench.core.jobs import X` keep working; patch a name in the submodule that reads it.
"""

from __future__ import annotations

from workbench.core.jobs.base_models import (
    DPO_MODELS,
    JOB_CREATION_END,
    KNOWN_FINE_TUNABLE,
    BaseModel,
    creation_deadline_note,
    fine_tunable_models,
    parse_date,
)
from workbench.core.jobs.metrics import (
    METRIC_NAMES,
    MetricPoint,
    decode_results_csv,
    downsample,
    metric_point,
    metric_series,
)
from workbench.core.jobs.model import (
    STATUS_ALIASES,
    STATUS_LABELS,
    TERMINAL_STATUSES,
    TIMELINE_STAGES,
    Job,
    JobCheckpoint,
    JobEvent,
    Stage,
    checkpoint_from_api,
    event_from_api,
    is_terminal,
    job_from_api,
    json_dumps,
    normalise_status,
    status_label,
    timeline,
)
from workbench.core.jobs.polling import (
    JobSnapshot,
    PollSchedule,
    wants_checkpoints,
)
from workbench.core.jobs.progress_eta import (
    CostSoFar,
    Progress,
    cost_so_far,
    elapsed_seconds,
    estimate_duration_seconds,
    format_duration,
    format_timestamp,
    progress,
)
from workbench.core.jobs.requests import (
    HYPERPARAMETERS,
    METHODS,
    JobRequest,
    check_metadata,
    check_suffix,
    method_payload,
    parse_hyperparameter,
    parse_metadata,
)

__all__ = [
    "BaseModel",
    "CostSoFar",
    "DPO_MODELS",
    "HYPERPARAMETERS",
    "JOB_CREATION_END",
    "Job",
    "JobCheckpoint",
    "JobEvent",
    "JobRequest",
    "JobSnapshot",
    "KNOWN_FINE_TUNABLE",
    "METHODS",
    "METRIC_NAMES",
    "MetricPoint",
    "PollSchedule",
    "Progress",
    "STATUS_ALIASES",
    "STATUS_LABELS",
    "Stage",
    "TERMINAL_STATUSES",
    "TIMELINE_STAGES",
    "check_metadata",
    "check_suffix",
    "checkpoint_from_api",
    "cost_so_far",
    "creation_deadline_note",
    "decode_results_csv",
    "downsample",
    "elapsed_seconds",
    "estimate_duration_seconds",
    "event_from_api",
    "fine_tunable_models",
    "format_duration",
    "format_timestamp",
    "is_terminal",
    "job_from_api",
    "json_dumps",
    "method_payload",
    "metric_point",
    "metric_series",
    "normalise_status",
    "parse_date",
    "parse_hyperparameter",
    "parse_metadata",
    "progress",
    "status_label",
    "timeline",
    "wants_checkpoints",
]
