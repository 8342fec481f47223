"""Numbers the x-LLaMA paper reports (Zhu et al. 2023), used as clearly marked reference rows."""

from __future__ import annotations

QA_COLUMNS = {"xquad_xllm": ("ar", "el", "hi", "tr", "vi", "zh"), "mlqa_xllm": ("ar", "hi", "vi", "zh")}
"""The columns of Tables 2 and 6, by the task family they correspond to (the paper leaves English out)."""
FLORES_FAMILY = "flores_xllm"
TABLE4_METRICS = ("comet", "bleurt", "spbleu")
PAPER_AVERAGE = "paper avg"
"""The paper's own averages, in a column of their own: Tables 2 and 6 average over all their
non-English languages, Table 4 reports one FLORES-101 average per metric without saying over which
directions; neither is over the columns a measured row's ``avg`` is."""
REPORTED_NOTE = (
    "reported rows: numbers from the x-LLaMA paper, not measured; their avg columns are over the same "
    "columns as the measured rows' (absent where the paper lacks one of them); paper avg is the paper's "
    "own average (Tables 2 and 6: over all its non-English languages; Table 4: its single FLORES-101 average)"
)


def _qa_rows(
    table: dict[str, tuple[tuple[float, ...], tuple[float, ...]]],
) -> dict[str, dict[str, dict[str, float]]]:
    return {
        model: {
            "xquad_xllm": dict(zip(QA_COLUMNS["xquad_xllm"], xq, strict=True)),
            "mlqa_xllm": dict(zip(QA_COLUMNS["mlqa_xllm"], ml, strict=True)),
        }
        for model, (xq, ml) in table.items()
    }


# Table 2: ChatGPT-judged answer accuracy.
TABLE2_JUDGE_ACCURACY = _qa_rows(
    {
        "Alpaca-7B": ((0.36, 0.64, 0.41, 0.51, 0.45, 0.59), (0.39, 0.36, 0.50, 0.67)),
        "Chinese-Alpaca-7B": ((0.34, 0.22, 0.20, 0.22, 0.35, 0.91), (0.38, 0.22, 0.34, 0.97)),
        "Bayling-7B": ((0.44, 0.48, 0.53, 0.55, 0.58, 0.88), (0.43, 0.55, 0.54, 0.89)),
        "x-LLaMA-7B": ((0.82, 0.75, 0.81, 0.64, 0.81, 0.80), (0.85, 0.76, 0.93, 0.81)),
    }
)

# Table 6: x-LLM's "match" (lowercased answer contained in the output).
TABLE6_MATCH = _qa_rows(
    {
        "Alpaca-7B": ((0.16, 0.53, 0.21, 0.49, 0.51, 0.32), (0.10, 0.10, 0.34, 0.31)),
        "Chinese-Alpaca-7B": ((0.29, 0.11, 0.07, 0.32, 0.18, 0.72), (0.20, 0.09, 0.07, 0.58)),
        "Bayling-7B": ((0.35, 0.43, 0.46, 0.51, 0.53, 0.62), (0.25, 0.31, 0.35, 0.59)),
        "x-LLaMA-7B": ((0.49, 0.56, 0.59, 0.61, 0.54, 0.53), (0.27, 0.31, 0.47, 0.48)),
    }
)

# Table 4: FLORES-101 averages of MuIT models under a data budget (COMET, BLEURT, BLEU on a 0-100 scale).
TABLE4_FLORES_AVERAGES = {
    "MuIT 300k uniform": {"comet": 82.13, "bleurt": 66.36, "spbleu": 30.05},
    "MuIT 300k optimized": {"comet": 82.38, "bleurt": 66.75, "spbleu": 30.21},
    "MuIT 1.2M uniform": {"comet": 84.22, "bleurt": 69.73, "spbleu": 33.81},
    "MuIT 1.2M optimized": {"comet": 84.70, "bleurt": 70.42, "spbleu": 34.40},
}
