"""qhvae's test suite (a package, so that its conftest.py and the plugins' are distinct modules)."""
