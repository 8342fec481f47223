"""The paper's languages (Arabic, Greek, Hindi, Turkish, Vietnamese, Chinese) and English.

QA instructions and templates are x-LLM's (its data loaders; the paper's Figure 8).
"""

from xllm_harness.hookspecs import hookimpl
from xllm_harness.languages import Language

MLQA_LANGS = {"ar", "en", "hi", "vi", "zh"}
FLORES_CODES = {
    "ar": "ara",
    "el": "ell",
    "en": "eng",
    "hi": "hin",
    "tr": "tur",
    "vi": "vie",
    "zh": "zho_simpl",
}

_TABLE = [
    # code, English name, iso-639 package name (x-LLM's prompts), instruction, template
    (
        "ar",
        "Arabic",
        "Arabic",
        "الرجاء الإجابة على الأسئلة بناءً على الفقرات التالية",
        "فقرة: {context}\nسؤال: {question}\nإجابة: ",
    ),
    (
        "el",
        "Greek",
        "Modern Greek (1453-)",
        "Απαντήστε στις ερωτήσεις με βάση τις παρακάτω παραγράφους",
        "παράγραφος: {context}\nερώτηση: {question}\nΑπάντηση: ",
    ),
    (
        "en",
        "English",
        "English",
        "Answer the final question with following context",
        "Context: {context}\nQuestion: {question}\nAnswer: ",
    ),
    (
        "hi",
        "Hindi",
        "Hindi",
        "कृपया निम्नलिखित पैराग्राफ के अनुसार प्रश्नों के उत्तर दें",
        "अनुच्छेद: {context}\nसवाल: {question}\nउत्तर: ",
    ),
    (
        "tr",
        "Turkish",
        "Turkish",
        "Lütfen soruları aşağıdaki paragraflara göre cevaplayınız",
        "paragraf: {context}\nsoru: {question}\nCevap: ",
    ),
    (
        "vi",
        "Vietnamese",
        "Vietnamese",
        "Hãy trả lời các câu hỏi theo đoạn văn sau",
        "đoạn văn: {context}\ncâu hỏi: {question}\nTrả lời: ",
    ),
    ("zh", "Chinese", "Chinese", "请根据以下段落，回答问题", "段落: {context}\n问题: {question}\n答案: "),
]

LANGUAGES = [
    Language(
        code=code,
        name=name,
        iso639_name=iso_name,
        qa_instruction=instruction,
        qa_template=template,
        qa_normalization="mlqa" if code in MLQA_LANGS else "squad",
        xquad=f"xquad/xquad.{code}.json",
        mlqa=f"mlqa/test/test-context-{code}-question-{code}.json" if code in MLQA_LANGS else None,
        flores=f"flores101/{{split}}/{FLORES_CODES[code]}.{{split}}",
        mi_eval=f"mi_eval/{code}.jsonl",
    )
    for code, name, iso_name, instruction, template in _TABLE
]


@hookimpl
def xllm_languages() -> list[Language]:
    return LANGUAGES
