"""The ``scaling_law`` analyzer plugin: fit the paper's eq. 2 per language (Figure 3).

- :mod:`.inputs`: the points file (scores, or lm-eval output folders read through
  :mod:`xllm_harness.results.lm_eval`) and the per-language options (``--gamma``, ``--target``);
- :mod:`.fit`: least-squares fit, goodness of fit, bootstrap, inverse prediction, bad-fit judgement;
- :mod:`.plot`: the figure;
- :mod:`.analyzer`: the command and the steps of a run.

The law (``PowerLaw``) and the laws file it writes are core: :mod:`xllm_harness.analysis.scaling`.
"""

from __future__ import annotations

from xllm_harness.analyzers import Analyzer
from xllm_harness.hookspecs import hookimpl
from xllm_harness.plugins.analyzers.scaling_law.analyzer import ScalingLaw


@hookimpl
def xllm_analyzers() -> list[type[Analyzer]]:
    return [ScalingLaw]
