"""The "new fine-tuning job" form: dataset, method, base model, hyperparameters, suffix, seed,
metadata; a pre-flight (validation, billed tokens, epochs, cost, time, shutdown dates); then the
launch (export, upload if this version is not uploaded yet, create).

Launch errors keep the form: a 403 `training_not_available` shows the wind-down explanation, any
other provider error its plain words. Dismisses with the new job id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from rich.text import Text
from textual import getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static

from workbench.app import WorkbenchApp
from workbench.core import jobs as cj
from workbench.core.display import plural


def today() -> date:
    return datetime.now(UTC).date()


@dataclass
class Preflight:
    """The pre-flight for one (dataset, method, model, epochs, validation) choice."""

    key: tuple
    text: Text
    ok: bool
    estimated_tokens: int | None = None
    estimated_cost_usd: float | None = None
    left_out: int = 0  # rows with problems the export leaves out (train + validation)


HYPER_INPUTS = (
    ("n_epochs", "epochs"),
    ("batch_size", "batch size"),
    ("learning_rate_multiplier", "LR multiplier"),
    ("beta", "DPO beta"),
)


class CreateJobModal(ModalScreen[str | None]):
    """Collects a JobRequest, runs the pre-flight, launches; dismisses with the job id."""

    app = getters.app(WorkbenchApp)

    BINDINGS = [
        Binding("escape", "close", "Close"),
        # priority: from inside an Input, ctrl+k would delete to the end of the line instead
        Binding("ctrl+l", "launch", "Launch", priority=True),
        Binding("ctrl+k", "preflight", "Pre-flight", priority=True),
    ]

    def __init__(self, datasets: list[tuple[str, int, str, int]]) -> None:
        """`datasets`: (name, id, method, validation rows) of each dataset."""
        super().__init__(classes="jobs-modal")
        self.datasets = datasets
        self.models: list[cj.BaseModel] = cj.fine_tunable_models(None)
        self.preflight_result: Preflight | None = None
        self.launching = False

    # --- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="create-box"):
            yield Static(Text("New fine-tuning job", style="bold"), id="create-title")
            with VerticalScroll(id="create-form"):
                if not self.datasets:
                    yield Static(
                        Text(
                            "No datasets yet: import or build one in the Training data pane (F3)."
                        ),
                        id="create-empty",
                    )
                with Horizontal(classes="create-row"):
                    yield Label("dataset", classes="create-label")
                    yield Select(
                        [(Text(name), ident) for name, ident, _m, _v in self.datasets],
                        value=self.datasets[0][1] if self.datasets else Select.NULL,
                        allow_blank=not self.datasets,
                        id="create-dataset",
                        compact=True,
                    )
                yield Checkbox(
                    "also send the dataset's validation split",
                    value=False,
                    id="create-validation",
                    compact=True,
                )
                with Horizontal(classes="create-row"):
                    yield Label("method", classes="create-label")
                    yield Select(
                        [("supervised", "supervised"), (self._dpo_label(), "dpo")],
                        value="supervised",
                        allow_blank=False,
                        id="create-method",
                        compact=True,
                    )
                with Horizontal(classes="create-row"):
                    yield Label("base model", classes="create-label")
                    yield Select(
                        self._model_options(),
                        value=self._default_model(),
                        allow_blank=False,
                        id="create-model",
                        compact=True,
                    )
                yield Static("", id="create-model-note")
                with Horizontal(classes="create-row"):
                    for name, label in HYPER_INPUTS:
                        yield Input(
                            placeholder=f"{label}: auto",
                            id=f"create-{name}",
                            classes="create-hyper",
                            compact=True,
                            tooltip=f"{label}: 'auto' or a number",
                        )
                with Horizontal(classes="create-row"):
                    yield Input(placeholder="suffix (≤ 64 chars)", id="create-suffix", compact=True)
                    yield Input(placeholder="seed", id="create-seed", type="integer", compact=True)
                yield Input(
                    placeholder="metadata: key=value, key=value", id="create-metadata", compact=True
                )
                yield Static("", id="create-preflight")
                yield Static("", id="create-error")
            with Horizontal(id="create-buttons"):
                yield Button("Pre-flight (ctrl+k)", id="create-check", compact=True)
                yield Button(
                    "Launch (ctrl+l)",
                    id="create-launch",
                    variant="primary",
                    disabled=not self.datasets,
                    compact=True,
                )
                yield Button("Close (esc)", id="create-close", compact=True)
        yield Footer()  # the dialog's own keys, not the pane's beneath

    def _dpo_off(self) -> str | None:
        """Why this provider cannot run DPO (capabilities), or None."""
        from workbench.providers.capabilities import capabilities_for

        profile = self.app.config.profile
        caps = capabilities_for(profile)
        return None if caps.has("dpo") else caps.why_not("dpo", profile.name)

    def _dpo_label(self) -> str:
        return "DPO (off for this provider)" if self._dpo_off() else "DPO (preferences)"

    def _model_options(self) -> list[tuple[str, str]]:
        return [(Text(m.describe(today())), m.id) for m in self.models]

    def _default_model(self) -> str:
        for m in self.models:
            if m.unavailable_reason(today()) is None and "mini" in m.id:
                return m.id
        return self.models[0].id

    def on_mount(self) -> None:
        if self.app.config.profile.kind == "azure":  # Azure's list and dates until it answers
            self._set_models(cj.fine_tunable_models(None, "azure"))
        self._dataset_changed()
        self.load_models()

    # --- reading the form ----------------------------------------------------------------------

    def _dataset(self) -> tuple[str, int, str, int] | None:
        value = self.query_one("#create-dataset", Select).value
        return next((d for d in self.datasets if d[1] == value), None)

    def read_request(self) -> cj.JobRequest:
        """The form as a JobRequest; ValueError names the field that is wrong."""
        dataset = self._dataset()
        if dataset is None:
            raise ValueError("dataset: pick one")
        hyper: dict[str, Any] = {}
        for name, _label in HYPER_INPUTS:
            hyper[name] = cj.parse_hyperparameter(
                name, self.query_one(f"#create-{name}", Input).value
            )
        seed_text = self.query_one("#create-seed", Input).value.strip()
        try:
            seed = int(seed_text) if seed_text else None
        except ValueError:
            raise ValueError(f"seed: {seed_text!r} is not a whole number") from None
        model = self.query_one("#create-model", Select).value
        if self.query_one("#create-method", Select).value == "dpo" and self._dpo_off():
            raise ValueError(f"method: {self._dpo_off()}")
        request = cj.JobRequest(
            dataset_name=dataset[0],
            model=str(model) if model is not Select.NULL else "",
            method=str(self.query_one("#create-method", Select).value),
            hyperparameters=hyper,
            suffix=self.query_one("#create-suffix", Input).value.strip(),
            seed=seed,
            metadata=cj.parse_metadata(self.query_one("#create-metadata", Input).value),
            use_validation=self.query_one("#create-validation", Checkbox).value,
        )
        problems = request.problems(self.models, today())
        if problems:
            raise ValueError("; ".join(problems))
        return request

    def _preflight_key(self, request: cj.JobRequest, dataset_id: int) -> tuple:
        return (
            dataset_id,
            request.method,
            request.model,
            request.hyperparameters.get("n_epochs"),
            request.use_validation,
        )

    # --- reacting ------------------------------------------------------------------------------

    @on(Select.Changed, "#create-dataset")
    def _dataset_changed(self) -> None:
        dataset = self._dataset()
        box = self.query_one("#create-validation", Checkbox)
        has_validation = bool(dataset and dataset[3])
        box.disabled = not has_validation
        box.value = has_validation
        box.label = (
            f"also send the dataset's validation split ({plural(dataset[3], 'example')})"
            if has_validation
            else "no validation split in this dataset"
        )
        if dataset:
            self.query_one("#create-method", Select).value = dataset[2]
        self._invalidate()

    @on(Select.Changed, "#create-model")
    def _model_changed(self) -> None:
        value = self.query_one("#create-model", Select).value
        model = next((m for m in self.models if m.id == value), None)
        note = self.query_one("#create-model-note", Static)
        reason = model.unavailable_reason(today()) if model else None
        note.update(Text(f"cannot be picked: {reason}", style="bold red") if reason else "")
        note.display = bool(reason)
        self._invalidate()

    @on(Select.Changed, "#create-method")
    @on(Checkbox.Changed, "#create-validation")
    @on(Input.Changed, "#create-n_epochs")
    def _invalidate(self) -> None:
        """Forget the pre-flight when a choice it depends on changed (not on any event)."""
        if self.preflight_result is not None:
            try:
                request = self.read_request()
                dataset = self._dataset()
            except ValueError:
                request = dataset = None
            if (
                request
                and dataset
                and self._preflight_key(request, dataset[1]) == self.preflight_result.key
            ):
                return
        self.preflight_result = None
        self.query_one("#create-preflight", Static).update(
            Text("pre-flight: press ctrl+k to check before launching", style="dim")
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "create-check":
            self.action_preflight()
        elif event.button.id == "create-launch":
            self.action_launch()
        else:
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(None)

    def show_error(self, message: str) -> None:
        error = self.query_one("#create-error", Static)
        error.update(Text(message, style="bold red"))
        if message:  # at 80x24 the form scrolls: bring it into view once laid out at its height
            self.call_after_refresh(error.scroll_visible, animate=False)

    def action_preflight(self) -> None:
        try:
            request = self.read_request()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        self.query_one("#create-preflight", Static).update(Text("pre-flight: checking…"))
        self.run_preflight(request, self._dataset()[1], launch=False)

    def action_launch(self) -> None:
        if self.launching:
            return
        try:
            request = self.read_request()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        self.launching = True
        self.query_one("#create-launch", Button).disabled = True
        self.query_one("#create-preflight", Static).update(Text("pre-flight, then launch…"))
        self.run_preflight(request, self._dataset()[1], launch=True)

    # --- workers -------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="create-models", exit_on_error=False)
    def load_models(self) -> None:
        """Replace the known list with the provider's fine-tunable models, where it says."""
        from workbench.providers.fine_tuning import list_models
        from workbench.providers.openai_api import make_client

        try:
            client = make_client(self.app.config.profile, timeout=15, max_retries=0)
            listed = list_models(client)
            client.close()
        except Exception:  # noqa: BLE001 - the known list stays; nothing to report
            return
        models = cj.fine_tunable_models(listed, self.app.config.profile.kind)
        self.app.call_from_thread(self._set_models, models)

    def _set_models(self, models: list[cj.BaseModel]) -> None:
        select = self.query_one("#create-model", Select)
        current = select.value
        self.models = models
        select.set_options(self._model_options())
        ids = [m.id for m in models]
        select.value = current if current in ids else self._default_model()

    @work(thread=True, exclusive=True, group="create-preflight", exit_on_error=False)
    def run_preflight(self, request: cj.JobRequest, dataset_id: int, launch: bool) -> None:
        from workbench.store.db import open_db

        db = open_db(self.app.db_path)
        try:
            key = self._preflight_key(request, dataset_id)
            result = shown = self.preflight_result
            paths: tuple[Any, Any] | None = None
            if result is None or result.key != key or launch:
                result, paths = build_preflight(
                    db,
                    request,
                    dataset_id,
                    key,
                    self.app.config.profile,
                    self.app.config.prices,
                )
                self.app.call_from_thread(self._show_preflight, result)
            if not launch:
                return
            if not result.ok:
                self.app.call_from_thread(
                    self._launch_failed, "not launched: fix the problems the pre-flight found"
                )
                return
            if result.left_out and not (
                shown and shown.key == key and shown.left_out == result.left_out
            ):
                # leaving rows out is said before it is done, as the export and upload ask first
                self.app.call_from_thread(
                    self._launch_failed,
                    f"not launched yet: {plural(result.left_out, 'row')} with problems would be left "
                    "out (see the pre-flight); press ctrl+l again to launch without them",
                )
                return
            job_id = launch_request(self.app, db, request, result, paths)
        except LaunchError as exc:
            self.app.call_from_thread(self._launch_failed, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - shown in words, the form is kept
            self.app.call_from_thread(self._launch_failed, f"{type(exc).__name__}: {exc}")
            return
        finally:
            db.close()
        self.app.call_from_thread(self.dismiss, job_id)

    def _show_preflight(self, result: Preflight) -> None:
        self.preflight_result = result
        box = self.query_one("#create-preflight", Static)
        box.update(result.text)
        self.call_after_refresh(box.scroll_visible, animate=False)

    def _launch_failed(self, message: str) -> None:
        self.launching = False
        self.query_one("#create-launch", Button).disabled = False
        self.show_error(message)


class LaunchError(Exception):
    """A launch step failed; the message is already in plain words."""


def build_preflight(
    db, request: cj.JobRequest, dataset_id: int, key: tuple, profile=None, overrides=None
):
    """The pre-flight (store.dataset_export.check_job, shared with `workbench jobs create`) as
    styled text. Returns (Preflight, (train version+path, validation version+path or None))."""
    from workbench.providers.fine_tuning import preflight_terms
    from workbench.store.dataset_export import check_job

    terms = preflight_terms(profile, request.model, overrides, today())
    result, paths = check_job(db, request, dataset_id, **terms)
    return Preflight(
        key,
        preflight_text(result),
        result.ok,
        result.estimated_tokens,
        result.estimated_cost_usd,
        result.left_out,
    ), paths


LEVEL_STYLES = {"ok": "green", "error": "bold red", "warning": "yellow", "info": "", "note": "dim"}


def preflight_text(result) -> Text:
    """core.preflight lines, one per row, in the pane's colours."""
    text = Text()
    for i, line in enumerate(result.lines):
        text.append(("\n" if i else "") + line.head, style=LEVEL_STYLES.get(line.level, ""))
        text.append(line.rest)
        text.append(line.note, style="dim")
    return text


def launch_request(
    app: WorkbenchApp, db, request: cj.JobRequest, preflight: Preflight, paths
) -> str:
    """The shared launch step (providers.job_steps.launch_job) with the profile's client; any
    provider error becomes a LaunchError in plain words. Returns the new job's id."""
    from workbench.providers.job_steps import launch_job
    from workbench.providers.openai_api import explain_error, make_client

    profile = app.config.profile
    try:
        client = make_client(profile, timeout=120)
    except Exception as exc:  # noqa: BLE001
        raise LaunchError(explain_error(exc, profile).message) from None
    try:
        launched = launch_job(
            client,
            db,
            profile,
            request,
            paths,
            estimated_tokens=preflight.estimated_tokens,
            estimated_cost_usd=preflight.estimated_cost_usd,
        )
    except Exception as exc:  # noqa: BLE001 - explained, never a traceback
        raise LaunchError(explain_error(exc, profile).message) from None
    finally:
        client.close()
    return launched.job.id
