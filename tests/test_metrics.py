"""tagwise.metrics across processes: with ``serve --workers N`` every scrape counts every process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tagwise.cli.serve import AddressUnavailable, check_address
from tagwise.metrics import FOLDER_PREFIX, MULTIPROCESS_ENV, remove_abandoned_folders, shared_between_processes
from tests.api.conftest import A, V
from tests.production.procs import HEADER, alive, environment, parent_pid, start_server, wait_for

KEY = "metrics-key-0123456789"


def test_serve_gives_its_processes_a_new_folder_and_removes_it(monkeypatch):
    monkeypatch.delenv(MULTIPROCESS_ENV, raising=False)
    with shared_between_processes() as folder:
        assert os.environ[MULTIPROCESS_ENV] == str(folder) and folder.is_dir()
    assert MULTIPROCESS_ENV not in os.environ and not folder.exists()


def test_a_folder_given_is_emptied_of_an_earlier_runs_counts(monkeypatch, tmp_path):
    (tmp_path / "counter_12345.db").write_bytes(b"old counts")
    (tmp_path / "notes.txt").write_text("not ours")
    monkeypatch.setenv(MULTIPROCESS_ENV, str(tmp_path))
    with shared_between_processes() as folder:
        assert folder == tmp_path and not (tmp_path / "counter_12345.db").exists()
    assert (tmp_path / "notes.txt").exists() and os.environ[MULTIPROCESS_ENV] == str(tmp_path)


def test_a_folder_left_by_a_killed_serve_is_removed_and_no_other(tmp_path):
    ended = subprocess.Popen([sys.executable, "-c", ""])
    ended.wait()
    abandoned = tmp_path / f"{FOLDER_PREFIX}{ended.pid}-k3x9"
    in_use = tmp_path / f"{FOLDER_PREFIX}{os.getpid()}-a1b2"
    nameless = tmp_path / f"{FOLDER_PREFIX}q7w8e9r0"  # before owners were named: nobody can tell whether it is in use
    not_ours = tmp_path / f"prometheus-{ended.pid}-z5"
    for folder in (abandoned, in_use, nameless, not_ours):
        folder.mkdir()
        (folder / "counter_1.db").write_bytes(b"counts")
    a_file = tmp_path / f"{FOLDER_PREFIX}{ended.pid}-file"
    a_file.write_text("not a folder")

    assert remove_abandoned_folders(tmp_path) == [abandoned]
    assert not abandoned.exists() and all(path.exists() for path in (in_use, nameless, not_ours, a_file))


def test_a_scrape_during_a_store_outage_says_so_and_keeps_the_counters(tmp_path):
    from tagwise.core.context import Context
    from tagwise.metrics import Metrics
    from tagwise.settings import Settings

    # a PostgreSQL nobody listens on: what a scrape meets while the store is down
    ctx = Context(Settings(data_dir=tmp_path, database_url="postgresql://tagwise@127.0.0.1:9/tagwise?connect_timeout=2"))
    try:
        metrics = Metrics(ctx)
        metrics.classified("classify", 5)
        body, content_type = metrics.render()
    finally:
        ctx.close()
    text = body.decode()
    assert content_type.startswith("text/plain")
    assert "tagwise_store_up 0.0" in text and 'tagwise_documents_classified_total{source="classify"} 5.0' in text
    assert "tagwise_jobs{" not in text


def listed(samples) -> float:
    """The count of project listings answered 200 among ``samples``."""
    return sum(s.value for s in samples if s.name == "tagwise_http_requests_total" and s.labels.get("route") == A
               and s.labels.get("status") == "2xx")


def test_every_scrape_counts_the_requests_of_every_process(tmp_path):
    env = environment(tmp_path / "data", KEY, TAGWISE_LOG_LEVEL="info")
    env.pop(MULTIPROCESS_ENV, None)
    server = start_server(env, workers=2)
    try:
        workers = wait_for(lambda: [pid for pid in _children(server.pid) if MULTIPROCESS_ENV in _environ(pid)] or None,
                           message="no worker process")
        folder = Path(_environ(workers[0])[MULTIPROCESS_ENV])
        wait_for(lambda: len(list(folder.glob("counter_*.db"))) == 2, message="the second worker did not start")

        def per_process() -> dict[str, float]:
            return {path.name: listed(s for m in MultiProcessCollector.merge([str(path)], accumulate=False) for s in m.samples)
                    for path in folder.glob("counter_*.db")}

        # a new connection each time, so the kernel hands them to both processes (until each answered some)
        answered = 1  # start_server's: it waits for a 200
        for _ in range(200):
            response = httpx.get(f"{server.url}{A}", params=V, headers={HEADER: KEY})
            assert response.status_code == 200
            answered += 1
            if sum(1 for count in per_process().values() if count) == 2:
                break
        # a request is counted once its last byte is sent, which the client may see first
        wait_for(lambda: sum(per_process().values()) == answered, message=f"not all {answered} requests counted")
        counts = per_process()
        assert sum(1 for count in counts.values() if count) == 2, counts

        scrapes = []
        for _ in range(6):
            text = httpx.get(f"{server.url}/metrics", headers={HEADER: KEY}).text
            scrapes.append(listed(s for family in text_string_to_metric_families(text) for s in family.samples))
        assert scrapes == [answered] * 6  # whichever process answered
    finally:
        server.stop()
    assert f'bootstrap "GET {A}" 200' in server.log()  # the access lines of `serve`, from the workers
    assert not folder.exists()


def test_the_workers_of_a_killed_serve_end_with_it_and_its_folder_goes_at_the_next_start(tmp_path):
    env = environment(tmp_path / "data", KEY, TAGWISE_LOG_LEVEL="info")
    env.pop(MULTIPROCESS_ENV, None)
    server = start_server(env, workers=2)
    children = []
    try:
        workers = wait_for(lambda: len(found := [pid for pid in _children(server.pid) if b"spawn_main" in _cmdline(pid)]) == 2 and found,
                           message="the second worker did not start")
        # both serving (their signal handlers set): a worker still starting dies of the SIGTERM without its last line
        wait_for(lambda: all(f"Started server process [{pid}]" in server.log() for pid in workers), timeout=60,
                 message="a worker did not start serving")
        folder = Path(_environ(workers[0])[MULTIPROCESS_ENV])
        children = _children(server.pid)  # the workers and multiprocessing's resource tracker
        server.process.kill()  # the supervisor alone, as an OOM killer would: it stops nothing on its way out
        server.process.wait(timeout=10)

        wait_for(lambda: not any(alive(pid) for pid in children), timeout=15, message="a worker outlived its supervisor")
        wait_for(lambda: _can_bind(server.url), timeout=5, message="the port is still held")
        log = server.log()
        assert all(f"Finished server process [{pid}]" in log for pid in workers), log  # SIGTERM: a clean stop
        assert folder.is_dir()  # nobody was left to remove it

        with shared_between_processes():  # what the next `serve --workers N` does first
            assert not folder.exists()
    finally:
        for pid in children:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        server.kill()


def _can_bind(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        check_address(host, int(port))
    except AddressUnavailable:
        return False
    return True


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and parent_pid(int(entry.name)) == pid:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):  # it ended meanwhile
            continue
    return found


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    return dict(item.decode(errors="replace").partition("=")[::2] for item in raw.split(b"\0") if b"=" in item)
