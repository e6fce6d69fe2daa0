"""The paper's experiments as runnable studies: ``qhvae experiment NAME``.

:data:`EXPERIMENTS` holds the paper's six studies (``connectivity``, ``mapping``, ``samplers``,
``noise``, ``datasets``, ``modes``) and four at the headline's budget: the ``headline`` study
(Chimera vs Bernoulli on full MNIST), the ``recipe`` study (the headline's fast arms with longer
KL warm-ups), the ``conditional`` study (class-conditional priors) and the ``hidden`` study
(hidden units in the prior); :func:`run_experiment` trains their runs resumably and writes
tables (CSV, Markdown with the paper's claims checked) and plots.
The modules: :mod:`~qhvae.experiments.design` (what a study is made of: arms, claims,
budgets), :mod:`~qhvae.experiments.studies` (the paper's studies as data, and every study by
name), :mod:`~qhvae.experiments.headline_studies` (the studies at the headline's budget),
:mod:`~qhvae.experiments.runner` (planning and running), :mod:`~qhvae.experiments.analysis`
(results, statistics, claims) and :mod:`~qhvae.experiments.report` (tables and figures).

The studies are imported with the package; the runner, analysis and report (which load
Keras and TensorFlow) on first use, so listing the studies stays quick.

Example:
    >>> from qhvae.experiments import EXPERIMENTS
    >>> sorted(EXPERIMENTS)
    ['conditional', 'connectivity', 'datasets', 'headline', 'hidden', 'mapping', 'modes', 'noise', 'recipe', 'samplers']
"""

from __future__ import annotations

from ..lazy import lazy_exports
from .studies import BUDGETS, EXPERIMENTS, Arm, Budget, BudgetChange, Claim, Experiment, get_experiment

__all__ = [
    "Arm",
    "Budget",
    "BudgetChange",
    "Claim",
    "Experiment",
    "BUDGETS",
    "EXPERIMENTS",
    "get_experiment",
    "PlannedRun",
    "plan_runs",
    "run_name",
    "config_key",
    "run_experiment",
    "collect_results",
    "summarize",
    "check_claims",
    "difference_over_training",
    "write_report",
    "modes_statistics",
    "LocalExecutor",
    "RayExecutor",
    "executor_by_name",
]

_HOME = {
    "PlannedRun": "runner", "plan_runs": "runner", "run_name": "runner", "config_key": "runner",
    "run_experiment": "runner", "collect_results": "analysis", "summarize": "analysis", "check_claims": "analysis",
    "difference_over_training": "analysis", "modes_statistics": "analysis", "write_report": "report",
    "LocalExecutor": "executors", "RayExecutor": "executors", "executor_by_name": "executors",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOME, __all__)
