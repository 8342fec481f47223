"""Disagreement flags: two metrics that both find a significant difference but prefer different systems,
each read in its own direction, in ``xllm compare``'s JSON and screen and under the leaderboard's tables
(``--baseline``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from xllm_harness.cli import main
from xllm_harness.leaderboard.board import add_intervals, build_tables, collect, compare_to_baseline

sys.path.insert(0, str(Path(__file__).parent))
from test_compare import drop_third, write_flores_run

LENGTH_METRICS = '''
from xllm_harness.hookspecs import hookimpl
from xllm_harness.metrics import Metric


class Length(Metric):
    """Characters per output, lower is better (a brevity score)."""

    name = "length"
    higher_is_better = False

    def segment_statistics(self, hypotheses, references, sources, lang):
        return [float(len(h)) for h in hypotheses]

    def signature(self):
        return self.name


class Verbosity(Length):
    """The same number, read as higher is better."""

    name = "verbosity"
    higher_is_better = True


@hookimpl
def xllm_metrics():
    return [Length, Verbosity]
'''
TASK = "flores_xllm_en-zh"


@pytest.fixture
def flores_data(monkeypatch, samples_dir, use_sacrebleu_home):
    monkeypatch.setenv("XLLM_DATA_DIR", str(samples_dir))


def test_compare_flags_metrics_that_prefer_different_systems(tmp_path, flores_data, install_plugin, capsys):
    install_plugin("xllm-length", "length", "xllm_test_length", LENGTH_METRICS)
    a = write_flores_run(tmp_path / "a", lambda d: d["target"], directions=("en-zh",))
    b = write_flores_run(tmp_path / "b", lambda d: drop_third(d["target"]), directions=("en-zh",))
    # chrF prefers A (the references); B is shorter: `length` (lower is better) prefers B, `verbosity` A
    assert main(["compare", str(a), str(b), "--metrics", "chrf,length,verbosity", "--resamples", "200"]) == 0
    screen = capsys.readouterr().out
    (path,) = a.glob("compare_*.json")
    payload = json.loads(path.read_text(encoding="utf-8"))
    rows = {r["metric"]: r for r in payload["comparisons"]}
    assert all(rows[m]["significant"] for m in ("chrf", "length", "verbosity"))
    assert rows["chrf"]["delta"] < 0 and rows["length"]["delta"] < 0
    assert payload["disagreements"] == [
        {"task": TASK, "prefer_a": ["chrf", "verbosity"], "prefer_b": ["length"]}
    ]
    assert (
        f"metrics disagree on {TASK}: chrf, verbosity significantly prefer A, length significantly prefer B"
        in screen
    )

    # metrics that agree (or differences that are not significant) raise no flag
    assert main(["compare", str(a), str(b), "--metrics", "chrf,verbosity", "--resamples", "200"]) == 0
    assert "disagree" not in capsys.readouterr().out
    assert main(["compare", str(a), str(a), "--metrics", "chrf,length", "--resamples", "200"]) == 0
    assert "disagree" not in capsys.readouterr().out


def scores_file(folder: Path, values: dict[str, np.ndarray]) -> None:
    """An ``xllm score`` file for one FLORES direction with per-document statistics of each metric."""
    folder.mkdir(parents=True)
    n = len(next(iter(values.values())))
    payload = {
        "model_name": folder.name,
        "results": {TASK: {m: float(v.mean()) for m, v in values.items()}},
        "signatures": {TASK: {m: "model:toy|scale:100" for m in values}},
        "doc_ids": {TASK: list(range(n))},
        "statistics": {TASK: {m: [[x] for x in v] for m, v in values.items()}},
    }
    (folder / "xllm_scores_2026-01-01T00-00-00.000001.json").write_text(json.dumps(payload))


def test_leaderboard_baseline_notes_a_disagreement(tmp_path):
    rng = np.random.default_rng(1)
    comet, bleurt = rng.uniform(40, 80, 60), rng.uniform(30, 70, 60)
    scores_file(tmp_path / "base", {"comet": comet, "bleurt": bleurt})
    scores_file(
        tmp_path / "other", {"comet": comet + rng.normal(5, 1, 60), "bleurt": bleurt - rng.normal(5, 1, 60)}
    )
    scores_file(
        tmp_path / "twin", {"comet": comet + rng.normal(5, 1, 60), "bleurt": bleurt + rng.normal(5, 1, 60)}
    )
    found = collect([tmp_path])
    add_intervals(found.scores)
    tables = build_tables(found.scores, include_reported=False)
    assert compare_to_baseline(tables, "base") == 4
    notes = [n for t in tables for n in t.notes if "disagree" in n]
    assert notes and all(n.startswith("metrics disagree for other against base on en-zh") for n in notes)
    assert "COMET (x100) prefer other; BLEURT (x100) prefer base" in notes[0]
    assert not any("twin" in n for n in notes)  # both metrics prefer it: no flag
