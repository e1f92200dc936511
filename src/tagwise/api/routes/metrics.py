"""``GET /metrics``: counters and gauges for Prometheus (docs/operations.md, "Logs and metrics").

Any API key may scrape, a runtime key included: give the scraper a runtime key, which cannot read
or change a project. Unlike /health it needs one: request counts and queue depths are for whoever
runs the server, not for anyone who can reach the port. The labels name route templates, never a
project. Prometheus sends a key as ``Authorization: Bearer <key>`` (a scrape config's
``authorization``), so that is accepted here as well as ``Ocp-Apim-Subscription-Key``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, Security

from tagwise.api.deps import KEY_SCHEME, check_key
from tagwise.api.errors import ERROR_RESPONSES
from tagwise.core.keys import ApiKey

router = APIRouter(tags=["tagwise: operations"], responses=ERROR_RESPONSES)


def scraper_key(request: Request, given: str | None = Security(KEY_SCHEME)) -> ApiKey:
    """``check_key``, with the key also taken from ``Authorization: Bearer``."""
    if not given:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            given = credentials.strip()
    return check_key(request, given)


@router.get("/metrics", summary="Request, classification and job counters in the Prometheus text format (any key)",
            dependencies=[Depends(scraper_key)], response_class=Response,
            responses={200: {"description": "Prometheus text format (OpenMetrics when the Accept header asks for it).",
                             "content": {"text/plain": {"schema": {"type": "string"}}}}})
def metrics(request: Request) -> Response:
    # a plain def: FastAPI runs it in the thread pool, where the store's two count queries cannot hold up the event loop
    body, content_type = request.app.state.metrics.render(request.headers.get("accept", ""))
    return Response(body, media_type=content_type)
