"""The Try it page's code: the whole text goes in (a shortened one gave another class to 5 of 186 long tickets)."""

from __future__ import annotations

import json
import shlex

from tagwise.studio.snippets import classify_snippets


def test_the_snippets_carry_the_whole_text_quoted_for_their_language():
    text = "It's \"broken\" again: " + "the node restarts. " * 40  # 781 characters, quotes of both kinds
    code = classify_snippets("http://127.0.0.1:8080", "tickets", "prod", "CustomSingleLabelClassification", text)
    body = shlex.split(code["curl"].replace("\\\n", " "))[-1]
    assert json.loads(body) == {"documents": [{"id": "1", "text": text}]}
    assert repr(text) in code["python"] and "begin_single_label_classify" in code["python"]
    assert "TAGWISE_API_KEY" in code["curl"] and "TAGWISE_API_KEY" in code["python"]
    multi = classify_snippets("http://h", "p", "d", "CustomMultiLabelClassification", "x")["python"]
    assert "begin_multi_label_classify" in multi
