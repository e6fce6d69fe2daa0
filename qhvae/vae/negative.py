"""The negative phase: model samples from a BoltzmannSampler, optionally one step ahead.

The sampler is built on first use (a model loaded for evaluation never needs the sampler it
was trained with), and every sampler call runs in a worker thread that the caller waits on
in short polls: setting :attr:`NegativePhase.abort` (the training loop does so on Ctrl-C)
abandons a call that hangs, and a caller in the main thread stays interruptible.
"""

from __future__ import annotations

import queue
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from ..samplers.base import BoltzmannSampler, adopt_graph
from ..topology import LatentGraph

__all__ = ["NegativePhase", "SamplingInterrupted", "resolve_sampler"]

#: Seconds between two looks at the abort event while a sampler call runs.
POLL_SECONDS = 0.05


class SamplingInterrupted(KeyboardInterrupt):
    """A sampler call was abandoned because training was interrupted (Ctrl-C, SIGTERM) while it ran."""


def resolve_sampler(sampler: BoltzmannSampler | str | None, graph: LatentGraph,
                    config: dict[str, Any] | None = None, seed: int | None = None) -> BoltzmannSampler:
    """A sampler instance from a name or instance; ``None`` picks exact sampling for an
    edge-free (Bernoulli) graph and population annealing otherwise.

    A sampler built by name whose factory takes a ``seed`` (the emulator, the qpu sampler)
    gets ``seed`` unless ``config`` gives one
    (:meth:`~qhvae.registry.SamplerRegistry.seeded_options`).
    """
    from ..registry import default_registry

    if sampler is None:
        sampler = "exact" if graph.num_edges == 0 else "pa"
    if isinstance(sampler, str):
        registry = default_registry()
        sampler = registry.get(sampler, **registry.seeded_options(sampler, config or {}, seed))
    if not isinstance(sampler, BoltzmannSampler):
        raise TypeError(f"sampler must be a registered name or a qhvae.BoltzmannSampler, got {type(sampler).__name__}")
    return adopt_graph(sampler, graph)


class _Call:
    """One function call handed to a :class:`_Worker`; :meth:`result` waits for it in short polls."""

    def __init__(self, fn: Callable[[], Any]):
        self._fn: Callable[[], Any] | None = fn  # dropped once run
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            assert self._fn is not None  # a call runs once
            self._value = self._fn()
        except BaseException as exc:  # handed to the waiting thread
            self._error = exc
        finally:
            self._fn = None
            self._done.set()

    def result(self, abort: threading.Event | None = None) -> Any:
        """The call's value (or its exception), waiting; raises :class:`SamplingInterrupted` once ``abort`` is set."""
        while not self._done.wait(POLL_SECONDS):
            if abort is not None and abort.is_set():
                raise SamplingInterrupted("training was interrupted while the sampler was busy; its call was "
                                          "abandoned")
        if self._error is not None:
            raise self._error
        return self._value


class _Worker:
    """A daemon thread that runs calls one at a time (a hung call never keeps the process from exiting)."""

    def __init__(self):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._loop, name="qhvae-negative-phase", daemon=True).start()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            job.run()

    def submit(self, fn: Callable[[], Any]) -> _Call:
        call = _Call(fn)
        self._jobs.put(call)
        return call

    def stop(self) -> None:
        self._jobs.put(None)


class NegativePhase:
    """Callable ``(b, w) -> (N, L)`` float32 model samples for the training step.

    With ``prefetch=True`` the sampler runs in a background thread while the current
    step trains: a call returns the samples requested by the previous call (drawn for
    the parameters of one step earlier) and starts sampling for the current parameters.
    The price is one step of staleness in the negative phase, which
    ``benchmarks/bench_training.py`` measures.

    Args:
        sampler: the sampler, or a function of no arguments that builds it on first use
            (a model loaded from disk builds its training sampler only when it trains).
        graph: the latent graph (edges of ``w``).
        num_samples: samples per call.
        prefetch: overlap sampling with training.
        seed: base seed; call ``t`` uses ``seed + t``.
        num_classes: ``C > 0`` for a class-conditional prior: the chains are split into
            ``C`` equal contiguous blocks (:attr:`chain_labels`), block ``y`` sampling
            ``p(z | y)`` with biases ``b + U_y``, all in one sampler call (condition ids
            are the labels, so a persistent sampler keeps its chains per class).

    Attributes:
        calls: sampler calls so far (checkpointed).
        sampler_seconds: wall seconds spent inside the sampler by this object's calls.
        last_seed: the seed of the latest sampler call (see :meth:`seed_for`).
        abort: a ``threading.Event``; once set, a caller waiting for the sampler stops
            waiting, and new calls are refused, with :class:`SamplingInterrupted` (the
            training loop sets it on Ctrl-C and SIGTERM).
    """

    def __init__(self, sampler: BoltzmannSampler | Callable[[], BoltzmannSampler], graph: LatentGraph,
                 num_samples: int = 1000, prefetch: bool = False, seed: int | None = None, num_classes: int = 0):
        self._sampler: BoltzmannSampler | None
        self._factory: Callable[[], BoltzmannSampler] | None
        if isinstance(sampler, BoltzmannSampler):
            self._sampler, self._factory = sampler, None
        elif callable(sampler):
            self._sampler, self._factory = None, sampler
        else:
            raise TypeError(f"sampler must be a qhvae.BoltzmannSampler or a function building one, got "
                            f"{type(sampler).__name__}")
        self.graph = graph
        self.num_samples, self.prefetch = int(num_samples), bool(prefetch)
        self.num_classes = int(num_classes)
        if self.num_classes and self.num_samples < self.num_classes:
            raise ValueError(f"{self.num_samples} negative samples cannot cover {self.num_classes} classes")
        #: The class each chain samples (conditional prior), ``(N,)`` int64, blocks of equal size.
        self.chain_labels = (np.arange(self.num_samples) * self.num_classes // self.num_samples
                             if self.num_classes else None)
        self.seed = int(np.random.SeedSequence().generate_state(1)[0] >> 1) if seed is None else int(seed)
        self.calls = 0
        self.sampler_seconds = 0.0  # wall time inside the sampler, all calls (SamplerMonitor reports it per step)
        self.last_seed: int | None = None
        self.abort = threading.Event()
        self._saved_state: dict[str, np.ndarray] = {}  # restored into the sampler when it is built
        self._pending: _Call | None = None
        self.last_error: Exception | None = None  # the last sampler call's exception, if it failed
        self._worker: _Worker | None = None
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()

    @property
    def sampler(self) -> BoltzmannSampler:
        """The sampler, built on first use (with any checkpointed state restored)."""
        sampler = self._sampler
        if sampler is None:
            with self._build_lock:
                sampler = self._sampler
                if sampler is None:
                    assert self._factory is not None  # without a sampler there is a factory
                    sampler = self._factory()
                    if self._saved_state:
                        sampler.set_state(self._saved_state)
                    self._sampler, self._saved_state = sampler, {}
        return sampler

    @property
    def built(self) -> bool:
        """Whether the sampler exists yet (see :attr:`sampler`)."""
        return self._sampler is not None

    def seed_for(self, call: int, replica: int = 0) -> int:
        """The seed of sampler call ``call`` made for replica ``replica``.

        Replica 0 (every single-device run) uses ``seed + call``. The other replicas of a
        multi-worker run, whose workers count their calls alike, get streams of their own
        (``SeedSequence((seed, call, replica))``): otherwise every worker would draw the same
        negative phase and the all-reduced gradient would gain nothing from them.
        """
        if replica == 0:
            return self.seed + call
        return int(np.random.SeedSequence([self.seed, call, replica]).generate_state(1)[0] >> 1)

    def _draw_now(self, b: np.ndarray, w: np.ndarray, seed: int, u: np.ndarray | None = None) -> np.ndarray:
        try:
            sampler = self.sampler
            self.last_seed = seed
            start = time.perf_counter()
            b = np.asarray(b, np.float64)
            conditions: dict[str, Any] = {}
            if self.num_classes:
                if u is None:
                    raise ValueError("a class-conditional negative phase needs the label couplings U")
                # one bias row per class, not per chain: the sampler never validates (N, L) copies
                conditions = {"condition_biases": b + np.asarray(u, np.float64), "condition_ids": self.chain_labels}
            samples = sampler.sample_arrays(
                b, (self.graph.edges, np.asarray(w, np.float64)[: self.graph.num_edges]),
                self.num_samples, seed=seed, **conditions,
            )
        except Exception as exc:
            # TensorFlow passes only the message through the graph: the exception itself (and
            # its traceback, which a bug report needs) is kept for whoever reports the failure.
            self.last_error = exc
            raise
        self.sampler_seconds += time.perf_counter() - start
        return samples.astype(np.float32)

    def _submit(self, b: np.ndarray, w: np.ndarray, seed: int, u: np.ndarray | None = None) -> _Call:
        if self._worker is None:
            self._worker = _Worker()
            weakref.finalize(self, self._worker.stop)  # its thread ends with this object
        return self._worker.submit(lambda: self._draw_now(b, w, seed, u))

    def _wait(self, pending: _Call):
        try:
            return pending.result(self.abort)
        except SamplingInterrupted:
            self._worker = None  # its thread may never come back: the next call gets a new one
            raise

    def _draw(self, b: np.ndarray, w: np.ndarray, seed: int, u: np.ndarray | None = None) -> np.ndarray:
        return self._wait(self._submit(b, w, seed, u))

    def _next_seed(self, replica: int) -> int:
        call, self.calls = self.calls, self.calls + 1
        return self.seed_for(call, replica)

    def __call__(self, b: np.ndarray, w: np.ndarray, replica: Any = 0, u: np.ndarray | None = None) -> np.ndarray:
        """Model samples for biases ``b`` and couplings ``w`` (and label couplings ``u``, ``(C, L)``,
        for a class-conditional prior: rows in :attr:`chain_labels`' classes)."""
        if self.abort.is_set():
            raise SamplingInterrupted("training was interrupted; no more sampler calls")
        replica = int(replica)
        with self._lock:
            if not self.prefetch:
                return self._draw(b, w, self._next_seed(replica), u)
            # Never two calls of one sampler at once (persistent samplers are not thread-safe):
            # the first call samples in the foreground, later ones take what the background drew.
            if self._pending is None:
                result = self._draw(b, w, self._next_seed(replica), u)
            else:
                pending, self._pending = self._pending, None
                result = self._wait(pending)
            self._pending = self._submit(np.array(b), np.array(w), self._next_seed(replica),
                                         None if u is None else np.array(u))
            return result

    def reset(self) -> None:
        """Drop a prefetched batch (after loading weights, the parameters it used are gone)."""
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            try:
                self._wait(pending)  # the sampler must be idle before its state changes
            except SamplingInterrupted:
                raise
            except Exception:
                pass  # the batch is dropped anyway; its error will show again on the next call

    def get_state(self) -> dict[str, np.ndarray]:
        """Sampler state plus the call counter, for checkpoints (waits for a prefetch in flight).

        Before the sampler is built, the state restored into this object (if any) is returned as it was.
        """
        with self._lock:
            pending = self._pending
        if pending is not None:
            try:
                pending.result(self.abort)  # the background draw must not move the chains while they are read
            except SamplingInterrupted:
                raise
            except Exception:
                pass
        sampler_state = self._sampler.get_state() if self._sampler is not None else self._saved_state
        state = {f"sampler/{k}": v for k, v in sampler_state.items()}
        state["calls"] = np.int64(self.calls)
        state["seed"] = np.int64(self.seed)
        return state

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.reset()
        self.calls = int(state.get("calls", 0))
        self.seed = int(state.get("seed", self.seed))
        sampler_state = {k.split("/", 1)[1]: v for k, v in state.items() if k.startswith("sampler/")}
        if self._sampler is not None:
            self._sampler.set_state(sampler_state)
        else:
            self._saved_state = sampler_state

    def close(self) -> None:
        self.reset()
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
