"""Tests every sampler plugin should have: it is registered, and it conforms."""

import numpy as np
import pytest

import qhvae
from qhvae.testing import assert_conforms


def test_registered_through_the_entry_point():
    rows = {row.name: row for row in qhvae.list_samplers()}
    assert rows["template-metropolis"].origin == "qhvae-template"  # RENAME
    assert rows["template-metropolis"].status == "ok"


def test_conformance():
    # The kit checks the dimod API, both vartypes, the array path, seeding, NaN rejection
    # and Boltzmann statistics against exact enumeration. quick=True is 4x less sampling.
    assert_conforms(qhvae.get_sampler("template-metropolis"))


def test_bad_parameters_name_the_sampler():
    s = qhvae.get_sampler("template-metropolis")
    with pytest.raises(ValueError, match="template-metropolis"):
        s.sample_arrays(np.zeros(2), None, 3, seed=0, num_sweeps=0)
    with pytest.raises(ValueError, match="template-metropolis"):
        qhvae.get_sampler("template-metropolis", num_sweeps=-5)
