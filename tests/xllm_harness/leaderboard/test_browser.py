"""End to end in a real browser: the leaderboard page made from real `xllm eval` runs on the bundled
samples, driven by Playwright over Debian's Chromium (never a downloaded browser).

Skips with the reason where Chromium or Playwright is not installed (.ci/run installs Chromium; Playwright
is in the `dev` extra). Set XLLM_DOCS_IMAGES=docs/images to refresh the screenshot the docs show.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TASKS = "xquad_xllm_ar,mlqa_xllm_ar,flores_xllm_en-ar"
"""One task of each family with an overview heatmap (XQuAD, MLQA, FLORES)."""


def _browser_or_skip() -> str:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    return CHROMIUM


@pytest.fixture(scope="module")
def board(tmp_path_factory, tiny_model, sacrebleu_home) -> Path:
    """`xllm eval` of a tiny model on the bundled samples, then `xllm leaderboard -o board`."""
    from xllm_harness.data.samples import SAMPLES_DIR

    root = tmp_path_factory.mktemp("browser")
    env = {
        **os.environ,
        "XLLM_DATA_DIR": str(SAMPLES_DIR),
        "SACREBLEU": str(sacrebleu_home),
        "PYTHONPATH": "",
        "OMP_NUM_THREADS": "1",  # a tiny model: one thread is faster on a busy 2-core machine
    }
    run = [sys.executable, "-m", "xllm_harness.cli"]
    commands = [
        [
            *(*run, "eval", "--model_args", f"pretrained={tiny_model},dtype=float32", "--device", "cpu"),
            *("--tasks", TASKS, "--limit", "5", "--gen_kwargs", "max_gen_toks=4"),
            *("--output_path", str(root / "results"), "--log_samples"),
        ],
        [*run, "leaderboard", str(root / "results"), "-o", str(root / "board")],
    ]
    for command in commands:
        done = subprocess.run(command, env=env, cwd=root, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
    return root / "board"


def test_page_files_are_self_contained_with_figures_and_relative_paths(board):
    page = (board / "leaderboard.html").read_text(encoding="utf-8")
    for external in ("http://", "https://", "<link", "src="):
        assert external not in page.replace("http://www.w3.org/2000/svg", "")
    assert str(board.parent) not in page and str(Path.home()) + "/" not in page
    svgs = sorted(p.stem for p in (board / "figures").glob("*.svg"))
    pngs = sorted(p.stem for p in (board / "figures").glob("*.png"))
    assert svgs == pngs and any(s.startswith("heatmap-xquad_xllm") for s in svgs)
    assert all((board / "figures" / f"{s}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for s in pngs)


def test_page_in_headless_chromium(board, tmp_path):
    from playwright.sync_api import sync_playwright

    executable = _browser_or_skip()
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=executable,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((board / "leaderboard.html").as_uri())

        heatmaps = page.locator("svg.heatmap")
        assert heatmaps.count() == 3  # XQuAD, MLQA, FLORES
        figures = [heatmaps.nth(i) for i in range(heatmaps.count())]
        charts = page.locator("svg.chart")
        figures += [charts.nth(i) for i in range(charts.count())]
        for figure in figures:
            box = figure.bounding_box()
            assert box is not None and box["width"] > 0 and box["height"] > 0
        xquad = page.locator("svg.heatmap[data-family='xquad_xllm']")
        labels = xquad.locator("g.hm-row").evaluate_all("rows => rows.map(r => r.dataset.model)")
        assert any("reported" in label for label in labels) and len(labels) >= 3  # paper rows beside ours
        assert xquad.locator("text.hm-value").count() > 0

        table = page.locator("table.board").first
        names = "t => Array.from(t.tBodies[0].rows).filter(r => !r.hidden).map(r => r.dataset.model)"
        before = table.evaluate(names)
        table.locator("th").nth(1).click()  # sort by the first column: descending
        after_sort = table.evaluate(names)
        assert sorted(after_sort) == sorted(before) and after_sort != before
        values = table.evaluate(
            "t => Array.from(t.tBodies[0].rows).map(r => r.cells[1].dataset.value)"
            ".filter(v => v !== undefined).map(Number)"
        )
        assert values == sorted(values, reverse=True)
        table.locator("th").nth(1).click()  # again: ascending
        assert table.evaluate(names)[: len(values)] != after_sort[: len(values)]

        ours = table.locator("tbody tr.measured").first.get_attribute("data-model")
        page.fill("#model-filter", ours)
        shown = table.evaluate(names)
        assert shown == [ours] and len(before) > 1
        page.fill("#model-filter", "")
        page.select_option("#lang-filter", "en")
        hidden = page.locator("table.board th[data-langs]").evaluate_all(
            "cells => cells.filter(c => c.hidden).map(c => c.textContent)"
        )
        assert "ar" in hidden and "en-ar" not in hidden  # XQuAD's Arabic column goes, en→ar stays
        page.select_option("#lang-filter", "")

        page.evaluate("window.scrollTo(0, 0)")
        shot = tmp_path / "leaderboard.png"
        page.screenshot(path=str(shot), full_page=False)
        browser.close()
    assert errors == []
    assert shot.stat().st_size > 20_000
    docs_images = os.environ.get("XLLM_DOCS_IMAGES")
    if docs_images:
        shutil.copy(shot, Path(docs_images) / "leaderboard.png")
