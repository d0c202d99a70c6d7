"""Small pieces every route module shares: reading a JSON body and query integers, today's date,
and the base class that gives handler groups their simulator."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from starlette.requests import Request

from workbench.sim.openai_errors import bad_request

if TYPE_CHECKING:
    from workbench.sim.server import Simulator


class Handlers:
    """A group of route handlers sharing the simulator (its store, clocks and options)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim


async def json_body(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("We could not parse the JSON body of your request.") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"Invalid '{name}': expected an integer.", name) from None
    if not low <= value <= high:
        raise bad_request(f"Invalid '{name}': must be between {low} and {high}.", name)
    return value


def today() -> str:
    """Shutdown dates are compared with the real date."""
    return dt.date.today().isoformat()


def list_page(data: list[dict], has_more: bool) -> dict:
    """A cursor page as the Files, Checkpoints and Batches lists return it."""
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }
