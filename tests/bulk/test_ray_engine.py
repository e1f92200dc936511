"""The Ray engine on a local Ray instance writes exactly what the local engine (`tagwise classify`) writes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tagwise.cli import app
from tagwise.settings import Settings
from tests.production.conftest import KEY, prepare

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # from inside ray.data


@pytest.fixture(scope="module")
def local_ray():
    import signal

    import ray

    from tagwise.bulk.ray_engine import connect

    def ours(_signum, _frame):  # what tagwise classify installs: SIGTERM as Ctrl-C
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, ours)
    try:
        connect(num_cpus=2)
        # ray.init put its own, which ended tagwise classify with exit code 15 and a C++ stack dump, not "interrupted"
        assert signal.getsignal(signal.SIGTERM) is ours
    finally:
        signal.signal(signal.SIGTERM, before)
    yield
    ray.shutdown()


def test_ray_engine_matches_the_local_engine(tmp_path, banking, local_ray):
    from tagwise.bulk.ray_engine import classify_file_with_ray

    settings = Settings(data_dir=tmp_path / "data", api_key=KEY, max_document_characters=300)
    prepare(settings, banking["train"])
    source = tmp_path / "input.jsonl"
    rows = [{"id": f"t{i}", "text": r["text"]} for i, r in enumerate(banking["test"] * 3)][:2500]
    rows[5] = {"text": "no id: the line number is the id"}
    rows[7] = {"id": "empty", "text": "   "}
    rows[9] = {"id": "long", "text": "word " * 100}
    rows[11] = {"id": "arabic", "text": "أين بطاقتي؟ لقد فقدتها أمس"}  # not what an English model was trained for
    rows[13] = {"id": "declared", "text": "my card got stolen", "language": "de"}  # declared in another language
    rows[15] = {"id": "no code", "text": "my card got stolen", "language": "english"}
    source.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")  # a blank line at the end is skipped

    ray_out = tmp_path / "ray.jsonl"
    assert classify_file_with_ray(settings, "bank", "prod", source, ray_out, batch_size=500, top=2) == len(rows)

    # what a user runs: `tagwise classify ... --engine ray` (in process, so it joins the Ray started above)
    cli_out = tmp_path / "cli-ray.jsonl"
    result = CliRunner().invoke(app, ["classify", "bank", "prod", str(source), "-o", str(cli_out), "--top", "2", "--engine", "ray",
                                      "--batch-size", "500"],
                                env={"TAGWISE_DATA_DIR": str(settings.data_dir), "TAGWISE_MAX_DOCUMENT_CHARACTERS": "300"})
    assert result.exit_code == 3, result.output  # its documents over 300 characters could not be classified, as locally
    assert "; 3 could not be classified (see their error field)" in result.output
    assert cli_out.read_text() == ray_out.read_text()

    local_out = tmp_path / "local.jsonl"
    env = {"TAGWISE_DATA_DIR": str(settings.data_dir), "TAGWISE_MAX_DOCUMENT_CHARACTERS": "300", "HF_HUB_OFFLINE": "1",
           "PATH": "/usr/bin:/bin"}
    local = subprocess.run([sys.executable, "-m", "tagwise", "classify", "bank", "prod", str(source), "-o", str(local_out), "--top", "2"],
                           env=env, check=False, capture_output=True, text=True)
    assert local.returncode == 3 and "; 3 could not be classified" in local.stderr, local.stderr  # the same exit code as Ray's
    ray_lines, local_lines = ray_out.read_text().splitlines(), local_out.read_text().splitlines()
    assert ray_lines == local_lines
    parsed = [json.loads(line) for line in ray_lines]
    assert parsed[5]["id"] == "6" and parsed[7]["error"] == "Document text is empty." and "too long" in parsed[9]["error"]
    assert len(parsed[0]["predictions"]) == 2
    assert [w["code"] for w in parsed[11]["warnings"]] == ["LanguageNotTrained"] and len(parsed[11]["predictions"]) == 2
    assert [w["code"] for w in parsed[13]["warnings"]] == ["LanguageNotTrained"]
    assert "is not a language code" in parsed[15]["error"]
    assert sum("warnings" in row for row in parsed) == 2  # only a document that has some


def test_ray_workers_embed_with_the_servers_own_encoder(tmp_path, banking, local_ray, encoder_folder):
    # TAGWISE_ENCODER_MODEL_DIR reaches the workers, which are processes of their own
    from tagwise.bulk.ray_engine import classify_with_ray

    settings = Settings(data_dir=tmp_path / "data", api_key=KEY, encoder_model_dir=encoder_folder)
    prepare(settings, banking["train"][:300], recipe="ensemble")
    docs = [(f"t{i}", row["text"]) for i, row in enumerate(banking["test"][:200])]
    chunks = list(classify_with_ray(settings, "bank", "prod", docs, batch_size=70, top=1))
    rows = [row for chunk in chunks for row in chunk]
    assert [len(chunk) for chunk in chunks] == [70, 70, 60]  # a batch at a time, for the caller to write
    assert [row["id"] for row in rows] == [doc_id for doc_id, _ in docs]
    assert all("error" not in row and len(row["predictions"]) == 1 for row in rows)
    # the same bits as the local engine, batches that do not divide the input included: the int8 encoder's vectors
    # move with their batch, and Ray Data's blocks made other batches (1,333 of 2,521 lines differed)
    from tagwise.bulk import batches
    from tagwise.cli.backends import LocalBackend
    from tagwise.cli.classify import classify_batches, records

    backend = LocalBackend(settings, migrate=False)
    try:
        local = [row for batch, result in classify_batches(backend, "bank", "prod", batches(iter([(*d, None) for d in docs]), 70), 1, 1)
                 for row in records(batch, result)]
    finally:
        backend.close()
    assert local == rows


def test_the_batches_before_a_bad_line_are_written_and_ray_failures_are_one_error(tmp_path, banking, local_ray, monkeypatch):
    # the engine read 100,000 documents before classifying any: a bad line at 30,001 wrote nothing, Ctrl-C lost
    # everything since the last 100,000, and a task's error was a traceback of 433 lines
    from tagwise.bulk.ray_engine import RayUnavailable, _check_reachable, classify_with_ray
    from tagwise.errors import InvalidArgument
    from tests.support.live_server import free_port

    settings = Settings(data_dir=tmp_path / "data", api_key=KEY)
    prepare(settings, banking["train"][:120])

    def bad_at_250():
        for i in range(250):
            yield f"t{i}", banking["test"][i % len(banking["test"])]["text"]
        raise InvalidArgument("in.jsonl:251: not a JSON line")

    written = []
    with pytest.raises(InvalidArgument, match="251"):
        for chunk in classify_with_ray(settings, "bank", "prod", bad_at_250(), batch_size=100):
            written += chunk
    assert [row["id"] for row in written] == [f"t{i}" for i in range(250)]
    # a model deployed under the name mid-run answers from the next batch on, as with the local engine (a probe's
    # run went on answering from the model before, deleted since, for 355,245 lines)
    from tagwise.core import deployments
    from tagwise.core.context import Context

    texts = [(f"t{i}", banking["test"][i % len(banking["test"])]["text"]) for i in range(300)]

    def swapping_at_150():
        for i, doc in enumerate(texts):
            if i == 150:
                ctx = Context.open(settings, migrate=False)
                deployments.deploy(ctx, "bank", "prod", {"trainedModelLabel": "m2"})
                ctx.close()
            yield doc

    swapped = [row for chunk in classify_with_ray(settings, "bank", "prod", swapping_at_150(), batch_size=100, top=3) for row in chunk]
    before = [row for chunk in classify_with_ray(settings, "bank", "staging", texts[:100], batch_size=100, top=3) for row in chunk]
    after = [row for chunk in classify_with_ray(settings, "bank", "staging", texts, batch_size=100, top=3) for row in chunk]
    assert swapped[100:] == after[100:] and swapped[:100] != before  # m2 from the batch read after the deploy, m1 before

    # a batch that fails ends the run there: the batches after it, classified in parallel, were written, leaving a
    # gap that the rerun refused as another input's output (a review)
    from tagwise.bulk import ray_engine

    real = ray_engine._classify_rows

    def failing_at_t100(items, spec):
        if items[0][0] == "t100":
            raise InvalidArgument("the model folder of m2 is missing its manifest.json")
        return real(items, spec)

    monkeypatch.setattr(ray_engine, "_classify_rows", failing_at_t100)
    written = []
    with pytest.raises(InvalidArgument, match="manifest.json"):
        for chunk in classify_with_ray(settings, "bank", "prod", texts, batch_size=50):
            written += chunk
    assert [row["id"] for row in written] == [f"t{i}" for i in range(100)]
    monkeypatch.undo()

    # an error inside a task (a model folder gone, say): tagwise's one error line, not Ray's traceback
    import ray

    from tagwise.bulk.ray_engine import _rows

    @ray.remote
    def failing(exc):
        raise exc

    with pytest.raises(InvalidArgument, match="^a model folder is missing its manifest.json$"):
        _rows(failing.remote(InvalidArgument("a model folder is missing its manifest.json")))
    with pytest.raises(RayUnavailable, match="^a Ray task failed: ValueError: odd$"):
        _rows(failing.remote(ValueError("odd")))
    # an address nobody answers at: said at once (ray.init tried it for ever)
    with pytest.raises(RayUnavailable, match=r"cannot reach the Ray cluster at 127.0.0.1:\d+ .*start it \(ray start --head"):
        _check_reachable(f"127.0.0.1:{free_port()}")
