"""``tagwise serve`` (the HTTP API, what ``make serve`` runs) and ``tagwise worker`` (jobs only)."""

from __future__ import annotations

import errno
import signal
import socket
import threading

import typer

from tagwise.cli.common import handle_errors, load_settings
from tagwise.errors import TagwiseError

# How long uvicorn waits for a worker to answer: a new one to be ready in a rolling restart
# (`kill -HUP` on the parent), a running one's ping. At its default (5 s) a restart under load
# replaced one worker of two, or none ("was not ready in time ... aborting the restart"): a worker
# imports the ml stack and opens the store in 7-12 s on a busy 2-core machine.
WORKER_READY_S = 60


class AddressUnavailable(TagwiseError):
    code = "AddressUnavailable"


def check_address(host: str, port: int) -> None:
    """Bind the address once and let it go, so a port in use (or a host that is not this
    machine's) is one error line before "listening", not a uvicorn traceback after it."""
    bind(host, port, listen=False).close()


def bind(host: str, port: int, *, listen: bool = True) -> socket.socket:
    """A socket bound (and, with ``listen``, listening) on ``host:port``, or one error line saying
    why it cannot be: a host that is not this machine's, a port in use."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise AddressUnavailable(f"cannot listen on {host}: {exc.strerror} (TAGWISE_HOST or --host)") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: a port in TIME_WAIT is free
        sock.bind(address)
        if listen:
            sock.listen(128)
    except OSError as exc:
        sock.close()
        hint = "another process is listening there: stop it or pick another --port" if exc.errno == errno.EADDRINUSE else "TAGWISE_HOST/TAGWISE_PORT or --host/--port"
        raise AddressUnavailable(f"cannot listen on {host}:{port}: {exc.strerror} ({hint})") from None
    sock.set_inheritable(True)
    return sock


def serve_in_background(app, sock: socket.socket, log_level: str) -> tuple:
    """(server, thread): ``app`` served on ``sock`` by uvicorn on a thread of its own (it installs no
    signal handlers off the main thread: the worker's own handlers stop it, with ``should_exit``)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="worker-http", daemon=True)
    thread.start()
    return server, thread


@handle_errors
def serve(
    host: str = typer.Option(None, help="Interface to listen on (default: TAGWISE_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, min=1, max=65535, help="Port to listen on (default: TAGWISE_PORT or 8080)."),
    workers: int = typer.Option(1, min=1, help="Server processes; each runs its own job runner (job claims are atomic), unless TAGWISE_RUN_JOBS=false."),
) -> None:
    """Start the API server on the configured store.

    Every other setting (store URL, limits, encoder threads, ...) is a TAGWISE_* environment
    variable: `python -m tagwise.settings` prints them all, as docs/settings.md lists them.

    \b
    Example:
      tagwise serve --host 0.0.0.0 --port 8080
    """
    import os

    import uvicorn

    from tagwise import logs

    settings = load_settings()
    if host:
        settings.host = host
    if port is not None:
        settings.port = port
    check_address(settings.host, settings.port)
    logs.configure(settings.log_level)
    key, generated = settings.ensure_api_key()
    app = None
    try:
        if workers == 1:  # opens the store now: one it cannot reach is an error line before "listening"
            from tagwise.server import create_app

            app = create_app(settings)
        else:  # each worker opens it itself: check it once here, or every worker would fail and be respawned forever
            from tagwise.core.context import Context

            Context.open(settings).close()
    except BaseException:
        if generated:  # kept, so printed now: the next start said only "API key: in ..." of a key never shown
            typer.echo(f"Generated API key (kept in {settings.data_dir / 'api-key'}): {key}")
        raise
    where = http_url(settings.host, settings.port)
    typer.echo(f"tagwise listening on {where}  (studio: {where}/studio, API docs: {where}/docs)")
    typer.echo(f"store: {settings.store_name}; models: {settings.models_dir}")
    if generated:
        typer.echo(f"Generated API key (kept in {settings.data_dir / 'api-key'}): {key}")
    else:
        typer.echo("API key: from TAGWISE_API_KEY" if settings.api_key_from_env else f"API key: in {settings.data_dir / 'api-key'}")
    if warning := weak_key_warning(settings.host, key, settings.api_key_from_env):
        typer.echo(warning, err=True)
    # access_log=False: tagwise logs each request itself (api/telemetry.py), with the key's id and without the query string
    if app is None:
        from tagwise import metrics
        from tagwise.orphans import SUPERVISOR_ENV

        # Each worker process builds its own app from the environment, and keeps its metrics in a
        # folder they share, so that a scrape answered by any of them counts them all.
        os.environ["TAGWISE_DATA_DIR"] = str(settings.data_dir)
        # each worker asks the kernel to stop it when this process dies (tagwise.server._end_with_supervisor),
        # which uvicorn's supervisor, killed with SIGKILL, cannot do itself
        os.environ[SUPERVISOR_ENV] = str(os.getpid())
        with metrics.shared_between_processes():
            uvicorn.run("tagwise.server:create_app_from_env", factory=True, workers=workers, host=settings.host, port=settings.port,
                        log_level=settings.log_level, access_log=False, timeout_worker_healthcheck=WORKER_READY_S)
        return
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level, access_log=False)


MIN_STRONG_KEY_CHARS = 16


def weak_key_warning(host: str, key: str, from_env: bool = True) -> str | None:
    """A warning for a short key on a server other machines can reach: nothing slows down wrong
    keys (a probe tried 60 in 1.5 s), and the README's own example key is ``my-key``."""
    if len(key) >= MIN_STRONG_KEY_CHARS or host in ("127.0.0.1", "localhost", "::1"):
        return None
    return (f"warning: the API key is {len(key)} characters long and the server listens on {host}: anyone who reaches it can "
            f"guess a short key. Use {MIN_STRONG_KEY_CHARS} or more random characters (python3 -c \"import secrets; "
            "print(secrets.token_hex(16))\")" + (", or leave TAGWISE_API_KEY unset for a generated one." if from_env else
                                                 " in <data dir>/api-key, or delete that file for a generated one."))


@handle_errors
def worker(
    port: int = typer.Option(None, min=1, max=65535, help="Also serve GET /health and GET /metrics (any API key) on this port, for an "
                             "orchestrator's probe and a Prometheus scrape; default: no HTTP at all."),
    host: str = typer.Option("127.0.0.1", help="Interface for --port."),
) -> None:
    """Run queued jobs (training, analyze) without serving the API, until SIGTERM or Ctrl-C.

    Start as many as you like next to `tagwise serve` on the same store; each job runs once.
    With --port, /health answers 503 while the store cannot be reached or the job runner has
    stopped, and /metrics counts the trainings and analyze tasks this worker ran.

    \b
    Example:
      TAGWISE_DATA_DIR=/srv/tagwise tagwise worker
      tagwise worker --port 9101 --host 0.0.0.0
    """
    from tagwise import logs
    from tagwise.core.context import Context
    from tagwise.jobs.runner import JobRunner

    settings = load_settings()
    # bound here, before the slow start: a port another process took in the meantime was a worker running
    # jobs without the HTTP it printed the address of
    listening = bind(host, port) if port is not None else None
    logs.configure(settings.log_level)
    ctx = Context.open(settings)
    counts = http = None
    if listening is not None:
        from tagwise.metrics import Metrics

        counts = Metrics(ctx)
        if not settings.api_key and (settings.data_dir / "api-key").is_file():
            settings.ensure_api_key()  # the server's generated key scrapes here too (a worker never generates one)
    runner = JobRunner(ctx, metrics=counts)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runner.start()
    if listening is not None:
        from tagwise.server import create_worker_app

        http = serve_in_background(create_worker_app(ctx, runner, counts), listening, settings.log_level)
    typer.echo(f"tagwise worker running jobs of {settings.store_name}; models: {settings.models_dir} (Ctrl-C to stop)")
    if port is not None:
        where = http_url(host, port)
        typer.echo(f"health and metrics: {where}/health, {where}/metrics")
    try:
        while not stop.wait(1.0):
            pass
    finally:
        runner.stop()
        if http is not None:
            http[0].should_exit = True
            http[1].join(timeout=10)
        ctx.close()
    typer.echo("tagwise worker stopped")


def http_url(host: str, port: int) -> str:
    """The base URL a server on ``host:port`` answers at, an IPv6 address in brackets (``http://::1:8080``
    was printed, which no browser or curl reads).

    >>> http_url("127.0.0.1", 8080), http_url("::1", 8080), http_url("[::]", 80)
    ('http://127.0.0.1:8080', 'http://[::1]:8080', 'http://[::]:80')
    """
    return f"http://[{host.strip('[]')}]:{port}" if ":" in host else f"http://{host}:{port}"
