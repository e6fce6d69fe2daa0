"""Fixtures shared by the qhvae-openjij tests."""

import pytest

import qhvae


@pytest.fixture(scope="session")
def sqa():
    """The sampler as users get it: through qhvae's registry."""
    return qhvae.get_sampler("openjij-sqa")
