"""Anneal schedules: named shapes, and validation against a QPU's properties before any call.

A schedule is a list of ``(t_us, s)`` points, as ``DWaveSampler``'s ``anneal_schedule``
parameter takes it. Named shapes:

* ``forward(annealing_time)``: ``[(0, 0), (annealing_time, 1)]``;
* ``pause_quench(pause_point, pause_us, ramp_us, quench_slope)``: the paper's App. B
  schedule: ramp to ``s = pause_point`` in ``ramp_us`` (paper: 1 us to s = 0.5), hold
  for ``pause_us`` (paper: 10 us), then quench to ``s = 1`` as fast as the device
  allows (``quench_slope=None``: its maximum slope).

Validation follows the QPU's documented rules (see :func:`validate_schedule`); the QPU
sampler and the emulator both use it, so a schedule is refused before any call.

Example:
    >>> props = {"annealing_time_range": [0.5, 2000.0], "max_anneal_schedule_points": 12}
    >>> validate_schedule(pause_quench(props), props)
    [(0.0, 0.0), (1.0, 0.5), (11.0, 0.5), (11.25, 1.0)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..exceptions import ConfigError

__all__ = ["ScheduleError", "forward", "pause_quench", "validate_schedule", "max_slope", "schedule_duration",
           "build_schedule", "SCHEDULE_SHAPES"]

SCHEDULE_SHAPES = ("forward", "pause-quench")


class ScheduleError(ConfigError):
    """An anneal schedule that the device would reject."""


def max_slope(properties: Mapping) -> float:
    """Fastest allowed change of ``s`` per microsecond: a full anneal in the minimum annealing time."""
    lo = float(properties.get("annealing_time_range", [0.5, 2000.0])[0])
    return 1.0 / lo


def forward(annealing_time: float = 20.0) -> list[tuple[float, float]]:
    """A plain forward anneal of ``annealing_time`` microseconds.

    Example:
        >>> forward(5.0)
        [(0.0, 0.0), (5.0, 1.0)]
    """
    return [(0.0, 0.0), (float(annealing_time), 1.0)]


def pause_quench(properties: Mapping | None = None, pause_point: float = 0.5, pause_us: float = 10.0,
                 ramp_us: float = 1.0, quench_slope: float | None = None) -> list[tuple[float, float]]:
    """Ramp to ``pause_point``, pause, then quench (paper App. B defaults).

    Args:
        properties: the device's properties (for its fastest quench).
        pause_point: ``s`` of the pause, in (0, 1).
        pause_us: pause length in microseconds (0 for no pause).
        ramp_us: time of the initial ramp from ``s = 0``.
        quench_slope: ``ds/dt`` of the quench per microsecond; ``None``: the fastest allowed.
    """
    if not 0.0 < pause_point < 1.0:
        raise ScheduleError(f"pause_point must lie in (0, 1), got {pause_point}")
    if ramp_us <= 0 or pause_us < 0:
        raise ScheduleError(f"need ramp_us > 0 and pause_us >= 0, got {ramp_us} and {pause_us}")
    slope = max_slope(properties or {}) if quench_slope is None else float(quench_slope)
    points = [(0.0, 0.0), (float(ramp_us), float(pause_point))]
    if pause_us > 0:
        points.append((float(ramp_us + pause_us), float(pause_point)))
    points.append((round(points[-1][0] + (1.0 - pause_point) / slope, 9), 1.0))
    return points


def schedule_duration(schedule: Sequence[Sequence[float]]) -> float:
    """Total time of a schedule in microseconds."""
    return float(schedule[-1][0])


def validate_schedule(schedule: Any, properties: Mapping) -> list[tuple[float, float]]:
    """Check a schedule like a QPU does and return it as ``(t, s)`` float pairs.

    Rules (those of the QPU's ``anneal_schedule`` parameter, forward anneals only; the
    same as dwave-system's ``DWaveSampler.validate_anneal_schedule``): 2 to
    ``max_anneal_schedule_points`` points, t in microseconds; the first point is
    ``(0, 0)``; t strictly increasing; s in [0, 1] and non-decreasing; the last s is 1;
    the last t lies in ``annealing_time_range``; no segment is steeper than
    ``1 / min(annealing_time_range)`` per microsecond. Reverse anneals (starting at
    s = 1) need ``initial_state`` and are refused.

    Raises:
        TypeError: if the schedule is not a sequence of pairs.
        ScheduleError: (a ``ValueError``) naming the first rule it breaks.
    """
    max_points = int(properties.get("max_anneal_schedule_points", 12))
    t_min, t_max = (float(v) for v in properties.get("annealing_time_range", (0.5, 2000.0)))
    if isinstance(schedule, (str, bytes, Mapping)) or not isinstance(schedule, (Sequence, np.ndarray)):
        raise TypeError(f"anneal_schedule should be a list of (t, s) pairs, got {type(schedule).__name__}")
    try:
        pts = np.asarray(schedule, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"anneal_schedule should be a list of (t, s) pairs of numbers: {exc}") from exc
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise TypeError(f"anneal_schedule should be a list of (t, s) pairs, got shape {pts.shape}")
    n = pts.shape[0]
    if not 2 <= n <= max_points:
        raise ScheduleError(f"anneal_schedule must contain between 2 and {max_points} points (contains {n})")
    if not np.all(np.isfinite(pts)):
        raise ScheduleError("anneal_schedule contains a non-finite value")
    t, s = pts[:, 0], pts[:, 1]
    if s[0] == 1.0:
        raise ScheduleError("reverse annealing (a schedule starting at s=1) needs initial_state, which is not "
                            "supported here; use a forward schedule starting at (0, 0)")
    if t[0] != 0.0 or s[0] != 0.0:
        raise ScheduleError(f"a forward anneal_schedule must start at (t, s) = (0, 0), got ({t[0]:g}, {s[0]:g})")
    bad = np.flatnonzero(np.diff(t) <= 0)
    if bad.size:
        i = int(bad[0])
        raise ScheduleError(f"time t must increase strictly along the schedule: point {i + 1} (t={t[i + 1]:g}) "
                            f"does not come after point {i} (t={t[i]:g})")
    if np.any((s < 0) | (s > 1)):
        raise ScheduleError(f"anneal fraction s must lie in [0, 1], got {s[(s < 0) | (s > 1)][0]:g}")
    if np.any(np.diff(s) < 0):
        i = int(np.flatnonzero(np.diff(s) < 0)[0])
        raise ScheduleError(f"for forward anneals, anneal fraction s must not decrease (point {i} -> {i + 1}: "
                            f"{s[i]:g} -> {s[i + 1]:g})")
    if s[-1] != 1.0:
        raise ScheduleError(f"in the final point, anneal fraction s must equal 1, got {s[-1]:g}")
    if t[-1] > t_max:
        raise ScheduleError(f"schedule cannot be longer than the maximum anneal time of {t_max:g} us "
                            f"(ends at {t[-1]:g} us)")
    if t[-1] < t_min:
        raise ScheduleError(f"schedule cannot be shorter than the minimum anneal time of {t_min:g} us "
                            f"(ends at {t[-1]:g} us)")
    slopes = np.abs(np.diff(s) / np.diff(t))
    limit = 1.0 / t_min
    steep = np.flatnonzero(np.round(slopes, 10) > limit)
    if steep.size:
        i = int(steep[0])
        raise ScheduleError(f"the maximum slope cannot exceed {limit:g} per us (1 / min annealing time); "
                            f"segment {i} -> {i + 1} has slope {slopes[i]:g}")
    return [(float(a), float(b)) for a, b in pts]


def build_schedule(shape: str | Sequence[Sequence[float]] | None, properties: Mapping, **options) -> list | None:
    """A validated schedule from a shape name (``"forward"``, ``"pause-quench"``), explicit points or ``None``.

    Example:
        >>> build_schedule("forward", {"annealing_time_range": [0.5, 2000]}, annealing_time=2.0)
        [(0.0, 0.0), (2.0, 1.0)]
    """
    if shape is None:
        return None
    points: Sequence[Sequence[float]]
    if isinstance(shape, str):
        if shape == "forward":
            points = forward(**options)
        elif shape == "pause-quench":
            points = pause_quench(properties, **options)
        else:
            raise ScheduleError(f"unknown schedule shape {shape!r}; choose one of {SCHEDULE_SHAPES} or give points")
    else:
        if options:
            raise ScheduleError(f"options {sorted(options)} apply to named shapes only")
        points = shape
    return validate_schedule(points, properties)
