"""The whole lifecycle on full public datasets, through a real tagwise server over HTTP.

Starts `python -m tagwise serve` on a free loopback port with a fresh data dir, imports the
official train and test splits (manual evaluation), trains, reads the evaluation, deploys,
classifies the test set through the deployment (after one first call, timed on its own: it waits
for the model to load), and prints a markdown table.

    .venv/bin/python benchmarks/lifecycle.py --recipe linear --datasets banking77,goemotions
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("TAGWISE_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
V = {"api-version": "2023-04-01"}
A = "/language/authoring/analyze-text/projects"
# projects not in English (one language per project is the Azure way; sib200 mixes three)
LANGUAGE = {"sib200_de_es_fr": {"language": "de", "multilingual": True}}
KIND = {"goemotions": "CustomMultiLabelClassification"}


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(client: httpx.Client, url: str) -> dict:
    while True:
        body = client.get(url).json()
        if body["status"] in ("succeeded", "failed", "cancelled"):
            return body
        time.sleep(0.5)


def run(client: httpx.Client, name: str, recipe: str) -> dict:
    kind = KIND.get(name, "CustomSingleLabelClassification")
    multi = kind.endswith("MultiLabelClassification")
    train, test = read(DATASETS / name / "train.jsonl"), read(DATASETS / name / "test.jsonl")
    classes = sorted({c for r in train + test for c in r["labels"]})
    docs = []
    for split, rows in (("Train", train), ("Test", test)):
        for i, r in enumerate(rows):
            doc = {"location": f"{split}-{i}.txt", "dataset": split, "text": r["text"]}
            doc.update({"classes": [{"category": c} for c in r["labels"]]} if multi else {"class": {"category": r["labels"][0]}})
            docs.append(doc)
    body = {"projectFileVersion": "2022-05-01", "stringIndexType": "Utf16CodeUnit",
            "metadata": {"projectName": name, "projectKind": kind, "storageInputContainerName": name, **LANGUAGE.get(name, {"language": "en"})},
            "assets": {"projectKind": kind, "classes": [{"category": c} for c in classes], "documents": docs}}
    started = time.perf_counter()
    response = client.post(f"{A}/{name}/:import", params=V, json=body)
    response.raise_for_status()
    wait(client, response.headers["Operation-Location"])
    import_s = time.perf_counter() - started

    started = time.perf_counter()
    response = client.post(f"{A}/{name}/:train", params=V, json={"modelLabel": "m", "trainingConfigVersion": recipe, "evaluationOptions": {"kind": "manual"}})
    response.raise_for_status()
    job = wait(client, response.headers["Operation-Location"])
    train_wall = time.perf_counter() - started
    if job["status"] != "succeeded":
        raise SystemExit(f"training failed: {job}")
    model = client.get(f"{A}/{name}/models/m", params=V).json()
    summary = client.get(f"{A}/{name}/models/m/evaluation/summary-result", params=V).json()
    evaluation = summary["customMultiLabelClassificationEvaluation" if multi else "customSingleLabelClassificationEvaluation"]

    client.put(f"{A}/{name}/deployments/prod", params=V, json={"trainedModelLabel": "m"}).raise_for_status()
    # the first answer waits for the model to load (deploying starts loading it in the background);
    # it is reported on its own, and the throughput below is the steady state
    started = time.perf_counter()
    client.post(f"/language/tagwise/projects/{name}/deployments/prod:classify",
                json={"documents": [{"id": "first", "text": test[0]["text"]}]}).raise_for_status()
    first_s = time.perf_counter() - started
    predicted = []
    started = time.perf_counter()
    for start in range(0, len(test), 1000):
        chunk = test[start : start + 1000]
        response = client.post(f"/language/tagwise/projects/{name}/deployments/prod:classify",
                               json={"documents": [{"id": str(start + i), "text": r["text"]} for i, r in enumerate(chunk)]})
        response.raise_for_status()
        predicted += [[c["category"] for c in d["class"]] for d in response.json()["documents"]]
    classify_s = time.perf_counter() - started
    if multi:
        tp = sum(len(set(p) & set(r["labels"])) for p, r in zip(predicted, test, strict=True))
        n_pred = sum(len(p) for p in predicted)
        n_true = sum(len(r["labels"]) for r in test)
        deployed_score = 2 * tp / (n_pred + n_true)
    else:
        deployed_score = sum(p[0] == r["labels"][0] for p, r in zip(predicted, test, strict=True)) / len(test)
    return {"dataset": name, "kind": "multi" if multi else "single", "recipe": recipe, "train docs": len(train), "test docs": len(test),
            "deployed accuracy / micro-F1": round(deployed_score, 4), "eval micro-F1": round(evaluation["microF1"], 4),
            "eval macro-F1": round(evaluation["macroF1"], 4), "import s": round(import_s, 1),
            "training s (model)": model["lastTrainingDurationInSeconds"], "training s (wall)": round(train_wall, 1),
            "first answer after deploying s": round(first_s, 2),
            "classify docs/s (HTTP, 1,000 per call)": round(len(test) / classify_s)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="latest", help="trainingConfigVersion (a recipe name or 'latest')")
    parser.add_argument("--datasets", default="banking77,goemotions")
    args = parser.parse_args()
    port, key = free_port(), "bench-key"
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, TAGWISE_DATA_DIR=data, TAGWISE_API_KEY=key, TAGWISE_PORT=str(port), HF_HUB_OFFLINE="1")
        server = subprocess.Popen([sys.executable, "-m", "tagwise", "serve"], env=env, stdout=subprocess.DEVNULL)
        try:
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Ocp-Apim-Subscription-Key": key}, timeout=600)
            for _ in range(120):
                try:
                    client.get(A, params=V)
                    break
                except httpx.TransportError:
                    time.sleep(0.5)
            rows = [run(client, name, args.recipe) for name in args.datasets.split(",")]
        finally:
            server.terminate()
            server.wait()
    headers = list(rows[0])
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(str(row[h]) for h in headers) + " |")


if __name__ == "__main__":
    main()
