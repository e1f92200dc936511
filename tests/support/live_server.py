"""A real tagwise server in a subprocess, on a free loopback port.

Tests that must talk to the server over real HTTP (the official Azure SDKs, the CLI) start one
with :func:`live_server`. The server gets its own data folder and API key and runs with
``HF_HUB_OFFLINE=1`` so it never reaches the network.

>>> with live_server(tmp_path) as server:          # doctest: +SKIP
...     httpx.get(f"{server.url}/language/authoring/analyze-text/projects",
...               params={"api-version": "2023-04-01"},
...               headers={"Ocp-Apim-Subscription-Key": server.key})
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SRC_DIR = Path(__file__).resolve().parents[2] / "src"
READY_PATH = "/language/authoring/analyze-text/projects?api-version=2023-04-01"
KEY_HEADER = "Ocp-Apim-Subscription-Key"


@dataclass(frozen=True)
class LiveServer:
    """Where a started server listens and how to reach it."""

    url: str
    key: str
    data_dir: Path
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str, key: str) -> bool:
    request = urllib.request.Request(url + READY_PATH, headers={KEY_HEADER: key})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except urllib.error.HTTPError:
        # The server is up but unhappy (e.g. 401/500): ready is ready; the test will say why.
        return True
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


@contextlib.contextmanager
def live_server(
    data_dir: Path | None = None,
    *,
    key: str | None = None,
    env: dict[str, str] | None = None,
    startup_timeout_s: float = 60.0,
    python: str = sys.executable,
    port: int | None = None,
) -> Iterator[LiveServer]:
    """Start ``python -m tagwise serve`` on a free port (or ``port``: a server started again where a
    stopped one listened); yield once it answers; stop it after.

    ``data_dir`` defaults to a fresh temporary folder (removed afterwards). ``env`` adds or
    overrides environment variables for the server process.
    """
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tagwise-live-")))
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        key = key or secrets.token_hex(16)
        port = port or free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = data_dir / "server.log"
        server_env = {
            **os.environ,
            **_pythonpath_for(python),
            "TAGWISE_DATA_DIR": str(data_dir),
            "TAGWISE_API_KEY": key,
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        log_file = stack.enter_context(open(log_path, "ab"))  # a server started again in the same folder: both logs
        process = subprocess.Popen(
            [python, "-m", "tagwise", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=server_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        server = LiveServer(url=url, key=key, data_dir=data_dir, process=process, log_path=log_path)
        try:
            _wait_until_ready(server, startup_timeout_s)
            yield server
        finally:
            _stop(process)


def _pythonpath_for(python: str) -> dict[str, str]:
    """Let the server import the working tree's ``src`` when tagwise is not installed (yet)."""
    if python != sys.executable or importlib.util.find_spec("tagwise") is not None:
        return {}
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(SRC_DIR), os.environ.get("PYTHONPATH")]))}


def _wait_until_ready(server: LiveServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"tagwise server exited with code {server.process.returncode} before answering.\n"
                f"--- server output ---\n{server.log()}"
            )
        if _answers(server.url, server.key):
            return
        time.sleep(0.2)
    raise RuntimeError(
        f"tagwise server did not answer GET {server.url}{READY_PATH} within {timeout_s:.0f} s.\n"
        f"--- server output ---\n{server.log()}"
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
