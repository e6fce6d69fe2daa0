"""qhvae's exceptions (qhvae/exceptions.py) and how the command line reports them: a user's
mistake is a clear message and exit 2; a bug, in qhvae or in a sampler, shows its traceback."""

from __future__ import annotations

import inspect

import pytest

import qhvae.exceptions as exceptions
from qhvae.cli import main
from qhvae.exceptions import ConfigError, QhvaeError, SamplerError, UnknownNameError


def test_every_error_is_a_qhvae_error_and_the_builtin_it_is_a_case_of():
    classes = [c for _, c in inspect.getmembers(exceptions, inspect.isclass) if c.__module__ == exceptions.__name__]
    assert set(exceptions.__all__) == {c.__name__ for c in classes}
    assert all(issubclass(c, QhvaeError) for c in classes)
    assert issubclass(ConfigError, ValueError) and issubclass(SamplerError, RuntimeError)
    assert issubclass(exceptions.DataNotFoundError, FileNotFoundError)
    assert str(UnknownNameError("unknown sampler 'x'")) == "unknown sampler 'x'"  # not KeyError's quoted repr


def test_the_old_import_paths_are_the_same_classes():
    from qhvae.training.config import RunError, TrainingDiverged, TrainingFailed

    assert (RunError, TrainingDiverged, TrainingFailed) == (exceptions.RunError, exceptions.TrainingDiverged,
                                                            exceptions.TrainingFailed)


def test_unknown_names_are_qhvae_errors_and_still_key_errors():
    import qhvae
    from qhvae.experiments import get_experiment

    for lookup in (lambda: qhvae.get_sampler("nope"), lambda: get_experiment("nope")):
        with pytest.raises(UnknownNameError) as exc:
            lookup()
        assert isinstance(exc.value, KeyError) and "nope" in str(exc.value)


def test_a_bad_option_is_a_clear_usage_error(capsys):
    assert main(["demo", "--samplers", "nope", "--num-reads", "10"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unknown sampler 'nope'" in " ".join(err.split())


def test_a_bug_planted_in_a_sampler_shows_its_traceback(monkeypatch, capsys, tmp_path):
    from qhvae.samplers.gibbs import GibbsSampler

    def planted(self, *args, **kwargs):
        return 1 / 0

    monkeypatch.setattr(GibbsSampler, "_sample", planted)
    assert main(["demo", "--samplers", "gibbs", "--num-reads", "10", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError" in err and "planted" in err
    assert "bug in the sampler's code" in " ".join(err.split())


def test_a_bug_in_qhvae_is_an_internal_error_with_its_traceback(monkeypatch, capsys):
    import qhvae.registry

    def broken():
        raise TypeError("planted")

    monkeypatch.setattr(qhvae.registry, "list_samplers", broken)
    assert main(["samplers"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "Traceback" in err and "TypeError: planted" in err and "this is a bug, not your input" in err


def test_a_sampler_that_fails_on_purpose_is_a_clear_failure(monkeypatch, capsys, tmp_path):
    from qhvae.samplers.gibbs import GibbsSampler

    def unreachable(self, *args, **kwargs):
        raise ConnectionError("the device is unreachable")

    monkeypatch.setattr(GibbsSampler, "_sample", unreachable)
    assert main(["demo", "--samplers", "gibbs", "--num-reads", "10", "--out", str(tmp_path)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "Traceback" not in err and "the device is unreachable" in err
