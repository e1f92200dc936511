"""Classify held-out texts against a tagwise deployment with the official runtime SDK.

Runs in the venv of ``azure-ai-textanalytics==5.4.0`` (tests/sdk/requirements-runtime.txt).
Covers ``begin_single_label_classify`` / ``begin_multi_label_classify`` (by the project kind),
``begin_analyze_actions`` with the matching action, ``show_stats``, a per-document error (empty
text), a batch over 25 documents, an unknown deployment and a wrong key.

Prints the JSON report described in ``_common.py``; ``summary.heldoutScore`` is accuracy
(single-label) or micro-F1 (multi-label) on the held-out texts.
"""

from __future__ import annotations

from _common import CLIENT_OPTIONS, Report, base_parser, load_data, micro_f1, run
from azure.ai.textanalytics import (
    MultiLabelClassifyAction,
    SingleLabelClassifyAction,
    TextAnalyticsClient,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

POLL = 0.5
BATCH = 25


def main(report: Report, args) -> None:
    data = load_data(args.data)
    kind, project, deployment = data["kind"], args.project, args.deployment
    classes = set(data["classes"])
    client = TextAnalyticsClient(args.endpoint, AzureKeyCredential(args.key), **CLIENT_OPTIONS)
    classify = client.begin_single_label_classify if kind == "single" else client.begin_multi_label_classify
    action_type = SingleLabelClassifyAction if kind == "single" else MultiLabelClassifyAction
    summary = report.summary

    def check_result(doc: dict, result) -> set[str]:
        assert not result.is_error, f"document {doc['id']} failed: {result.error.code} {result.error.message}"
        assert result.id == doc["id"], (result.id, doc["id"])
        assert result.kind == "CustomDocumentClassification", result.kind
        names = [c.category for c in result.classifications]
        if kind == "single":
            assert len(names) == 1, f"single-label result must carry exactly one class: {result.classifications}"
        assert len(set(names)) == len(names), names
        assert set(names) <= classes | {"None"}, names
        for c in result.classifications:
            assert 0.0 <= c.confidence_score <= 1.0, c
        return set(names)

    # -- every held-out text, in batches of at most 25 (the Azure limit)
    heldout = data["heldout"]
    predicted: dict[str, set[str]] = {}
    with report.step("classify held-out documents"):
        for start in range(0, len(heldout), BATCH):
            batch = heldout[start:start + BATCH]
            docs = [{"id": d["id"], "text": d["text"], "language": "en"} for d in batch]
            results = list(classify(docs, project, deployment, polling_interval=POLL).result())
            assert [r.id for r in results] == [d["id"] for d in batch], [r.id for r in results]
            for doc, result in zip(batch, results):
                predicted[doc["id"]] = check_result(doc, result)
    expected = [set(d["labels"]) for d in heldout]
    got = [predicted[d["id"]] for d in heldout]
    summary["heldoutDocuments"] = len(heldout)
    summary["heldoutScore"] = round(micro_f1(expected, got), 4)
    summary["heldoutExactMatch"] = round(sum(e == g for e, g in zip(expected, got)) / len(heldout), 4)

    # -- the same through begin_analyze_actions, plain strings (ids "0", "1", ...)
    sample = heldout[:5]
    with report.check("begin_analyze_actions"):
        poller = client.begin_analyze_actions(
            [d["text"] for d in sample], [action_type(project, deployment)],
            display_name="tagwise sdk test", polling_interval=POLL)
        pages = list(poller.result())
        assert len(pages) == len(sample), len(pages)
        for i, (doc, actions) in enumerate(zip(sample, pages)):
            assert len(actions) == 1, actions
            names = check_result({**doc, "id": str(i)}, actions[0])
            assert names == predicted[doc["id"]], (doc["id"], names, predicted[doc["id"]])
        assert poller.display_name == "tagwise sdk test", poller.display_name
    # the SDK documents cancel() on a finished job as raising: a 202 let the caller believe it stopped something
    report.expect_error("cancel() of a finished job -> HttpResponseError", HttpResponseError, poller.cancel)

    # -- statistics only on request
    with report.check("show_stats"):
        poller = classify([{"id": "s1", "text": sample[0]["text"]}], project, deployment,
                          show_stats=True, polling_interval=POLL)
        result = next(iter(poller.result()))
        assert result.statistics is not None, "show_stats=True gave no document statistics"
        assert result.statistics.character_count == len(sample[0]["text"]), result.statistics

    # -- a document the model was not trained for carries a warning the SDK reads (the project is English)
    with report.check("LanguageNotTrained warning"):
        docs = [{"id": "en", "text": sample[0]["text"]}, {"id": "ar", "text": "أين بطاقتي؟ لقد فقدتها أمس"}]
        results = list(classify(docs, project, deployment, polling_interval=POLL).result())
        assert not results[0].warnings and not results[1].is_error, results
        assert [w.code for w in results[1].warnings] == ["LanguageNotTrained"], results[1].warnings
        summary["languageWarning"] = results[1].warnings[0].message[:120]

    # -- a per-document error among valid documents
    with report.check("empty document -> per-document error"):
        docs = [{"id": "ok1", "text": sample[0]["text"]}, {"id": "empty", "text": ""},
                {"id": "ok2", "text": sample[1]["text"]}]
        results = list(classify(docs, project, deployment, polling_interval=POLL).result())
        assert [r.id for r in results] == ["ok1", "empty", "ok2"], [r.id for r in results]
        assert results[1].is_error, f"empty document was classified: {results[1]}"
        summary["emptyDocumentError"] = {"code": results[1].error.code, "message": results[1].error.message}
        assert not results[0].is_error and not results[2].is_error, results

    # -- more than 25 documents in one request
    with report.check(">25 documents -> HttpResponseError"):
        docs = [{"id": str(i), "text": heldout[i % len(heldout)]["text"]} for i in range(BATCH + 1)]
        try:
            classify(docs, project, deployment, polling_interval=POLL).result()
        except HttpResponseError as exc:
            summary["tooManyDocumentsError"] = {"status": exc.status_code, "code": getattr(exc.error, "code", None)}
            assert exc.status_code == 400, exc.status_code
        else:
            raise AssertionError("26 documents were accepted")

    # -- unknown deployment and unknown project
    for label, proj, dep in (("unknown deployment", project, "no-such-deployment"),
                             ("unknown project", "no-such-project", deployment)):
        with report.check(f"{label} -> HttpResponseError"):
            try:
                list(classify([sample[0]["text"]], proj, dep, polling_interval=POLL).result())
            except HttpResponseError as exc:
                summary[f"{label} error"] = f"{type(exc).__name__}: {exc.message}"[:300]
            else:
                raise AssertionError(f"classification against {proj}/{dep} succeeded")

    # -- wrong key
    wrong = TextAnalyticsClient(args.endpoint, AzureKeyCredential("wrong-" + args.key), **CLIENT_OPTIONS)
    wrong_classify = wrong.begin_single_label_classify if kind == "single" else wrong.begin_multi_label_classify
    report.expect_error("wrong key -> ClientAuthenticationError", ClientAuthenticationError,
                        lambda: wrong_classify([sample[0]["text"]], project, deployment, polling_interval=POLL))


if __name__ == "__main__":
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--deployment", default="production")
    run(main, parser)
