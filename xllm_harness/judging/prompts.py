"""The paper's judge prompts (appendix D) and the parsing of the judge's replies.

QA: "Evaluating Answer Quality with ChatGPT", laid out as in x-LLM's ``eval/xquad.eval.py``; the
"Context" is the question exactly as the model saw it (the language's QA template with context and
question). Pairwise: "Comparing Response Quality with ChatGPT"; the paper's prompt speaks of "the user
question displayed above", so it follows the question and both answers in x-LLM's (FastChat's) review
layout, with x-LLM's system message.
"""

from __future__ import annotations

import re

QA_TEMPLATE = (
    "You will be given a context followed by question. You will then be given one potential answer to the question.\n"
    "Your task is to tell if the answer is correct.\n"
    "Please make sure you read and understand these instructions carefully. Please keep this document open "
    "while reviewing, and refer to it as needed.\n"
    "\n"
    "Evaluation Criteria:\n"
    "Correctness (YES or NO): Is the answer correct?\n"
    "YES means the answer provides an accurate and valid response that aligns with the facts, logic, and "
    "requirements of the question. The answer should be in the same language as the context.\n"
    "NO means otherwise.\n"
    "\n"
    "Context: {context}\n"
    "Answer: {answer}\n"
    "\n"
    "Evaluation Form (YES or NO):\n"
)

PAIRWISE_SYSTEM = "You are a helpful and precise assistant for checking the quality of the answer."
PAIRWISE_INSTRUCTION = (
    "We would like to request your feedback on the performance of two AI assistants in response to the user "
    "question displayed above. Please rate the helpfulness, relevance, accuracy, level of details of their "
    "responses.\n"
    "Each assistant receives an overall score on a scale of 1 to 10, where a higher score indicates better "
    "overall performance. Please first provide a comprehensive explanation of your evaluation, avoiding any "
    "potential bias and ensuring that the order in which the responses were presented does not affect your "
    "judgment. Then, output two lines indicating the scores for Assistant 1 and 2, respectively.\n"
    "Output with the following format:\n"
    "Evaluation evidence: <Explanation>\n"
    "Score of the Assistant 1: <Score>\n"
    "Score of the Assistant 2: <Score>"
)
PAIRWISE_TEMPLATE = (
    "[Question]\n{question}\n\n"
    "[The Start of Assistant 1's Answer]\n{answer_1}\n[The End of Assistant 1's Answer]\n\n"
    "[The Start of Assistant 2's Answer]\n{answer_2}\n[The End of Assistant 2's Answer]\n\n"
    "[System]\n{instruction}\n"
)

Messages = tuple[tuple[str, str], ...]


def qa_messages(context: str, answer: str) -> Messages:
    """The QA correctness request: one user message."""
    return (("user", QA_TEMPLATE.format(context=context, answer=answer.strip())),)


def pairwise_messages(question: str, answer_1: str, answer_2: str) -> Messages:
    """The pairwise request with ``answer_1`` shown as Assistant 1."""
    user = PAIRWISE_TEMPLATE.format(
        question=question,
        answer_1=answer_1.strip(),
        answer_2=answer_2.strip(),
        instruction=PAIRWISE_INSTRUCTION,
    )
    return (("system", PAIRWISE_SYSTEM), ("user", user))


_ECHO = re.compile(r"\(\s*YES\s+or\s+NO\s*\)", re.IGNORECASE)
_OPEN = r"[\s*_\"'(\[]*"
_ALONE = re.compile(rf"^{_OPEN}(YES|NO)[\s*_\"')\].!]*$", re.IGNORECASE)
_LABELLED = re.compile(
    rf"\b(?:correctness|verdict|evaluation form|evaluation|final answer|judge?ment)\s*[:：=\-]{_OPEN}(YES|NO)\b",
    re.IGNORECASE,
)
_LEADING = re.compile(rf"^{_OPEN}(YES|NO)\b", re.IGNORECASE)
_TRAILING = re.compile(rf"(^|[.!?:;\n]|\*\*)?{_OPEN}(YES|NO)[\s*_\"')\].!]*$", re.IGNORECASE)
_UPPER = re.compile(r"\b(YES|NO)\b")


def parse_yes_no(reply: str) -> bool | None:
    """The verdict of a QA-judge reply, not the first "no" of its explanation; ``None`` when unclear.

    In order (an echoed "(YES or NO)" from the prompt removed first): a line that is only the verdict
    (``YES``, ``(NO)``, ``Yes.``); a labelled verdict (``Correctness: YES``, ``Evaluation Form: no``,
    the last one wins); the verdict that opens the reply (``Yes, ...``, ``NO. ...``, ``**Yes** ...``:
    in capitals, or followed by punctuation); the verdict that closes it (``... no errors. YES``: in
    capitals, or standing as its own sentence); the upper-case ``YES``/``NO`` words when they all
    agree. Anything else (``yes or no``, ``No errors were found``, ``Both YES and NO``) is ``None``,
    so the judge is asked again.
    """
    text = _ECHO.sub(" ", reply or "").strip()
    alone = [m.group(1).upper() for line in text.splitlines() if (m := _ALONE.match(line.strip()))]
    if alone and len(set(alone)) == 1:
        return alone[-1] == "YES"
    labelled = _LABELLED.findall(text)
    if labelled:
        return labelled[-1].upper() == "YES"
    lead = _LEADING.match(text)
    if lead and (lead.group(1).isupper() or _lead_is_marked(text, lead)):
        return lead.group(1).upper() == "YES"
    trail = _TRAILING.search(text)
    if trail and (trail.group(2).isupper() or trail.group(1) is not None):
        return trail.group(2).upper() == "YES"
    upper = set(_UPPER.findall(text))
    return upper.pop() == "YES" if len(upper) == 1 else None


def _lead_is_marked(text: str, lead: re.Match[str]) -> bool:
    """Whether the opening yes/no is set apart (punctuation, bold, end of text) rather than a word of a sentence."""
    rest = text[lead.end() :]
    return not rest.strip() or bool(re.match(r"\s*[.,;:!)\]\n]|\*\*", rest))


_XLLM_YES_NO = re.compile(r"(YES)|(NO)")


def parse_yes_no_xllm(reply: str) -> bool | None:
    """x-LLM's parser, for exact reproduction: the first case-sensitive ``YES`` or ``NO`` anywhere
    (``NOTHING`` reads as NO, an echoed ``(YES or NO)`` as YES, ``Yes.`` as nothing)."""
    m = _XLLM_YES_NO.search(reply or "")
    return None if m is None else m.group(1) is not None


QA_PARSERS = {"default": parse_yes_no, "x-llm": parse_yes_no_xllm}
"""``xllm judge qa --parser``: how a reply becomes a verdict."""


_NUMBER = r"(\d+(?:\.\d+)?)(?:\s*/\s*10)?"
_SCORE = {
    i: re.compile(rf"Score of (?:the )?Assistant {i}\s*[:：]\s*\**\s*{_NUMBER}", re.IGNORECASE)
    for i in (1, 2)
}
_LAST_NUMBER = re.compile(rf"[:：]\s*\**\s*{_NUMBER}\s*\**\s*$")


def parse_scores(reply: str) -> tuple[float, float] | None:
    """The two 1–10 scores (Assistant 1, Assistant 2), or ``None`` when they are missing or out of range.

    Looks for the requested "Score of the Assistant N: x" lines (the last occurrence wins); failing
    that, x-LLM's rule: the numbers after the colon on the last two non-empty lines.
    """
    reply = reply or ""
    found = [_SCORE[i].findall(reply) for i in (1, 2)]
    if found[0] and found[1]:
        scores = (float(found[0][-1]), float(found[1][-1]))
    else:
        lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
        tail = [_LAST_NUMBER.search(line) for line in lines[-2:]]
        if len(tail) != 2 or not all(tail):
            return None
        scores = (float(tail[0].group(1)), float(tail[1].group(1)))
    if not all(1.0 <= s <= 10.0 for s in scores):
        return None
    return scores
