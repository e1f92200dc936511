"""What every route needs from a request: the key check, api-version, JSON body, absolute URLs."""

from __future__ import annotations

import json
import re
import sys
from typing import Any
from urllib.parse import urlencode

from fastapi import Query, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from tagwise.api.ratelimit import RateLimiter
from tagwise.core import keys
from tagwise.core.context import Context
from tagwise.core.timefmt import iso
from tagwise.core.validation import first_lone_surrogate, shown
from tagwise.errors import Forbidden, InvalidArgument, InvalidRequest, PayloadTooLarge, Unauthorized, UnsupportedMediaType

API_VERSIONS = ("2022-05-01", "2023-04-01", "2024-11-15-preview", "2025-05-15-preview", "2026-05-15-preview")
KEY_HEADER = "Ocp-Apim-Subscription-Key"
# Declares the key in the OpenAPI schema (Swagger's "Authorize"); check_key does the checking itself.
KEY_SCHEME = APIKeyHeader(name=KEY_HEADER, scheme_name="subscriptionKey", auto_error=False,
                          description="A tagwise API key: the first one is printed when the server generates it (its first start) and kept in <data dir>/api-key.")


def context(request: Request) -> Context:
    return request.app.state.ctx


# Routes a runtime key may call: classification only (Azure's prediction key), nothing that changes projects;
# and the metrics, which name no project, so that a scraper needs no key that could change anything.
RUNTIME_ROUTES = frozenset({
    ("POST", "/language/analyze-text/jobs"),
    ("GET", "/language/analyze-text/jobs/{job_id}"),
    ("POST", "/language/analyze-text/jobs/{job_id}:cancel"),
    ("POST", "/language/tagwise/projects/{project}/deployments/{deployment}:classify"),
    ("GET", "/metrics"),
})


POLLS_PER_REQUEST = 10  # a key's job-status polls may be this many times its rate limit


def check_key(request: Request, given: str | None = Security(KEY_SCHEME)) -> keys.ApiKey:
    """Who calls: a valid key (401 otherwise), allowed on this route (403), within its rate limit (429)."""
    if not given:
        raise Unauthorized(f"Access denied: send your tagwise API key in the {KEY_HEADER} header.")
    ctx = request.app.state.ctx
    key = verify_counted(request, given)
    if key is None and (gone := getattr(request.state, "revoked_key", None)) is not None:
        raise Unauthorized(f"Access denied: this API key ({gone['name']!r}, {gone['id']}) was revoked on {iso(gone['revoked_at'])}. "
                           "Use the key that replaced it.")
    if key is None:
        raise Unauthorized("Access denied: the API key is wrong or revoked. The server's first key is TAGWISE_API_KEY where that is set, "
                           "else the one it generated, printed at its first start and kept in <data dir>/api-key.")
    request.state.api_key = key  # the access log names it, also when this request is refused below (403, 429)
    if key.role != keys.AUTHORING and _route(request) not in RUNTIME_ROUTES:
        raise Forbidden("This key is a runtime key: it can classify (analyze-text jobs, :classify) but not read or change projects. Use an authoring key.")
    # A job's status polls count in a bucket of their own, ten times the key's limit: an Azure SDK call
    # is one request that starts a job, then a poll each second (Retry-After: 1); counted with the
    # rest, a key limited to 60 a minute made about 15 calls a minute and had polls refused mid-call.
    # Unlimited, a poll that reads a job's texts and results could be sent without end.
    per_minute = keys.per_minute(ctx, key.rate_limit_per_minute)
    method, path = _route(request)
    if method == "GET" and path.endswith("{job_id}"):
        _limiter(request).check(f"{key.id}:polls", POLLS_PER_REQUEST * per_minute)
    else:
        _limiter(request).check(key.id, per_minute)
    return key


def verify_counted(request: Request, given: str) -> keys.ApiKey | None:
    """:func:`keys.verify`, refused (429) for a client address over its wrong keys a minute
    (``TAGWISE_WRONG_KEYS_PER_MINUTE``), which a wrong key counts toward (a right one, or a revoked
    one, gives its token back; ``request.state.revoked_key`` then names the revoked key)."""
    ctx = request.app.state.ctx
    address = request.client.host if request.client else "unknown"
    per_minute = ctx.settings.wrong_keys_per_minute
    _limiter(request).check_wrong_keys(address, per_minute)
    key = keys.verify(ctx, given)
    if key is None and (gone := keys.revoked(ctx, given)) is not None:
        # a key that was right until a rotation, from a client nobody updated: no guess. Counted, it took every
        # client at that address down with it, the new key's too (a race probe: 30 of 30 refused within a minute)
        request.state.revoked_key = gone
        _limiter(request).right_key(address, per_minute)
        # still limited, as the key was: a revoked key sent without end cost a store look-up each time
        _limiter(request).check(f"{gone['id']}:revoked", keys.per_minute(ctx, gone["rate_limit_per_minute"]))
    elif key is not None:
        _limiter(request).right_key(address, per_minute)
    return key


def _route(request: Request) -> tuple[str, str]:
    route = request.scope.get("route")
    return request.method, getattr(route, "path", request.url.path)


def _limiter(request: Request) -> RateLimiter:
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        limiter = request.app.state.rate_limiter = RateLimiter()
    return limiter


def api_version(request: Request) -> str:
    """The api-version query parameter, checked here (not by FastAPI) so that a missing or unknown one
    gets the Azure error; ``tagwise.api.openapi`` declares it on every route that depends on this."""
    version = request.query_params.get("api-version")
    if not version:
        raise InvalidRequest(f"The api-version query parameter is missing; use one of {', '.join(API_VERSIONS)}.", target="api-version")
    if version not in API_VERSIONS:
        raise InvalidRequest(f"The api-version {shown(version)} is not supported; use one of {', '.join(API_VERSIONS)}.", target="api-version")
    return version


def string_index_type(
    string_index: str | None = Query(None, alias="stringIndexType", description="How text offsets would be counted: "
                                     "Utf16CodeUnit, the only value (tagwise's results carry no offsets). May be left out.",
                                     json_schema_extra={"enum": ["Utf16CodeUnit"]}),
) -> None:
    """Azure's ``stringIndexType`` on export and evaluation results: the Azure SDKs send
    ``Utf16CodeUnit``; another value is refused rather than silently ignored."""
    if string_index is not None and string_index.casefold() != "utf16codeunit":
        raise InvalidArgument(f"stringIndexType {shown(string_index)} is not supported: use Utf16CodeUnit, or leave it out "
                              "(tagwise's results carry no text offsets).", target="stringIndexType")


_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


async def _read_body(request: Request, limit: int, why: str) -> bytes:
    """The body, refused as soon as it passes ``limit``: a chunked body (no Content-Length) of a
    classification route was read whole, 200 MiB of it, before the route's lower limit was checked."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body has more than {limit:,} bytes ({size:,} so far); the limit is {limit:,} {why}.")
        chunks.append(chunk)
    raw = request._body = b"".join(chunks)  # Starlette's cache: a later request.body() gets it
    return raw


async def json_body(request: Request, *, characters: int | None = None) -> Any:
    """The request's JSON. ``characters``: a classification route's limit on its documents' text,
    which bounds its body too (12 bytes a character, as JSON escapes write an emoji, and 1 MiB for
    ids and options): a runtime key posted 40 MB there under the 256 MiB limit meant for imports, and
    every request of the process waited while it was parsed."""
    limit = request.app.state.ctx.settings.max_body_bytes
    why = "(TAGWISE_MAX_BODY_BYTES)"
    if characters is not None and (route_limit := 12 * characters + 2**20) < limit:
        limit, why = route_limit, f"on this route, whose documents may hold {characters:,} characters in all"
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body has {int(declared):,} bytes; the limit is {limit:,} {why}.")
    raw = await _read_body(request, limit, why)
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if raw and not (ctype.endswith("json") or ctype in ("", "text/plain")):
        raise UnsupportedMediaType(f"The body must be JSON (Content-Type: application/json), not {ctype}.")
    # Parsed here, on the event loop: json.loads holds the GIL throughout, so a thread would not
    # let other requests run meanwhile (measured: a 69 MB import, /health at most 0.82-1.13 s
    # with the parse in the thread pool, 1.14-1.17 s without).
    if not raw.strip():
        raise InvalidArgument("The request body is empty; send a JSON object.", inner_code="InvalidRequestBodyFormat")
    try:
        body = json.loads(raw)
    except UnicodeDecodeError as exc:  # json.loads also reads UTF-16 and UTF-32 when they say so with a byte order mark
        raise InvalidArgument(f"The request body is not UTF-8 (byte 0x{raw[exc.start]:02x} at position {exc.start}): send the JSON "
                              "encoded as UTF-8, whatever its Content-Type's charset says.", inner_code="InvalidRequestBodyFormat") from None
    except json.JSONDecodeError as exc:
        raise InvalidArgument(f"The request body is not valid JSON: {exc}.", inner_code="InvalidRequestBodyFormat") from None
    except RecursionError:
        raise InvalidArgument("The request body nests JSON too deeply.", inner_code="InvalidRequestBodyFormat") from None
    except ValueError:  # Python's cap on the digits of an integer it converts (4,300): it was a 500 and a traceback
        raise InvalidArgument(f"The request body has a number of more than {sys.get_int_max_str_digits():,} digits: send "
                              "numbers of usual size.", inner_code="InvalidRequestBodyFormat") from None
    # JSON's parser lets a lone surrogate through ("\ud800", or its UTF-8-like bytes); nothing after it can
    # store or encode one. Only a body with such an escape or bytes is walked.
    if _MAYBE_SURROGATE.search(raw) and (where := first_lone_surrogate(body)):
        raise InvalidArgument(f"The request body has text that is not valid Unicode: {where}. Send each character whole "
                              "(an emoji as its pair of \\u escapes, or as UTF-8).", inner_code="InvalidRequestBodyFormat")
    return body


# the request bodies' models, by name, for the schema's components (openapi.install adds them)
DECLARED_MODELS: dict[str, dict[str, Any]] = {}


def declared_body(model: type[BaseModel], media_types: tuple[str, ...] = ("application/json",)) -> dict[str, Any]:
    """``openapi_extra`` declaring ``model`` as the request body of a route that reads it with
    ``json_body``: the schema documents the body, json_body and the services still validate it (an
    Azure error, not FastAPI's 422). The model and those it holds are ``#/components/schemas``
    entries (inlined, a sub-model used twice in one body made client generators drop the route:
    openapi-python-client skipped ``:import``)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in {**schema.pop("$defs", {}), model.__name__: schema}.items():
        if DECLARED_MODELS.setdefault(name, definition) != definition:
            raise RuntimeError(f"two request models are named {name}: the API reference would mix them up")
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {media: {"schema": ref} for media in media_types}}}


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
    raw = request.query_params.get(name)
    if raw is None:
        raw = request.query_params.get(f"${name}")
    if raw is None:
        return default
    if not raw.strip():  # "?top=" (a script's variable left unset) read as no limit at all
        raise InvalidArgument(f"The query parameter {name} is empty: give a whole number, or leave it out.", target=name)
    try:
        value = int(raw)
    except ValueError:
        raise InvalidArgument(f"The query parameter {name} must be a whole number, not {shown(raw)}.", target=name) from None
    if value < minimum:
        raise InvalidArgument(f"The query parameter {name} must be at least {minimum}.", target=name)
    return value


def bool_param(request: Request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() not in ("true", "false"):
        raise InvalidArgument(f"The query parameter {name} must be true or false, not {shown(raw)}.", target=name)
    return raw.lower() == "true"
