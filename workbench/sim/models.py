"""`/v1/models`: the base catalog plus every fine-tuned model produced; and which model a chat
request names (base, fine-tuned or checkpoint) with the examples it was trained on."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from workbench.core.tokens import billing_base_model
from workbench.sim import catalog, replies
from workbench.sim.azure import deployment_not_found
from workbench.sim.openai_errors import APIError, bad_request, not_found
from workbench.sim.wire import Handlers, today


def model_not_found(model_id: str) -> APIError:
    return not_found(
        f"The model `{model_id}` does not exist or you do not have access to it.",
        None,
        "model_not_found",
    )


class ModelRoutes(Handlers):
    """`GET/DELETE /v1/models[/{model}]` over a backend's `model_objects()` (sim and local)."""

    def model_objects(self) -> list[dict]:
        raise NotImplementedError

    async def list_models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": self.model_objects()})

    async def get_model(self, request: Request) -> Response:
        model_id = request.path_params["model"]
        for obj in self.model_objects():
            if obj["id"] == model_id:
                return JSONResponse(obj)
        raise model_not_found(model_id)

    async def delete_model(self, request: Request) -> Response:
        model_id = request.path_params["model"]
        if self.sim.store.get_ft_model(model_id) is None:
            raise model_not_found(model_id)
        self.sim.store.db.execute("DELETE FROM ft_models WHERE id = ?", [model_id])
        self.sim.store.commit()
        return JSONResponse({"id": model_id, "object": "model", "deleted": True})


class Models(ModelRoutes):
    """Model listing and lookup."""

    def __init__(self, sim) -> None:
        super().__init__(sim)
        self._trained_cache: dict[str, list[tuple[str, str]]] = {}

    # ---- models -----------------------------------------------------------------------------
    def model_objects(self) -> list[dict]:
        self.sim.advance_jobs()
        data = [catalog.model_object(m.id, m.created, m.shutdown_date) for m in catalog.BASE_MODELS]
        for row in self.sim.store.ft_models():
            base = catalog.base_model(billing_base_model(row["base"]))
            data.append(
                catalog.model_object(
                    row["id"], row["created"], base.shutdown_date if base else None
                )
            )
        return data

    def check_fine_tunable(self, model_id: str) -> None:
        unavailable = bad_request(
            f"Model {model_id} is not available for fine-tuning or does not exist.",
            "model",
            "model_not_available",
        )
        if model_id.startswith("ft:") or ".ft-" in model_id:
            row = self.sim.store.get_ft_model(model_id)
            if row is None:
                raise unavailable
            model_id = row["base"].split(":")[1] if row["base"].startswith("ft:") else row["base"]
            model_id = billing_base_model(model_id)
        base = catalog.base_model(model_id)
        if base is None or not base.fine_tunable or catalog.is_shut_down(base, today()):
            raise unavailable

    def resolve(self, model_id: str) -> tuple[str, list[tuple[str, str]]]:
        """(the model's canonical id, its trained pairs) or 404 like OpenAI; on Azure a
        fine-tuned model answers only through a deployment (sim/azure.py)."""
        if self.sim.options.flavor == "azure":
            deployed = self.sim.deployments.model_of(model_id)
            if deployed is not None:
                model_id = deployed
            elif catalog.base_model(model_id) is None:
                raise deployment_not_found()  # on Azure, `model` names a deployment
        base = catalog.base_model(model_id)
        if base is not None:
            if catalog.is_shut_down(base, today()):
                raise model_not_found(model_id)
            return model_id, []
        self.sim.advance_jobs()
        ft_id = model_id
        if self.sim.store.get_ft_model(ft_id) is None:
            job_id = self.sim.store.checkpoint_models().get(model_id)
            if job_id is None:
                raise model_not_found(model_id)
            return model_id, self.trained_pairs_of_job(job_id)
        row = self.sim.store.get_ft_model(ft_id)
        return model_id, self.trained_pairs_of_job(row["job_id"])

    def trained_pairs_of_job(self, job_id: str, depth: int = 0) -> list[tuple[str, str]]:
        if job_id in self._trained_cache:
            return self._trained_cache[job_id]
        job = self.sim.store.get_job(job_id)
        pairs: list[tuple[str, str]] = []
        if job is None:
            return pairs
        path = self.sim.store.file_path(job["training_file"])
        if path.exists():
            with path.open(encoding="utf-8", errors="replace") as fh:
                pairs = replies.read_trained_pairs(fh)
        parent = self.sim.store.get_ft_model(job["model"])
        if parent is not None and depth < 10:
            pairs = pairs + self.trained_pairs_of_job(parent["job_id"], depth + 1)
        self._trained_cache[job_id] = pairs
        return pairs
