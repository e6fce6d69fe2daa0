"""Run folders are named by configuration, and those names must outlive changes to the options:
a renamed run is a study that silently trains everything again (or mixes recipes)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from qhvae.experiments import get_experiment, plan_runs
from qhvae.experiments.headline_studies import PAPER_KL_FRACTION
from qhvae.experiments.runner import run_name
from qhvae.training.config import LATER_DEFAULTS, TrainConfig

ROOT = Path(__file__).resolve().parent.parent
STUDIES = sorted((ROOT / "docs" / "experiments").glob("*/experiment.json"))

#: TrainConfig's fields when runs were first named by a hash of their configuration. A field
#: added since must have its value of then in LATER_DEFAULTS, so that older runs keep their names.
ORIGINAL_FIELDS = {
    "dataset",
    "data_dir",
    "train_limit",
    "prior",
    "graph_options",
    "mapping",
    "sampler",
    "sampler_options",
    "epochs",
    "batch_size",
    "learning_rate",
    "final_learning_rate",
    "kl_anneal_fraction",
    "num_negative_samples",
    "k",
    "d",
    "tau",
    "base_filters",
    "hidden",
    "seed",
    "prefetch",
    "checkpoint_every_steps",
    "eval_num_images",
    "eval_num_samples",
    "eval_log_z_replicas",
    "num_plot_samples",
    "gibbs_chain_steps",
    "track_every_epochs",
    "track_num_images",
    "track_num_samples",
    "track_log_z_replicas",
}


@pytest.mark.parametrize(
    "config, seed, name",
    [
        # computed with the code of 6 December 2026 (commit e53e800), before the fc default
        (TrainConfig(prior="chimera", sampler="pa", network="conv"), 0, "digits-chimera-pa-seed0-f5a6b11652"),
        (
            TrainConfig(dataset="mnist", prior="rbm", sampler="gibbs", network="fc", epochs=50),
            2,
            "mnist-rbm-gibbs-seed2-0b8e04ae05",
        ),
    ],
)
def test_known_configurations_keep_their_names(config, seed, name):
    assert run_name(config, seed) == name


def test_every_field_added_since_naming_has_its_earlier_value():
    added = {f.name for f in dataclasses.fields(TrainConfig)} - ORIGINAL_FIELDS
    missing = sorted(added - set(LATER_DEFAULTS))
    assert not missing, (
        f"TrainConfig fields {missing} are not in LATER_DEFAULTS: give each the value runs had "
        "before it existed, or every study's run folders are renamed"
    )


def test_the_headline_finds_its_fifteen_records():
    """The published headline was trained with the paper's KL warm-up, which the study's cpu
    budget no longer uses (issue #25): asked for it, it plans exactly the records."""
    out = ROOT / "docs" / "experiments" / "headline"
    planned = plan_runs("headline", out, overrides={"kl_anneal_fraction": PAPER_KL_FRACTION})
    assert len(planned) == 15
    assert all((run.record_dir / "config.json").is_file() for run in planned), [
        run.record_dir.name for run in planned if not (run.record_dir / "config.json").is_file()
    ]


@pytest.mark.parametrize("manifest", STUDIES, ids=[p.parent.name for p in STUDIES])
def test_every_committed_study_still_plans_its_runs(manifest):
    data = json.loads(manifest.read_text())
    planned = {
        run.run_dir.name
        for run in plan_runs(
            get_experiment(data["experiment"]),
            manifest.parent,
            budget=data["budget"],
            overrides=data.get("overrides") or None,
        )
    }
    written = {Path(run["run_dir"]).name for run in data["runs"]}
    assert written <= planned, f"{manifest.parent.name}: runs no longer planned: {sorted(written - planned)}"
    records = manifest.parent / "records"
    if records.is_dir():
        kept = {p.name for p in records.iterdir() if p.is_dir()}
        assert kept <= planned, f"{manifest.parent.name}: records no longer found: {sorted(kept - planned)}"
