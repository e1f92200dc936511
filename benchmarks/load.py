"""Load: N concurrent clients on loopback against a real server, sync and async classification.

Prepares a data dir (banking77 train split, the chosen recipe, deployed as ``prod``), starts
``python -m tagwise serve --workers W`` on it, then runs each phase for a bounded time:

* ``sync``: every client POSTs ``--docs`` documents to the synchronous ``:classify`` route;
* ``async``: every client submits an analyze-text job (``--async-docs`` documents, at most 25)
  and polls it until it ends (the latency is submit -> succeeded).

A client sends its next request when the previous one is answered, or, with ``--rate R``,
at most R requests a second (paced, like real callers; latency is still measured from send).
Prints, per phase: requests, documents/s, p50/p95/p99 latency, errors; and the server's
memory (RSS of all its processes) sampled every second.

    .venv/bin/python benchmarks/load.py --clients 50 --duration 30 --docs 50 --rate 1.2 --phases sync   # the issue target
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("TAGWISE_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
KEY = "load-benchmark-key-0123456789"
HEADER = "Ocp-Apim-Subscription-Key"
V = {"api-version": "2023-04-01"}
SINGLE = "CustomSingleLabelClassification"


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def prepare(data_dir: Path, recipe: str, database_url: str | None) -> None:
    """Import banking77's train split, train ``recipe``, deploy it as ``prod`` (in this process)."""
    sys.path.insert(0, str(ROOT / "src"))
    from tagwise.core import deployments, training
    from tagwise.core.context import Context
    from tagwise.core.documents import import_project
    from tagwise.settings import Settings
    from tagwise.storage import records

    rows = read_jsonl(DATASETS / "banking77" / "train.jsonl")
    classes = sorted({r["labels"][0] for r in rows})
    docs = [{"location": f"d{i}.txt", "text": r["text"], "class": {"category": r["labels"][0]}} for i, r in enumerate(rows)]
    project = {"projectFileVersion": "2022-05-01", "stringIndexType": "Utf16CodeUnit",
               "metadata": {"projectName": "bank", "projectKind": SINGLE, "language": "en", "storageInputContainerName": "bank"},
               "assets": {"projectKind": SINGLE, "classes": [{"category": c} for c in classes], "documents": docs}}
    ctx = Context.open(Settings(data_dir=data_dir, api_key=KEY, database_url=database_url))
    try:
        import_project(ctx, "bank", project)
        job = training.start(ctx, "bank", {"modelLabel": "m1", "trainingConfigVersion": recipe})
        with ctx.db.write() as conn:
            records.claim_jobs(conn, "train", "benchmark", 1)
        training.run(ctx, job["id"], lambda _p: None)
        deployments.deploy(ctx, "bank", "prod", {"trainedModelLabel": "m1"})
    finally:
        ctx.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path, workers: int, database_url: str | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    # its clients share one key: the per-key cap on unfinished analyze jobs would measure 429s, not throughput
    env = {**os.environ, "TAGWISE_DATA_DIR": str(data_dir), "TAGWISE_API_KEY": KEY, "HF_HUB_OFFLINE": "1", "TAGWISE_LOG_LEVEL": "warning",
           "PYTHONPATH": str(ROOT / "src"), "TAGWISE_MAX_PENDING_JOBS_PER_KEY": "0"}
    if database_url:
        env["TAGWISE_DATABASE_URL"] = database_url
    process = subprocess.Popen([sys.executable, "-m", "tagwise", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/language/authoring/analyze-text/projects", params=V, headers={HEADER: KEY}, timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def tree_pids(pid: int) -> list[int]:
    """A process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    total = 0
    for current in tree_pids(pid):
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its descendants."""
    ticks = 0
    for current in tree_pids(pid):
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


class MemorySampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], threading.Event()
        self.started = time.monotonic()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.samples.append((time.monotonic() - self.started, tree_rss_mb(self.pid)))


class Connection:
    """A lean HTTP/1.1 keep-alive client on asyncio streams: the load generator shares the
    server's CPUs, so it must cost far less per request than the server does."""

    def __init__(self, url: str) -> None:
        self.host, self.port = url.removeprefix("http://").split(":")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, target: str, body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, int(self.port))
        head = f"{method} {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{HEADER}: {KEY}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            payload = await self.reader.readexactly(int(headers.get("content-length", "0")))
        except (asyncio.IncompleteReadError, ConnectionError):
            self.writer = None
            raise
        return status, headers, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def client_loop(kind: str, url: str, texts: list[str], docs: int, rate: float, until: float, seed: int, out: dict) -> None:
    conn = Connection(url)
    n = seed
    # Paced clients start at random phases of their period, as independent callers would.
    next_at = time.monotonic() + (random.Random(seed).random() / rate if rate else 0.0)
    try:
        while time.monotonic() < until:
            if rate:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += 1.0 / rate
            batch = [{"id": str(i), "text": texts[(n * docs + i) % len(texts)]} for i in range(docs)]
            n += 1
            started = time.monotonic()
            try:
                ok = await (sync_call if kind == "sync" else async_call)(conn, batch)
            except (OSError, asyncio.IncompleteReadError, KeyError, ValueError) as exc:
                ok = False
                out.setdefault("error_samples", []).append(repr(exc)[:200])
            out["latencies" if ok else "errors"].append(time.monotonic() - started)
            out["docs"] += docs if ok else 0
    finally:
        await conn.close()


async def sync_call(conn: Connection, batch: list[dict]) -> bool:
    body = json.dumps({"documents": batch}).encode()
    status, _headers, payload = await conn.request("POST", "/language/tagwise/projects/bank/deployments/prod:classify", body)
    return status == 200 and len(json.loads(payload)["documents"]) == len(batch)


async def async_call(conn: Connection, batch: list[dict]) -> bool:
    body = json.dumps({"analysisInput": {"documents": batch},
                       "tasks": [{"kind": SINGLE, "taskName": "0", "parameters": {"projectName": "bank", "deploymentName": "prod"}}]}).encode()
    status, headers, _payload = await conn.request("POST", "/language/analyze-text/jobs?api-version=2023-04-01", body)
    if status != 202:
        return False
    location = headers["operation-location"].split("127.0.0.1", 1)[1].split("/", 1)[1]
    while True:
        await asyncio.sleep(0.1)
        _status, _headers, payload = await conn.request("GET", "/" + location)
        state = json.loads(payload)
        if state["status"] in ("succeeded", "failed", "cancelled", "partiallyCompleted"):
            return state["status"] == "succeeded" and len(state["tasks"]["items"][0]["results"]["documents"]) == len(batch)


def run_phase(kind: str, url: str, texts: list[str], args: argparse.Namespace, server_pid: int) -> dict:
    docs = args.docs if kind == "sync" else args.async_docs
    out: dict = {"latencies": [], "errors": [], "docs": 0}

    async def main() -> None:
        until = time.monotonic() + args.duration
        await asyncio.gather(*(client_loop(kind, url, texts, docs, args.rate, until, i * 997, out) for i in range(args.clients)))

    started, server_cpu, own_cpu = time.monotonic(), tree_cpu_s(server_pid), time.process_time()
    asyncio.run(main())
    elapsed = time.monotonic() - started
    server_cpu, own_cpu = tree_cpu_s(server_pid) - server_cpu, time.process_time() - own_cpu
    lat = sorted(out["latencies"]) or [float("nan")]

    def pct(p: float) -> float:
        return 1000 * lat[min(len(lat) - 1, int(p * len(lat)))]

    return {"phase": kind, "clients": args.clients, "docs/request": docs, "requests": len(out["latencies"]) + len(out["errors"]),
            "docs/s": out["docs"] / elapsed, "p50 ms": pct(0.50), "p95 ms": pct(0.95), "p99 ms": pct(0.99),
            "mean ms": 1000 * statistics.fmean(lat), "errors": len(out["errors"]), "error samples": out.get("error_samples", [])[:3],
            "server cpu": server_cpu / elapsed, "client cpu": own_cpu / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase")
    parser.add_argument("--docs", type=int, default=20, help="documents per synchronous request")
    parser.add_argument("--async-docs", type=int, default=25, help="documents per analyze job (Azure's limit: 25)")
    parser.add_argument("--rate", type=float, default=0.0, help="requests/s per client (0: next request as soon as answered)")
    parser.add_argument("--workers", type=int, default=2, help="server processes (tagwise serve --workers)")
    parser.add_argument("--phases", default="sync,async")
    parser.add_argument("--recipe", default="linear")
    parser.add_argument("--database-url", default=None, help="e.g. postgresql://... (default: SQLite in a temp dir)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured traffic first")
    args = parser.parse_args()

    texts = [r["text"] for r in read_jsonl(DATASETS / "banking77" / "test.jsonl")]
    with tempfile.TemporaryDirectory(prefix="tagwise-load-") as tmp:
        data_dir = Path(tmp)
        started = time.monotonic()
        prepare(data_dir, args.recipe, args.database_url)
        print(f"prepared banking77 ({args.recipe}) in {time.monotonic() - started:.0f} s; starting {args.workers} server process(es)", flush=True)
        process, url = start_server(data_dir, args.workers, args.database_url)
        sampler = MemorySampler(process.pid)
        try:
            if args.warmup:
                warm = argparse.Namespace(**{**vars(args), "duration": args.warmup})
                run_phase("sync", url, texts, warm, process.pid)
            sampler.start()
            results = [run_phase(kind, url, texts, args, process.pid) for kind in args.phases.split(",")]
        finally:
            sampler.stop.set()
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    pacing = f"{args.rate:g} req/s per client" if args.rate else "closed loop (no pause between requests)"
    print(f"\nload average at the end (other processes included): {os.getloadavg()[0]:.1f}")
    print(f"{args.clients} clients, {args.duration:g} s per phase, {pacing}, {args.workers} server process(es), recipe {args.recipe}, "
          f"{os.cpu_count()} CPUs (the load generator shares them)\n")
    print("| phase | clients | docs/request | requests | docs/s | p50 ms | p95 ms | p99 ms | errors | server CPUs busy | load generator CPUs busy |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['phase']} | {r['clients']} | {r['docs/request']} | {r['requests']:,} | {r['docs/s']:,.0f} | {r['p50 ms']:.1f} | "
              f"{r['p95 ms']:.1f} | {r['p99 ms']:.1f} | {r['errors']} | {r['server cpu']:.2f} | {r['client cpu']:.2f} |")
        for sample in r["error samples"]:
            print(f"  error: {sample}")
    mem = sampler.samples
    if mem:
        step = max(1, len(mem) // 12)
        print("\nserver memory (RSS of all its processes), MB over time:")
        print("  " + "  ".join(f"{t:.0f}s:{mb:.0f}" for t, mb in mem[::step]))
        first, last, peak = mem[0][1], mem[-1][1], max(mb for _, mb in mem)
        print(f"  first {first:.0f} MB, last {last:.0f} MB, peak {peak:.0f} MB, change {last - first:+.0f} MB")


if __name__ == "__main__":
    main()
