"""The ``tagwise`` command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="tagwise: self-hosted custom text classification.", no_args_is_help=True, add_completion=False)


@app.callback()
def _root() -> None:
    """tagwise: self-hosted custom text classification with an Azure-compatible API."""


@app.command()
def serve(
    host: str = typer.Option(None, help="Interface to listen on (default: TAGWISE_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port to listen on (default: TAGWISE_PORT or 8080)."),
) -> None:
    """Start the API server on the configured store.

    Example: tagwise serve --host 0.0.0.0 --port 8080
    """
    import uvicorn

    from tagwise.server import create_app
    from tagwise.settings import Settings

    settings = Settings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    key, generated = settings.ensure_api_key()
    app_ = create_app(settings)
    where = f"http://{settings.host}:{settings.port}"
    typer.echo(f"tagwise listening on {where}  (data: {settings.data_dir.resolve()}, API docs: {where}/docs)")
    if generated:
        typer.echo(f"Generated API key (kept in {settings.data_dir / 'api-key'}): {key}")
    else:
        typer.echo("API key: from TAGWISE_API_KEY" if settings.api_key_from_env else f"API key: in {settings.data_dir / 'api-key'}")
    uvicorn.run(app_, host=settings.host, port=settings.port, log_level=settings.log_level, access_log=False)


def main() -> None:
    app()
