"""tagwise's stand-in for the Azure blob container that holds document texts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from tagwise.api.deps import check_key, context
from tagwise.api.errors import ERROR_RESPONSES
from tagwise.api.responses import PAGING_PARAMETERS, page
from tagwise.api.schemas import BlobList, BlobsDeleted, answers
from tagwise.core import blobs
from tagwise.core.validation import shown
from tagwise.errors import InvalidArgument

router = APIRouter(prefix="/language/tagwise/containers/{container}/blobs", dependencies=[Depends(check_key)],
                   tags=["tagwise: document containers"], responses=ERROR_RESPONSES)


@router.put(
    "/{location}",
    summary="Upload one document's text (UTF-8)",
    status_code=201,  # the route answers itself: these declare the schema only
    response_class=Response,
    response_description="Created",
    responses={200: {"description": "Replaced the blob's text"}},
    openapi_extra={"requestBody": {"required": True, "content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def put_blob(request: Request, container: str, location: str) -> Response:
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark marks the encoding; it is not the text's first character
    except UnicodeDecodeError:
        raise InvalidArgument(f"The blob {shown(location)} is not UTF-8 text.", inner_code="InvalidDocument") from None
    created = await run_in_threadpool(blobs.put, context(request), container, location, text)
    return Response(status_code=201 if created else 200)


@router.get(
    "/{location}",
    summary="Read one document's text",
    response_class=Response,  # declared as text/plain below: the errors stay application/json in the schema
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def get_blob(request: Request, container: str, location: str) -> PlainTextResponse:
    return PlainTextResponse(blobs.get(context(request), container, location), media_type="text/plain; charset=utf-8")


@router.delete("/{location}", status_code=204, summary="Delete one document's text")
def delete_blob(request: Request, container: str, location: str) -> Response:
    blobs.delete(context(request), container, location)
    return Response(status_code=204)


@router.api_route("/", methods=["GET", "PUT", "DELETE"], include_in_schema=False)
def empty_location(request: Request, container: str) -> Response:
    """``.../blobs/``: a location that came out empty (the server's slash rule answered a bare 307
    to the container, which a client that does not follow redirects saw without a reason)."""
    raise InvalidArgument(f"The blob location is empty: name the blob of the container {shown(container)}, .../blobs/{{location}}"
                          + (", or add all=true to .../blobs (no slash) to delete every blob." if request.method == "DELETE" else "."))


@router.delete("", summary="Delete every blob of the container (with all=true)", responses=answers(BlobsDeleted, "How many blobs went."))
def delete_container(request: Request, container: str, every: bool = Query(False, alias="all", description="true: every blob goes")) -> dict:
    """The texts of a container stay when the projects imported from them are deleted: this removes
    them all. Only with ``all=true``: a delete whose location came out empty must not empty the container."""
    if not every:
        raise InvalidArgument(f"To delete every blob of the container {shown(container)}, add all=true to the query; "
                              "to delete one, name it: .../blobs/{location}.")
    return {"container": container, "deletedBlobs": blobs.delete_container(context(request), container)}


@router.get("", summary="List the container's blobs", responses=answers(BlobList, "A page of blobs."), openapi_extra={"parameters": PAGING_PARAMETERS})
def list_blobs(request: Request, container: str) -> dict:
    return page(request, blobs.list_all(context(request), container))
