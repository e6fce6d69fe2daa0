"""Anneal schedules: named shapes, and validation against a QPU's properties before any call.

A schedule is a list of ``(t_us, s)`` points, as ``DWaveSampler``'s ``anneal_schedule``
parameter takes it. Named shapes:

* ``forward(annealing_time)``: ``[(0, 0), (annealing_time, 1)]``;
* ``pause_quench(pause_point, pause_us, ramp_us, quench_slope)``: the paper's App. B
  schedule: ramp to ``s = pause_point`` in ``ramp_us`` (paper: 1 us to s = 0.5), hold
  for ``pause_us`` (paper: 10 us), then quench to ``s = 1`` as fast as the device
  allows (``quench_slope=None``: its maximum slope).

Validation follows the documented QPU rules: the schedule starts at ``t = 0``, its
times increase strictly, ``s`` stays in [0, 1], a forward anneal starts at ``s = 0``
and ends at ``s = 1``, there are at most ``max_anneal_schedule_points`` points, the
total time lies in ``annealing_time_range``, and no segment is steeper than the
fastest allowed anneal, ``1 / annealing_time_range[0]`` per microsecond.

Example:
    >>> props = {"annealing_time_range": [0.5, 2000.0], "max_anneal_schedule_points": 12}
    >>> validate_schedule(pause_quench(props), props)
    [(0.0, 0.0), (1.0, 0.5), (11.0, 0.5), (11.25, 1.0)]
"""

from __future__ import annotations

from typing import Mapping, Sequence

__all__ = ["ScheduleError", "forward", "pause_quench", "validate_schedule", "max_slope", "schedule_duration",
           "build_schedule", "SCHEDULE_SHAPES"]

SCHEDULE_SHAPES = ("forward", "pause-quench")
_EPS = 1e-9


class ScheduleError(ValueError):
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


def validate_schedule(schedule: Sequence[Sequence[float]], properties: Mapping) -> list[tuple[float, float]]:
    """Check a schedule against a device's properties; return it as a list of float pairs.

    Raises:
        ScheduleError: naming the rule broken and the offending point.
    """
    try:
        points = [(float(t), float(s)) for t, s in schedule]
    except (TypeError, ValueError):
        raise ScheduleError(f"an anneal schedule is a list of (t_us, s) pairs, got {schedule!r}") from None
    limit = int(properties.get("max_anneal_schedule_points", 12))
    if len(points) < 2:
        raise ScheduleError("an anneal schedule needs at least two points")
    if len(points) > limit:
        raise ScheduleError(f"the schedule has {len(points)} points; this device allows at most {limit}")
    if points[0][0] != 0.0:
        raise ScheduleError(f"the schedule must start at t = 0, got t = {points[0][0]}")
    for i, (t, s) in enumerate(points):
        if not 0.0 <= s <= 1.0:
            raise ScheduleError(f"point {i} has s = {s}, outside [0, 1]")
    if points[0][1] != 0.0:
        raise ScheduleError(f"a forward anneal starts at s = 0, got s = {points[0][1]} (reverse anneals need "
                            "initial_state and are not supported here)")
    if points[-1][1] != 1.0:
        raise ScheduleError(f"the schedule must end at s = 1, got s = {points[-1][1]}")
    slope_limit = max_slope(properties)
    for i in range(1, len(points)):
        (t0, s0), (t1, s1) = points[i - 1], points[i]
        if t1 <= t0:
            raise ScheduleError(f"times must increase strictly: point {i} at t = {t1} follows t = {t0}")
        slope = abs(s1 - s0) / (t1 - t0)
        if slope > slope_limit * (1 + _EPS):
            raise ScheduleError(
                f"segment {i} changes s by {s1 - s0:+g} in {t1 - t0:g} us (slope {slope:g}/us); this device allows "
                f"at most {slope_limit:g}/us (1 / minimum annealing time)"
            )
    lo, hi = (float(v) for v in properties.get("annealing_time_range", [0.5, 2000.0]))
    total = points[-1][0]
    if not lo - _EPS <= total <= hi + _EPS:
        raise ScheduleError(f"the schedule lasts {total:g} us; this device allows {lo:g} to {hi:g} us")
    return points


def build_schedule(shape: str | Sequence[Sequence[float]] | None, properties: Mapping, **options) -> list | None:
    """A validated schedule from a shape name (``"forward"``, ``"pause-quench"``), explicit points or ``None``.

    Example:
        >>> build_schedule("forward", {"annealing_time_range": [0.5, 2000]}, annealing_time=2.0)
        [(0.0, 0.0), (2.0, 1.0)]
    """
    if shape is None:
        return None
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
