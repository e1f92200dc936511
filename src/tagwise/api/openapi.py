"""The API reference: /docs (Swagger UI) served offline, and what the schema adds.

tagwise is self-hosted, often on a machine without internet, so the page loads its scripts from
the ``fastapi-offline`` package (Swagger UI 5, which renders the OpenAPI 3.1 that FastAPI writes)
instead of a CDN. There is no /redoc: ReDoc's page loads its logo from redoc.ly. The schema
declares ``api-version`` on every route that checks it (``deps.api_version`` reads it itself, for
the Azure error, so FastAPI does not see it).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles

from tagwise.api.deps import API_VERSIONS, DECLARED_MODELS, api_version

ASSETS_URL = "/docs/assets"
DEFAULT_API_VERSION = "2023-04-01"  # what azure-ai-textanalytics 5.4.0 sends
API_VERSION_PARAMETER: dict[str, Any] = {
    "name": "api-version",
    "in": "query",
    "required": True,
    "description": "The Azure API version; every accepted one behaves the same.",
    "schema": {"type": "string", "enum": list(API_VERSIONS), "default": DEFAULT_API_VERSION},
}


def install(app: FastAPI) -> None:
    """Serve /docs with local assets and add api-version to ``app.openapi()``.
    Build ``app`` with ``docs_url=None, redoc_url=None`` (FastAPI's own pages use a CDN)."""
    app.mount(ASSETS_URL, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} API reference",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            # no badge from validator.swagger.io: it would send the schema's URL out (and fail offline)
            swagger_ui_parameters={"validatorUrl": None},
        )

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()  # caches the schema in app.openapi_schema
            declare_api_version(app, schema)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in DECLARED_MODELS.items():  # the request bodies' models (deps.declared_body)
                if _without_nulls(components.setdefault(name, definition)) != _without_nulls(definition):
                    raise RuntimeError(f"the API reference has two schemas named {name}")
            declared_answers_only(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


def declare_api_version(app: FastAPI, schema: dict[str, Any]) -> None:
    """Add the api-version parameter to each operation of a route that depends on ``api_version``."""
    for route in iter_route_contexts(app.routes):  # the routes of the included routers, as get_openapi walks them
        if not (isinstance(route.original_route, APIRoute) and route.include_in_schema and _depends_on(route.dependant, api_version)):
            continue
        for method in route.methods:
            operation = schema["paths"][route.path_format][method.lower()]
            operation.setdefault("parameters", []).append(dict(API_VERSION_PARAMETER))


def declared_answers_only(schema: dict[str, Any]) -> None:
    """A response that declares its model (``schemas.answers``) is that model alone. FastAPI merges
    it into what it infers from a handler's ``-> dict`` (a free-form object titled after the handler),
    which a client generator reads as a plain dict; the handlers keep the annotation, as it is what
    serialises their answers."""
    for path in schema["paths"].values():
        for operation in path.values():
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    if "$ref" in (declared := media.get("schema", {})):
                        media["schema"] = {"$ref": declared["$ref"]}


def _without_nulls(node: Any) -> Any:
    """A schema as FastAPI writes its own components: without the keys whose value is null (a
    request body's model that is also an answer's is in both, ``"default": null`` only in ours)."""
    if isinstance(node, dict):
        return {key: _without_nulls(value) for key, value in node.items() if value is not None}
    if isinstance(node, list):
        return [_without_nulls(value) for value in node]
    return node


def _root(request: Request) -> str:
    """The path the app is mounted under (behind a proxy), as FastAPI's own pages prefix it."""
    return request.scope.get("root_path", "").rstrip("/")


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(sub.call is call or _depends_on(sub, call) for sub in dependant.dependencies)
