"""TrainConfig's fields are the one source of qhvae's training options: the ``qhvae train``
arguments, the resume rules and the run names are generated from their metadata."""

from __future__ import annotations

import dataclasses

import pytest

from qhvae.cli import build_parser
from qhvae.cli_options import given_options
from qhvae.training.config import RESUME_OPTIONS, RunError, TrainConfig, check_resume_changes, option_flag


def _train_actions():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return {a.dest: a for a in sub.choices["train"]._actions}


def test_every_field_with_a_flag_is_a_train_argument():
    actions = _train_actions()
    for f in dataclasses.fields(TrainConfig):
        if f.metadata["flag"]:
            assert f.name in actions, f"{f.name}'s {f.metadata['flag']} is not an argument of qhvae train"
            assert f.metadata["flag"] in actions[f.name].option_strings


def test_the_resume_rules_are_the_ones_users_had():
    assert RESUME_OPTIONS == ("epochs", "learning_rate", "final_learning_rate", "checkpoint_every_steps",
                              "eval_num_images", "eval_num_samples", "eval_log_z_replicas", "num_plot_samples",
                              "gibbs_chain_steps", "track_every_epochs", "track_num_images", "track_num_samples",
                              "track_log_z_replicas", "tensorboard")
    check_resume_changes({"epochs": 3, "tensorboard": False})
    with pytest.raises(RunError, match=r"^--limit, --network-option cannot change when resuming"):
        check_resume_changes({"train_limit": 3, "network_options": {"hidden": [8]}})


def test_options_arrive_as_fields_with_their_values_parsed():
    args = build_parser().parse_args(["train", "--limit", "5", "--graph-option", "m=1", "--no-tensorboard",
                                      "--prefetch", "--seed", "3"])
    assert given_options(args) == {"train_limit": 5, "graph_options": {"m": 1}, "tensorboard": False,
                                   "prefetch": True, "seed": 3}
    assert given_options(build_parser().parse_args(["train"])) == {}


def test_users_are_told_the_flag_they_typed():
    assert [option_flag(n) for n in ("train_limit", "checkpoint_every_steps", "tensorboard", "k")] == \
        ["--limit", "--checkpoint-every", "--no-tensorboard", "k"]
