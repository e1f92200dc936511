"""The studio's routes, one module per part of the studio, gathered into one router."""

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from tagwise.errors import NotFound
from tagwise.studio.routes import assets, compare, data, deploy, models, projects, tag
from tagwise.studio.web import StudioRoute

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
for module in (assets, projects, data, tag, models, deploy, compare):
    router.include_router(module.router, include_in_schema=False)


@router.get("/studio/{path:path}")
def no_such_page(path: str) -> RedirectResponse:
    """Last: a studio URL no page has gets the studio's error page, not the API's JSON."""
    if path.strip("/") == "":
        return RedirectResponse("/studio", status_code=307)
    raise NotFound(f"The studio has no page /studio/{path}. Its pages are reached from a project's tabs: Overview, Schema, "
                   "Data, Tag, Train, Evaluate, Deploy and Try it.")

__all__ = ["router"]
