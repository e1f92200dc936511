"""The studio's own CSS and JS (no CDN, no build step)."""

from fastapi import APIRouter
from fastapi.responses import FileResponse

from tagwise.errors import NotFound
from tagwise.studio.web import HERE, StudioRoute

router = APIRouter(prefix="/studio", route_class=StudioRoute)
ASSETS = {"studio.css": "text/css; charset=utf-8", "studio.js": "text/javascript; charset=utf-8"}


@router.get("/static/{name}")
def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise NotFound(f"No studio asset named {name!r}.")
    # Pages link assets with ?v=<version>, so a long cache is safe.
    return FileResponse(HERE / "static" / name, media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=86400"})
