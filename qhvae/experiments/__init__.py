"""The paper's experiments as runnable studies: ``qhvae experiment NAME``.

:data:`EXPERIMENTS` holds the six studies (``connectivity``, ``mapping``, ``samplers``,
``noise``, ``datasets``, ``modes``); :func:`run_experiment` trains their runs
resumably and writes tables (CSV, Markdown with the paper's claims checked) and plots.

Example:
    >>> from qhvae.experiments import EXPERIMENTS
    >>> sorted(EXPERIMENTS)
    ['connectivity', 'datasets', 'mapping', 'modes', 'noise', 'samplers']
"""

from .catalogue import BUDGETS, EXPERIMENTS, Arm, Budget, Claim, Experiment, get_experiment
from .runner import (PlannedRun, check_claims, collect_results, config_key, modes_statistics, plan_runs,
                     run_experiment, run_name, summarize, write_report)

__all__ = [
    "Arm",
    "Budget",
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
    "write_report",
    "modes_statistics",
]
