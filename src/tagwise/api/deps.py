"""What every route needs from a request: the key check, api-version, JSON body, absolute URLs."""

from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from tagwise.core.context import Context
from tagwise.errors import InvalidArgument, InvalidRequest, PayloadTooLarge, Unauthorized, UnsupportedMediaType

API_VERSIONS = ("2022-05-01", "2023-04-01", "2024-11-15-preview", "2025-05-15-preview", "2026-05-15-preview")
KEY_HEADER = "Ocp-Apim-Subscription-Key"


def context(request: Request) -> Context:
    return request.app.state.ctx


def check_key(request: Request) -> None:
    given = request.headers.get(KEY_HEADER)
    expected = request.app.state.ctx.settings.api_key
    if not given:
        raise Unauthorized(f"Access denied: send your tagwise API key in the {KEY_HEADER} header.")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("Access denied: the API key is wrong. The key is printed when the server starts and kept in <data dir>/api-key.")


def api_version(request: Request) -> str:
    version = request.query_params.get("api-version")
    if not version:
        raise InvalidRequest(f"The api-version query parameter is missing; use one of {', '.join(API_VERSIONS)}.", target="api-version")
    if version not in API_VERSIONS:
        raise InvalidRequest(f"The api-version {version!r} is not supported; use one of {', '.join(API_VERSIONS)}.", target="api-version")
    return version


async def json_body(request: Request) -> Any:
    limit = request.app.state.ctx.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body has {int(declared):,} bytes; the limit is {limit:,} (TAGWISE_MAX_BODY_BYTES).")
    raw = await request.body()
    if len(raw) > limit:
        raise PayloadTooLarge(f"The request body has {len(raw):,} bytes; the limit is {limit:,} (TAGWISE_MAX_BODY_BYTES).")
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if raw and not (ctype.endswith("json") or ctype in ("", "text/plain")):
        raise UnsupportedMediaType(f"The body must be JSON (Content-Type: application/json), not {ctype}.")
    if not raw.strip():
        raise InvalidArgument("The request body is empty; send a JSON object.", inner_code="InvalidRequestBodyFormat")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidArgument(f"The request body is not valid JSON: {exc}.", inner_code="InvalidRequestBodyFormat") from None


def base_url(request: Request) -> str:
    configured = request.app.state.ctx.settings.public_url
    if configured:
        return configured.rstrip("/")
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


def absolute(request: Request, path: str, **query: Any) -> str:
    """An absolute URL under /language (SDKs break on relative Operation-Location / nextLink)."""
    query = {k: v for k, v in query.items() if v is not None}
    return f"{base_url(request)}/language{path}" + (f"?{urlencode(query)}" if query else "")


def int_param(request: Request, name: str, default: int | None = None, *, minimum: int = 0) -> int | None:
    raw = request.query_params.get(name) or request.query_params.get(f"${name}")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidArgument(f"The query parameter {name} must be a whole number, not {raw!r}.", target=name) from None
    if value < minimum:
        raise InvalidArgument(f"The query parameter {name} must be at least {minimum}.", target=name)
    return value
