"""qhvae's own conformance kit: the contract every sampler plugin must honour."""

import pytest

import qhvae
from qhvae.testing import assert_conforms


@pytest.mark.slow
def test_conformance():
    report = assert_conforms(qhvae.get_sampler("openjij-sqa"))
    assert report.passed
