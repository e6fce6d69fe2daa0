"""The negative phase: model samples from a BoltzmannSampler, optionally one step ahead."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from ..samplers.base import BoltzmannSampler
from ..topology import LatentGraph

__all__ = ["NegativePhase", "resolve_sampler"]


def resolve_sampler(sampler: BoltzmannSampler | str | None, graph: LatentGraph,
                    config: dict[str, Any] | None = None) -> BoltzmannSampler:
    """A sampler instance from a name or instance; ``None`` picks exact sampling for an
    edge-free (Bernoulli) graph and population annealing otherwise."""
    from ..registry import get_sampler

    if sampler is None:
        sampler = "exact" if graph.num_edges == 0 else "pa"
    if isinstance(sampler, str):
        sampler = get_sampler(sampler, **(config or {}))
    if not isinstance(sampler, BoltzmannSampler):
        raise TypeError(f"sampler must be a registered name or a qhvae.BoltzmannSampler, got {type(sampler).__name__}")
    if getattr(sampler, "graph", "absent") is None:
        sampler.graph = graph  # use the graph's own colouring for block updates
    return sampler


class NegativePhase:
    """Callable ``(b, w) -> (N, L)`` float32 model samples for the training step.

    With ``prefetch=True`` the sampler runs in a background thread while the current
    step trains: a call returns the samples requested by the previous call (drawn for
    the parameters of one step earlier) and starts sampling for the current parameters.
    The price is one step of staleness in the negative phase, which
    ``benchmarks/bench_training.py`` measures.

    Args:
        sampler: the sampler.
        graph: the latent graph (edges of ``w``).
        num_samples: samples per call.
        prefetch: overlap sampling with training.
        seed: base seed; call ``t`` uses ``seed + t``.
    """

    def __init__(self, sampler: BoltzmannSampler, graph: LatentGraph, num_samples: int = 1000,
                 prefetch: bool = False, seed: int | None = None):
        self.sampler, self.graph = sampler, graph
        self.num_samples, self.prefetch = int(num_samples), bool(prefetch)
        self.seed = int(np.random.SeedSequence().generate_state(1)[0] >> 1) if seed is None else int(seed)
        self.calls = 0
        self._pending: Future | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _draw(self, b: np.ndarray, w: np.ndarray, call: int) -> np.ndarray:
        samples = self.sampler.sample_arrays(
            np.asarray(b, np.float64), (self.graph.edges, np.asarray(w, np.float64)[: self.graph.num_edges]),
            self.num_samples, seed=self.seed + call,
        )
        return samples.astype(np.float32)

    def _next_call(self) -> int:
        call, self.calls = self.calls, self.calls + 1
        return call

    def __call__(self, b: np.ndarray, w: np.ndarray) -> np.ndarray:
        with self._lock:
            if not self.prefetch:
                return self._draw(b, w, self._next_call())
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="qhvae-negative-phase")
            # Never two calls of one sampler at once (persistent samplers are not thread-safe):
            # the first call samples in the foreground, later ones take what the background drew.
            if self._pending is None:
                result = self._draw(b, w, self._next_call())
            else:
                result = self._pending.result()
            self._pending = self._executor.submit(self._draw, np.array(b), np.array(w), self._next_call())
            return result

    def reset(self) -> None:
        """Drop a prefetched batch (after loading weights, the parameters it used are gone)."""
        with self._lock:
            if self._pending is not None and not self._pending.cancel():
                self._pending.exception()  # wait: the sampler must be idle before its state changes
            self._pending = None

    def get_state(self) -> dict[str, np.ndarray]:
        """Sampler state plus the call counter, for checkpoints (waits for a prefetch in flight)."""
        with self._lock:
            pending = self._pending
        if pending is not None:
            pending.exception()  # the background draw must not move the chains while they are read
        state = {f"sampler/{k}": v for k, v in self.sampler.get_state().items()}
        state["calls"] = np.int64(self.calls)
        state["seed"] = np.int64(self.seed)
        return state

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.reset()
        self.calls = int(state.get("calls", 0))
        self.seed = int(state.get("seed", self.seed))
        self.sampler.set_state({k.split("/", 1)[1]: v for k, v in state.items() if k.startswith("sampler/")})

    def close(self) -> None:
        self.reset()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
