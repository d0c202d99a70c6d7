"""OpenAI's error bodies, word for word where known, so the SDK raises the same exception classes."""

from __future__ import annotations

from starlette.responses import JSONResponse

TRAINING_NOT_AVAILABLE_MESSAGE = (
    "OpenAI is winding down the fine-tuning platform and your organization is no longer able to "
    "create new fine-tuning training jobs. Existing fine-tuned models remain available for "
    "inference until their base model is deprecated. (workbench simulator)"
)


def error_body(message: str, type_: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def error_response(
    status: int,
    message: str,
    type_: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(message, type_, param, code), status_code=status, headers=headers
    )


class APIError(Exception):
    """Raised inside handlers; the app turns it into OpenAI's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type_, self.param, self.code = (
            status,
            message,
            type_,
            param,
            code,
        )

    def response(self) -> JSONResponse:
        return error_response(self.status, self.message, self.type_, self.param, self.code)


def bad_request(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(400, message, "invalid_request_error", param, code)


def not_found(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(404, message, "invalid_request_error", param, code)


def invalid_api_key(key: str | None) -> JSONResponse:
    if not key:
        message = (
            "You didn't provide an API key. You need to provide your API key in an Authorization "
            "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
    else:
        shown = key[:3] + "*" * 4 + key[-4:] if len(key) > 8 else "****"
        message = (
            f"Incorrect API key provided: {shown}. This simulator was started with --api-key; "
            "use that key."
        )
    return error_response(401, message, "invalid_request_error", None, "invalid_api_key")


def rate_limited(retry_after: float) -> JSONResponse:
    return error_response(
        429,
        "Rate limit reached for requests in organization sim-org on requests per min (RPM): "
        f"Limit 3, Used 3, Requested 1. Please try again in {retry_after:g}s. (simulated fault)",
        "requests",
        None,
        "rate_limit_exceeded",
        headers={
            "retry-after": f"{retry_after:g}",
            "x-ratelimit-limit-requests": "3",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": f"{retry_after:g}s",
        },
    )


def server_error() -> JSONResponse:
    return error_response(
        500,
        "The server had an error while processing your request. Sorry about that! "
        "(simulated fault)",
        "server_error",
    )


def training_not_available() -> JSONResponse:
    return error_response(
        403, TRAINING_NOT_AVAILABLE_MESSAGE, "invalid_request_error", None, "training_not_available"
    )
