"""The Try it page's "call it from code": the same classification as a curl command and as Python
with the official Azure SDK, for the deployment and text on the page. The key is never written
into them: they read it from ``$TAGWISE_API_KEY``.

>>> print(classify_snippets("http://127.0.0.1:8080", "tickets", "prod", "CustomSingleLabelClassification", "it's late")["curl"])
curl -s -X POST 'http://127.0.0.1:8080/language/tagwise/projects/tickets/deployments/prod:classify?api-version=2022-05-01' \\
  -H "Ocp-Apim-Subscription-Key: $TAGWISE_API_KEY" -H 'Content-Type: application/json' \\
  -d '{"documents": [{"id": "1", "text": "it'"'"'s late"}]}'
"""

from __future__ import annotations

import json
import shlex
from urllib.parse import quote

MULTI = "CustomMultiLabelClassification"


def classify_snippets(endpoint: str, project: str, deployment: str, kind: str, text: str) -> dict[str, str]:
    sample = text or "the text to classify"  # whole: a shortened text can get another class (5 of 186 long tickets did)
    url = f"{endpoint}/language/tagwise/projects/{quote(project)}/deployments/{quote(deployment)}:classify?api-version=2022-05-01"
    body = json.dumps({"documents": [{"id": "1", "text": sample}]}, ensure_ascii=False)
    curl = (f"curl -s -X POST {shlex.quote(url)} \\\n"
            f'  -H "Ocp-Apim-Subscription-Key: $TAGWISE_API_KEY" -H \'Content-Type: application/json\' \\\n'
            f"  -d {shlex.quote(body)}")
    method, show = (("begin_multi_label_classify", "[(c.category, c.confidence_score) for c in doc.classifications]")
                    if kind == MULTI else
                    ("begin_single_label_classify", "doc.classifications[0].category, doc.classifications[0].confidence_score"))
    python = "\n".join([
        "import os",
        "from azure.core.credentials import AzureKeyCredential",
        "from azure.ai.textanalytics import TextAnalyticsClient  # pip install azure-ai-textanalytics==5.4.0",
        "",
        f"client = TextAnalyticsClient({endpoint!r}, AzureKeyCredential(os.environ['TAGWISE_API_KEY']))",
        f"poller = client.{method}([{sample!r}], project_name={project!r}, deployment_name={deployment!r})",
        "for doc in poller.result():",
        f"    print({show})",
    ])
    return {"curl": curl, "python": python}
