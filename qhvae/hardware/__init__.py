"""Place a latent graph on a quantum annealer's working graph.

A QPU has a *complete* topology (Chimera, Pegasus or Zephyr of some shape) and a
*working graph*: the qubits and couplers that actually work on this chip. Placing a
:class:`~qhvae.topology.LatentGraph` assigns every latent unit a distinct qubit such that
every coupled pair of units sits on a coupler of the complete topology; what is missing
on the working graph is masked in the prior (DESIGN.md Sec. 6, "Dead qubits").

* :mod:`qhvae.hardware.device` - :class:`DeviceGraph` and :func:`device_graph`: any
  device description (a ``DWaveSampler``, ``MockDWaveSampler``, the QPU emulator, a
  mapping or a networkx graph) as a working graph plus its complete topology.
* :mod:`qhvae.hardware.placement` - :class:`Placement` (qubits and masks),
  :func:`place_native` (coordinates shifted by an offset) and :func:`place` (native
  when good enough, else the search).
* :mod:`qhvae.hardware.search` - :func:`place_search`: sublattice placements scored by
  their defects, minorminer's subgraph search for graphs without one.

Example:
    >>> from dwave.system.testing import MockDWaveSampler
    >>> from qhvae import topology
    >>> device = MockDWaveSampler(topology_type="chimera", topology_shape=[4, 4, 4],
    ...                           broken_nodes=[0])
    >>> p = place(topology.chimera(2), device)
    >>> p.num_missing_qubits, p.method
    (0, 'search')
"""

from __future__ import annotations

from .device import HARDWARE_FAMILIES, DeviceGraph, device_graph
from .placement import Placement, place, place_native
from .search import place_search, score_placement

__all__ = [
    "Placement",
    "DeviceGraph",
    "device_graph",
    "place",
    "place_native",
    "place_search",
    "score_placement",
    "HARDWARE_FAMILIES",
]
