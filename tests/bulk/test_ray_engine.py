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
    import ray

    from tagwise.bulk.ray_engine import connect

    connect(num_cpus=2)
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
    assert result.exit_code == 0, result.output
    assert cli_out.read_text() == ray_out.read_text()

    local_out = tmp_path / "local.jsonl"
    env = {"TAGWISE_DATA_DIR": str(settings.data_dir), "TAGWISE_MAX_DOCUMENT_CHARACTERS": "300", "HF_HUB_OFFLINE": "1",
           "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "tagwise", "classify", "bank", "prod", str(source), "-o", str(local_out), "--top", "2"],
                   env=env, check=True, capture_output=True)
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
    rows = [row for chunk in classify_with_ray(settings, "bank", "prod", docs, batch_size=100, top=1) for row in chunk]
    assert [row["id"] for row in rows] == [doc_id for doc_id, _ in docs]
    assert all("error" not in row and len(row["predictions"]) == 1 for row in rows)
