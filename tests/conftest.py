"""Shared fixtures: a real SQLite store in a temp dir, the app in process, the shared datasets."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
KEY = "test-key-0123456789"


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def missing_component(message: str) -> None:
    """A component a test needs is not installed: fail in CI (CI=true must run everything), skip elsewhere."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def datasets() -> Path:
    if not DATASETS.is_dir():
        missing_component(f"the shared datasets are missing at {DATASETS} (they live in ../shared beside the repo)")
    return DATASETS


@pytest.fixture(scope="session")
def encoder_folder(tmp_path_factory) -> Path:
    """A sentence-transformers folder (what TAGWISE_ENCODER_MODEL_DIR takes) holding a tiny MPNet
    with random weights: another architecture than MiniLM (no token types), small enough for
    tests. The tokenizer is the bundled MiniLM's (its ids fit MPNet's vocabulary)."""
    import shutil

    import torch
    from transformers import MPNetConfig, MPNetModel

    from tagwise.ml.encoder import model_dir

    folder = tmp_path_factory.mktemp("encoders") / "tiny-mpnet"
    torch.manual_seed(0)
    MPNetModel(MPNetConfig(vocab_size=30527, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                           intermediate_size=128)).save_pretrained(folder)  # model.safetensors
    for name in ("tokenizer.json", "sentence_bert_config.json", "1_Pooling/config.json"):
        (folder / name).parent.mkdir(exist_ok=True)
        shutil.copy(model_dir() / name, folder / name)
    return folder


@pytest.fixture
def settings(tmp_path):
    from tagwise.settings import Settings

    return Settings(data_dir=tmp_path / "data", api_key=KEY)


@pytest.fixture
def ctx(settings):
    from tagwise.core.context import Context

    context = Context.open(settings)
    yield context
    context.close()


def open_client(settings):
    """The real app (real store, real job runner) through an in-process HTTP client, with the
    key; use it as a context manager (that runs the app's start and stop)."""
    from fastapi.testclient import TestClient

    from tagwise.server import create_app

    test_client = TestClient(create_app(settings), base_url="http://testserver")
    test_client.headers["Ocp-Apim-Subscription-Key"] = KEY
    return test_client


@pytest.fixture
def client(settings):
    """The real app (real store, real job runner) through an in-process HTTP client."""
    with open_client(settings) as test_client:
        yield test_client


def take_per_class(rows: list[dict], n_classes: int, per_class: int) -> list[dict]:
    by_class: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_class[row["labels"][0]].append(row)
    chosen = sorted(by_class)[:n_classes]
    return [row for label in chosen for row in by_class[label][:per_class]]


@pytest.fixture(scope="session")
def banking(datasets) -> dict[str, list[dict]]:
    train = take_per_class(read_jsonl(datasets / "banking77" / "train.jsonl"), 6, 25)
    labels = {r["labels"][0] for r in train}
    test = [r for r in read_jsonl(datasets / "banking77" / "test.jsonl") if r["labels"][0] in labels]
    return {"train": train, "test": test}


@pytest.fixture(scope="session")
def emotions(datasets) -> list[dict]:
    rows = read_jsonl(datasets / "goemotions" / "train.jsonl")
    keep = {"gratitude", "love", "anger", "amusement"}
    out = [r for r in rows if set(r["labels"]) & keep][:240]
    return [dict(r, labels=[label for label in r["labels"] if label in keep]) for r in out]
