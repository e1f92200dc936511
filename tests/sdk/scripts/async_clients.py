"""The SDKs' async clients (``.aio``, over aiohttp) against tagwise: the same wire, another transport.

``python async_clients.py authoring|runtime --endpoint URL --key KEY --project P --kind single|multi``
prints one JSON line: what each call answered (the test judges it).
"""

from __future__ import annotations

import argparse
import asyncio
import json

from azure.core.credentials import AzureKeyCredential


async def authoring(args) -> dict:
    from azure.ai.textanalytics.authoring.aio import TextAuthoringClient

    async with TextAuthoringClient(args.endpoint, AzureKeyCredential(args.key)) as client:
        projects = [p async for p in client.list_projects(maxpagesize=1)]  # pages of one: follows nextLink
        project = client.get_project_client(args.project)
        async with project:
            results = [r async for r in project.trained_model.list_model_evaluation_results(
                "model1", string_index_type="Utf16CodeUnit", maxpagesize=7)]
            deployment = await project.deployment.get_deployment("production")
    # the SDK's models are mappings of the wire names (ProjectDeployment has no attribute for trainedModelLabel)
    return {"projects": sorted(p["projectName"] for p in projects), "results": len(results),
            "deployment": deployment.get("trainedModelLabel")}


async def runtime(args) -> dict:
    from azure.ai.textanalytics.aio import TextAnalyticsClient

    texts = ["how do I activate my card", "I am so grateful, thank you"] * 10
    async with TextAnalyticsClient(args.endpoint, AzureKeyCredential(args.key)) as client:
        begin = client.begin_single_label_classify if args.kind == "single" else client.begin_multi_label_classify
        poller = await begin(texts, project_name=args.project, deployment_name="production")
        answers = [doc async for doc in await poller.result()]
    return {"documents": len(answers), "errors": sum(doc.is_error for doc in answers),
            "classified": sum(bool(getattr(doc, "classifications", None)) for doc in answers)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("sdk", choices=("authoring", "runtime"))
    for name in ("--endpoint", "--key", "--project", "--kind"):
        parser.add_argument(name, required=True)
    parsed = parser.parse_args()
    print(json.dumps(asyncio.run(authoring(parsed) if parsed.sdk == "authoring" else runtime(parsed))))
