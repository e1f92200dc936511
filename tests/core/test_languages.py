"""Warnings for a text in a language the model was not trained for."""

from __future__ import annotations

from tagwise.core.languages import warning


def test_a_model_of_a_language_in_another_script_warns_of_a_text_in_a_third_one():
    # Korean sent to a Japanese model and Arabic to a Hebrew one were answered at the model's prior without a word
    assert "Korean Hangul" in warning("ja", None, "택배가 아직 안 왔어요 언제 오나요", None)["message"]
    assert "Arabic script" in warning("he", None, "أين بطاقتي؟ لقد فقدتها أمس", "he")["message"]  # its own language declared
    assert warning("ko", None, "택배가 아직 안 왔어요 언제 오나요", None) is None
    assert warning("zh-Hant", None, "我的包裹還沒到，已經一個星期了", None) is None
    assert warning("ja", None, "Where is my parcel? It has been a week", None) is None  # Latin letters: not guessed at
    assert warning("az-Arab", None, "택배가 아직 안 왔어요 언제 오나요", None) is None  # a language in an unusual script
