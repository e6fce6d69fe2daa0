"""How the ``qhvae`` command reads its options: the parser and the option values.

The commands themselves are in :mod:`qhvae.cli`; this module holds what they share to read
their arguments:

* :class:`Parser` (with :class:`StoreOnce`): argparse, except that a single-valued option
  given twice with different values is refused instead of silently keeping the last;
* :func:`add_config_arguments`: one option per :class:`~qhvae.training.TrainConfig` field
  that has a flag, generated from the field's metadata, and :func:`given_options`, the
  fields the user gave; :func:`add_run_arguments`: the arguments of the commands that work
  on a trained run (``evaluate``, ``sample``);
* the values: :func:`parse_params` (``KEY=VALUE`` options), :func:`parse_value`,
  :func:`non_negative_int`, :func:`sampler_choice` and :func:`check_out_file`.

Example:
    >>> parse_params(["num_sweeps=64", "noise_profile=low", "betas=0.1,1"])
    {'num_sweeps': 64, 'noise_profile': 'low', 'betas': [0.1, 1]}
    >>> non_negative_int("3")
    3
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from .exceptions import ConfigError

__all__ = [
    "Parser",
    "StoreOnce",
    "add_config_arguments",
    "add_run_arguments",
    "check_out_file",
    "given_options",
    "non_negative_int",
    "parse_params",
    "parse_value",
    "sampler_choice",
]


def parse_value(raw: str) -> object:
    """One option value: int, float, bool, a comma-separated list of those, or the string itself."""
    if "," in raw:
        return [parse_value(part) for part in raw.split(",") if part]
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            continue
    return raw


def parse_params(items: Sequence[str], flag: str = "--sampler-option") -> dict:
    """``key=value`` pairs of the option ``flag``; values parsed by :func:`parse_value`.

    A key given twice with different values is refused (neither value would be the right one to drop).
    """
    params: dict[str, object] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"{flag} {item!r} must look like key=value")
        key, raw = item.split("=", 1)
        if not key.strip():
            raise ConfigError(f"{flag} {item!r} has no key before '='; write key=value")
        value = parse_value(raw)
        if key in params and params[key] != value:
            raise ConfigError(f"{flag} {key} is given twice ({_raw_of(params[key])} and {raw}); give it once")
        params[key] = value
    return params


def _raw_of(value: object) -> str:
    """A parsed option value as it was written (for messages)."""
    if isinstance(value, list):
        return ",".join(_raw_of(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


class StoreOnce(argparse.Action):
    """argparse's ``store``, except that an option given twice with different values is refused
    (which one the user meant cannot be known; argparse would silently keep the last)."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = getattr(namespace, "_given", None)
        if seen is None:
            seen = {}
            namespace._given = seen
        if self.dest in seen and seen[self.dest] != values:
            parser.error(f"{option_string} is given twice ({seen[self.dest]} and {values}); give it once")
        seen[self.dest] = values
        setattr(namespace, self.dest, values)


class Parser(argparse.ArgumentParser):
    """The ``qhvae`` parsers: single-valued options refuse a second, different value."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register("action", None, StoreOnce)
        self.register("action", "store", StoreOnce)

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if "_given" in vars(namespace):
            del namespace._given  # StoreOnce's record of this parse, not an option
        return namespace, extras


def non_negative_int(text: str) -> int:
    """argparse type of seeds and counts that may be 0 (argparse names the option in its message)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {value}")
    return value


def check_out_file(path: str | None, flag: str = "--out") -> None:
    """Refuse before any work an output file whose folder cannot be made (a parent is a file)."""
    if path is None:
        return
    for parent in Path(path).parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"{flag} {path}: {parent} is a file, not a folder; choose another path")
            break


def given_options(args: argparse.Namespace) -> dict:
    """The :class:`~qhvae.training.TrainConfig` fields the user gave on the command line.

    Their values as argparse parsed them, and ``KEY=VALUE`` options as dicts (:func:`parse_params`).
    """
    from .training.config import TrainConfig

    given = {}
    for f in dataclasses.fields(TrainConfig):
        flag, value = f.metadata["flag"], getattr(args, f.name, None)
        if flag is None or value is None or value == []:
            continue
        given[f.name] = parse_params(value, flag) if f.metadata["cli"] == "pairs" else value
    return given


def sampler_choice(args: argparse.Namespace) -> tuple[str | None, dict]:
    """``--sampler`` and its ``--sampler-option``s (options without a sampler are refused, not dropped)."""
    options = parse_params(args.sampler_option)
    if options and not args.sampler:
        raise ConfigError("--sampler-option configures --sampler; name the sampler too (e.g. --sampler pa)")
    return args.sampler, options


def add_run_arguments(p: argparse.ArgumentParser, seed: str, sampler: str) -> None:
    """The arguments of the commands that work on a trained run with a sampler of its prior
    (``evaluate`` and ``sample``): RUN, ``--seed``, ``--sampler`` and ``--sampler-option``."""
    p.add_argument("run", metavar="RUN", help="run directory")
    p.add_argument("--seed", type=non_negative_int, default=0, help=f"{seed} (default 0)")
    p.add_argument("--sampler", help=f"{sampler}. The run's training sampler is never needed")
    p.add_argument(
        "--sampler-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="configuration of --sampler (repeatable)",
    )


def add_config_arguments(p: argparse.ArgumentParser) -> None:
    """One argument per :class:`~qhvae.training.TrainConfig` field that has a flag, generated
    from the field's metadata (:func:`qhvae.training.config.option`); ``dest`` is the field."""
    from .training.config import TrainConfig

    defaults = TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        flag = f.metadata["flag"]
        if flag is None:
            continue
        text = f.metadata["help"].replace("{default}", str(getattr(defaults, f.name)))
        kind = f.metadata["cli"]
        if kind == "pairs":
            p.add_argument(flag, dest=f.name, action="append", default=[], metavar="KEY=VALUE", help=text)
        elif kind in ("switch", "negate"):
            p.add_argument(flag, dest=f.name, action="store_const", const=kind == "switch", help=text)
        else:
            annotation = str(f.type)
            cast: Callable[[str], object] = (
                int if annotation.startswith("int") else float if annotation.startswith("float") else str
            )
            if cast is int and f.metadata.get("minimum") == 0:
                cast = non_negative_int
            metavar = f.metadata["metavar"] or flag.lstrip("-").upper().replace("-", "_")
            p.add_argument(flag, dest=f.name, type=cast, metavar=metavar, help=text)
