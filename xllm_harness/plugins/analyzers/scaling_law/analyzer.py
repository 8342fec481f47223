"""``xllm analyze scaling_law``: the command — options, the steps of a run, what it writes and prints."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xllm_harness.analysis.scaling import write_laws
from xllm_harness.analyzers import Analyzer, AnalyzerOptions, option, output_dir, save_figure, warn, write_csv
from xllm_harness.errors import InputError, UnknownNameError, did_you_mean
from xllm_harness.plugins.analyzers.scaling_law import plot
from xllm_harness.plugins.analyzers.scaling_law.fit import FitSettings, fit_language
from xllm_harness.plugins.analyzers.scaling_law.inputs import (
    Point,
    by_language,
    parse_per_language,
    read_gammas,
    read_points,
)

CSV_FIELDS = ["alpha", "beta", "gamma", "r2", "rmse", "loo_rmse", "n_points", "bad_fit"]


class ScalingLaw(Analyzer):
    name = "scaling_law"
    help = "fit S(X) = 100 - alpha*(gamma*X)^beta per language (paper eq. 2, Figure 3)"
    description = """\
Fit the paper's scaling law (eq. 2) for each language:

    S(X) = 100 - alpha * (gamma * X)^beta,   alpha > 0, beta in (-1, 0)

from (data size X, score S) points, with the language similarity gamma given. Reports R2, RMSE and the
leave-one-point-out error (LOO-RMSE: refit without each point, predict it), studentized bootstrap
intervals for alpha and beta (their draws in laws.json, for the allocator), the data needed for target scores, and draws the fit like
Figure 3. Scores must lie in [0, 100] (after --score-scale); a fit with R2 < 0 or beta on a bound
is marked as a bad fit in laws.json, and the allocator refuses such laws.

The points file (CSV, JSON or JSON Lines) has one row per (language, data size): either
language,data_size,score or, to read lm-eval output, language,data_size,results,task,metric where
results is an lm-eval output folder (its newest results file) or results JSON, relative to the
points file."""
    example = """\
examples:
  xllm analyze scaling_law --points points.csv --gamma ar=0.5,hi=0.4,zh=0.62 --target hi=85
  xllm analyze scaling_law --points runs.csv --metric comet --score-scale 100 \\
      --gamma analysis/similarity/similarity.json -o analysis/scaling_law"""

    @dataclass(kw_only=True)
    class Options(AnalyzerOptions):
        points: str = option(
            "CSV/JSON rows: language,data_size,score (or language,data_size,results,task,metric)"
        )
        gamma: tuple[str, ...] = option(
            "language similarity in (0, 1): a number for all, LANG=VALUE (repeatable), "
            "or similarity.json from 'xllm analyze similarity'",
            metavar="G",
        )
        metric: str | None = option(
            "metric to read from lm-eval results (e.g. comet; 'name,filter' for another filter); "
            "also names the plot's axis",
            default=None,
        )
        score_scale: float = option(
            "multiply scores (100 for COMET in [0, 1]; default: %(default)s)", default=1.0
        )
        bootstrap: int = option("bootstrap resamples (0: none)", default=1000)
        bootstrap_method: str = option(
            "bootstrap-t over residual resamples (holds its level; docs/analyzers/scaling_law.md), "
            "the percentile residual bootstrap, or resample points",
            default="studentized",
            choices=["studentized", "residual", "pairs"],
        )
        confidence: float = option("interval level", default=0.95)
        seed: int = option("bootstrap random seed (default: %(default)s)", default=0)
        target: tuple[str, ...] | None = option(
            "score to reach: a number for every language or LANG=SCORE (repeatable); reports the data needed",
            default=None,
            metavar="T",
        )

    def run(self, options: Options) -> dict[str, Any]:
        out = output_dir(options.output)
        settings = self._settings(options)
        by_lang = by_language(read_points(options.points, options.metric, options.score_scale))
        gammas = self._gammas(options.gamma, by_lang)
        targets = self._targets(options.target, by_lang)
        self._check_scale(by_lang, options.score_scale)
        laws = self._fit(by_lang, gammas, targets, settings)
        files = self._write(out, options, by_lang, laws)
        self._report(laws)
        return {"laws": laws, "files": files}

    # -- the steps of a run --------------------------------------------------------------------

    @staticmethod
    def _settings(options: ScalingLaw.Options) -> FitSettings:
        if not 0 < options.confidence < 1:
            raise InputError(f"--confidence must lie in (0, 1), got {options.confidence}")
        if options.bootstrap < 0:
            raise InputError(
                f"--bootstrap must be 0 (none) or a number of resamples, got {options.bootstrap}"
            )
        return FitSettings(options.bootstrap, options.bootstrap_method, options.confidence, options.seed)

    @staticmethod
    def _gammas(values: Sequence[str], by_lang: dict[str, list[Point]]) -> dict[str, float]:
        """γ for every language with points (each in (0, 1))."""
        default, per_lang = read_gammas(values)
        gammas = {}
        for lang in by_lang:
            gamma = per_lang.get(lang, default)
            if gamma is None:
                raise InputError(
                    f"--gamma: no similarity for {lang!r}; give --gamma {lang}=VALUE or a default"
                )
            if not 0 < gamma < 1:
                raise InputError(f"--gamma for {lang!r} must lie in (0, 1), got {gamma}")
            gammas[lang] = gamma
        return gammas

    @staticmethod
    def _targets(values: Sequence[str] | None, by_lang: dict[str, list[Point]]) -> dict[str, float | None]:
        """The target score of every language (None: no target); a target for an unknown language is an error."""
        default, per_lang = parse_per_language(values, "--target")
        for lang in per_lang:
            if lang not in by_lang:
                raise UnknownNameError(
                    f"--target {lang}=...: no points for language {lang!r}{did_you_mean(lang, by_lang)}; "
                    f"the points file has {', '.join(by_lang)}"
                )
        return {lang: per_lang.get(lang, default) for lang in by_lang}

    @staticmethod
    def _check_scale(by_lang: dict[str, list[Point]], score_scale: float) -> None:
        if score_scale == 1.0 and max(p.score for pts in by_lang.values() for p in pts) <= 1.0:
            warn("every score is <= 1; the law's ceiling is 100 (use --score-scale 100 for COMET in [0, 1])")

    @staticmethod
    def _fit(
        by_lang: dict[str, list[Point]],
        gammas: dict[str, float],
        targets: dict[str, float | None],
        settings: FitSettings,
    ) -> dict[str, dict[str, Any]]:
        from tqdm.auto import tqdm

        laws = {}
        for lang in tqdm(by_lang, desc="scaling_law", file=sys.stderr, disable=None):
            x = [p.data_size for p in by_lang[lang]]
            s = [p.score for p in by_lang[lang]]
            laws[lang] = fit_language(lang, x, s, gammas[lang], settings, targets[lang])
        return laws

    @staticmethod
    def _write(
        out: Path,
        options: ScalingLaw.Options,
        by_lang: dict[str, list[Point]],
        laws: dict[str, dict[str, Any]],
    ) -> dict[str, str]:
        rows = [
            {
                "language": lang,
                **{k: entry[k] for k in CSV_FIELDS},
                "alpha_lo": entry.get("alpha_ci", [None])[0],
                "alpha_hi": entry.get("alpha_ci", [None, None])[1],
                "beta_lo": entry.get("beta_ci", [None])[0],
                "beta_hi": entry.get("beta_ci", [None, None])[1],
                "target_score": entry.get("target", {}).get("score"),
                "data_needed": entry.get("target", {}).get("data_size"),
            }
            for lang, entry in laws.items()
        ]
        points = [p for pts in by_lang.values() for p in pts]
        figure = plot.figure(by_lang, laws, plot.score_label(points, options.score_scale))
        laws_file = write_laws(
            out / "laws.json", laws, points_file=str(options.points), confidence=options.confidence
        )
        return {
            "json": str(laws_file),
            "csv": str(write_csv(out / "laws.csv", rows)),
            "png": str(save_figure(figure, out / "scaling_law.png")),
        }

    @staticmethod
    def _report(laws: dict[str, dict[str, Any]]) -> None:
        """One line per language on stdout; each warning on stderr; bad fits marked on both."""
        for lang, entry in laws.items():
            line = (
                f"{lang}: alpha={entry['alpha']:.4g} beta={entry['beta']:.4f} gamma={entry['gamma']:.3g} "
                f"R2={entry['r2']:.4g} RMSE={entry['rmse']:.3g}"
            )
            if entry["loo_rmse"] is not None:
                line += f" LOO-RMSE={entry['loo_rmse']:.3g}"
            if "beta_ci" in entry:
                line += f" beta CI=[{entry['beta_ci'][0]:.4f}, {entry['beta_ci'][1]:.4f}]"
            if "target" in entry:
                line += f" | {entry['target']['score']:g} needs X={entry['target']['data_size']:,.0f}"
            if entry["bad_fit"]:
                line += " | BAD FIT (marked in laws.json; the allocator refuses it)"
            print(line)
            for message in entry["warnings"]:
                warn(f"{lang}: {message}")
