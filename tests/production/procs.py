"""Real tagwise processes for the production tests: servers (``serve [--workers N]``) and workers.

Each runs in its own session (process group), so a test can SIGKILL a server with all its
uvicorn children, or one worker alone, exactly as an OOM killer or a crash would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.live_server import free_port

HEADER = "Ocp-Apim-Subscription-Key"


@dataclass
class Proc:
    process: subprocess.Popen
    log_path: Path
    url: str | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group (a uvicorn supervisor and its workers, or a worker and its training child)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


def environment(data_dir: Path, key: str, database_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {**os.environ, "TAGWISE_DATA_DIR": str(data_dir), "TAGWISE_API_KEY": key, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
           "TAGWISE_LOG_LEVEL": "warning"}
    env.pop("TAGWISE_DATABASE_URL", None)
    if database_url:
        env["TAGWISE_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def _spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "tagwise", *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def start_server(env: dict[str, str], *, workers: int = 1, timeout_s: float = 60) -> Proc:
    port = free_port()
    log_path = Path(env["TAGWISE_DATA_DIR"]) / f"server-{port}.log"
    Path(env["TAGWISE_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    process = _spawn(["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)], env, log_path)
    proc = Proc(process, log_path, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{proc.log()}")
        try:
            response = httpx.get(f"{proc.url}/language/authoring/analyze-text/projects", params={"api-version": "2023-04-01"},
                                 headers={HEADER: env["TAGWISE_API_KEY"]}, timeout=2)
            if response.status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the server did not answer in {timeout_s} s:\n{proc.log()}")


def start_worker(env: dict[str, str], name: str = "worker") -> Proc:
    Path(env["TAGWISE_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    log_path = Path(env["TAGWISE_DATA_DIR"]) / f"{name}.log"
    return Proc(_spawn(["worker"], env, log_path), log_path)


def parent_pid(pid: int) -> int:
    """The parent of a process, from /proc (Linux)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def claimant(job: dict) -> int:
    """The process id a running job is claimed by (its runner: a server or worker process)."""
    return int((job["claimed_by"] or ":0").rpartition(":")[2])


def training_child(runner_pid: int) -> int | None:
    """The training process a runner started (its child running ``tagwise.jobs.train``), if any."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if parent_pid(int(entry.name)) == runner_pid and b"tagwise.jobs.train" in (entry / "cmdline").read_bytes():
                return int(entry.name)
        except (OSError, ValueError, IndexError):  # it ended meanwhile
            continue
    return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state != "Z"


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.05, message: str = "condition not met in time"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message)
