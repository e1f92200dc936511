"""tagwise: API key management (authoring keys only). Rotate = create a new key, switch clients, revoke the old."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tagwise.api.deps import check_key, context, declared_body, json_body
from tagwise.api.errors import ERROR_RESPONSES
from tagwise.api.responses import PAGING_PARAMETERS, page
from tagwise.api.schemas import ApiKeyList, CreatedApiKey, answers
from tagwise.core import keys
from tagwise.errors import InvalidArgument

router = APIRouter(prefix="/language/tagwise/keys", dependencies=[Depends(check_key)], tags=["tagwise: API keys"],
                   responses=ERROR_RESPONSES)


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="What the key is for, e.g. 'ticket router'. 1 to 100 characters.")
    role: Literal["authoring", "runtime"] = Field(description="'authoring' (everything) or 'runtime' (classification only).")
    rateLimitPerMinute: int | None = Field(None, ge=0, description="This key's own requests per minute (0 = unlimited); default TAGWISE_RATE_LIMIT_PER_MINUTE.")


@router.post(
    "",
    status_code=201,
    summary="Create an API key; the response is the only time its secret is shown",
    responses=answers(CreatedApiKey, "The key, with its secret.", 201),
    openapi_extra=declared_body(KeyCreate),
)
async def create_key(request: Request) -> JSONResponse:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise InvalidArgument('The body must be a JSON object: {"name": "...", "role": "runtime"}.')
    record, secret = await run_in_threadpool(keys.create, context(request), body.get("name"), body.get("role"), body.get("rateLimitPerMinute"))
    return JSONResponse(keys.describe(record, secret), status_code=201)


@router.get("", summary="List API keys (without their secrets), revoked ones included", responses=answers(ApiKeyList, "A page of keys."),
            openapi_extra={"parameters": PAGING_PARAMETERS})
def list_keys(request: Request) -> dict:
    return page(request, [keys.describe(k) for k in keys.list_all(context(request))])


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key (every process refuses it within a second)")
def revoke_key(request: Request, key_id: str) -> Response:
    keys.revoke(context(request), key_id)
    return Response(status_code=204)
