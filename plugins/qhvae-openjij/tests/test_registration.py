"""The plugin is found through its installed entry point, like any third-party plugin."""

from importlib import metadata

import pytest

import qhvae
from qhvae.registry import SamplerRegistry


def test_entry_point_is_installed():
    eps = [ep for ep in metadata.entry_points(group="qhvae") if ep.name == "openjij"]
    assert len(eps) == 1, "run `pip install -e plugins/qhvae-openjij` first"
    assert eps[0].value == "qhvae_openjij.plugin"
    assert eps[0].dist is not None and eps[0].dist.name == "qhvae-openjij"


def test_listed_with_its_package():
    rows = {row.name: row for row in qhvae.list_samplers()}
    assert "openjij-sqa" in rows
    row = rows["openjij-sqa"]
    assert row.origin == "qhvae-openjij"
    assert row.status == "ok"
    assert row.plugin == "openjij"
    assert "quantum annealing" in row.description


def test_get_sampler_builds_it_with_config():
    from qhvae_openjij.sampler import OpenJijSQASampler

    s = qhvae.get_sampler("openjij-sqa", trotter=4, equilibration_sweeps=10)
    assert isinstance(s, OpenJijSQASampler) and isinstance(s, qhvae.BoltzmannSampler)
    assert s.origin == "qhvae-openjij"
    assert s.resolve().trotter == 4
    assert s.properties["effective_beta"] == 1.0
    assert {"num_reads", "seed", "trotter", "gamma", "anneal_sweeps", "equilibration_sweeps"} <= set(s.parameters)


def test_bad_config_names_the_plugin():
    with pytest.raises(ValueError, match=r"'openjij-sqa' \(from package qhvae-openjij\).*trotter"):
        qhvae.get_sampler("openjij-sqa", trotter=1)
    with pytest.raises(TypeError, match="qhvae-openjij"):
        qhvae.get_sampler("openjij-sqa", not_a_parameter=3)


@pytest.mark.parametrize("name", ["openjij", "qhvae-openjij"])
def test_can_be_disabled(name):
    registry = SamplerRegistry(disable=[name])
    assert "openjij-sqa" not in registry.names()
    assert "gibbs" in registry.names()  # built-ins always load
