"""The Boltzmann-machine prior as a Keras layer."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..topology import LatentGraph
from .ops import uniform_draws

__all__ = ["BoltzmannPrior", "graph_to_config", "graph_from_config"]


def graph_to_config(graph: LatentGraph) -> dict[str, Any]:
    """A JSON-serializable description of a latent graph (enough to rebuild the prior)."""
    return {
        "name": graph.name,
        "num_nodes": graph.num_nodes,
        "edges": graph.edges.tolist(),
        "colors": graph.colors.tolist(),
        "family": graph.family,
        "family_shape": [int(v) for v in graph.family_shape],
        "orientation": None if graph.orientation is None else graph.orientation.tolist(),
        "hidden": None if graph.hidden is None else graph.hidden.tolist(),
    }


def graph_from_config(config: dict[str, Any]) -> LatentGraph:
    """Inverse of :func:`graph_to_config`."""
    return LatentGraph(
        name=config["name"],
        num_nodes=int(config["num_nodes"]),
        edges=np.asarray(config["edges"], np.int64).reshape(-1, 2),
        colors=np.asarray(config["colors"], np.int64),
        family=config.get("family", "custom"),
        # absent from models saved before it was kept: hardware placement then asks for it
        family_shape=tuple(int(v) for v in config.get("family_shape", ())),
        orientation=None if config.get("orientation") is None else np.asarray(config["orientation"], np.int64),
        hidden=None if config.get("hidden") is None else np.asarray(config["hidden"], np.int64),
    )


#: Sweeps of the hidden units' mean field (:meth:`BoltzmannPrior.hidden_mean_field`), the proposal
#: for coupled hidden units. Each sweep updates the colour classes in turn; on the trained coupled
#: Chimera prior of the hidden study 3 sweeps reach the fixed point to 0.01 nats of the
#: variational free energy at the median latent, so 5 leave a margin.
MEAN_FIELD_ITERATIONS = 5


@keras.saving.register_keras_serializable(package="qhvae")
class BoltzmannPrior(keras.layers.Layer):
    """``p(z) = exp(-E(z)) / Z`` with ``E(z) = b.z + sum_(i<j in edges) W_ij z_i z_j``.

    With ``num_classes = C > 0`` the prior is class-conditional,
    ``p(z | y) = exp(-E(z) - U_y.z) / Z(y)``: the label acts as ``C`` clamped one-hot
    condition units coupled to every latent by ``U`` (``(C, L)``), which amounts to a
    per-class linear bias ``b + U_y``. On an annealer that is a per-call ``h``: the label
    needs no qubits.

    The couplings live on the graph's edges only (one weight per edge), so the graph
    masks ``W`` by construction. An optional hardware mask (per unit and per edge)
    zeroes what a device lacks: units on dead qubits keep their bias but get no
    couplings, and dead couplers are zero, so the model never relies on them.

    Calling the layer on ``(..., L)`` inputs returns their energies ``(...,)``; it works
    on relaxed ``zeta`` in [0, 1] as well as on binary ``z``.

    A graph with hidden units (``graph.hidden``) makes the prior over the latents ``z`` a
    marginal, ``p(z) = sum_h exp(-E(z, h)) / Z``: :meth:`free_energy` gives
    ``F(z) = -log sum_h exp(-E(z, h))``, exactly (a sum of softplus terms) when no two hidden
    units are coupled; otherwise the model samples ``h | z`` (:meth:`sample_hidden`) or
    proposes it (:meth:`hidden_mean_field`). ``Z`` and the negative phase are the joint
    machine's, sampled as one BQM.

    Args:
        graph: the latent graph.
        edge_mask: ``(E,)`` 0/1 mask of usable couplings (default: all).
        unit_mask: ``(L,)`` 0/1 mask of usable units; couplings touching a masked unit are zeroed.
        num_classes: ``C``, the number of classes of a class-conditional prior (0: unconditional).

    Example:
        >>> from qhvae import topology
        >>> prior = BoltzmannPrior(topology.rbm(2, 2))
        >>> prior.build((None, 4))
        >>> float(prior(np.ones((1, 4), np.float32))[0])
        0.0
    """

    def __init__(self, graph: LatentGraph | dict, edge_mask=None, unit_mask=None, num_classes: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.graph = graph_from_config(graph) if isinstance(graph, dict) else graph
        num_edges, num_units = self.graph.num_edges, self.graph.num_nodes
        edge_mask = np.ones(num_edges, np.float32) if edge_mask is None else np.asarray(edge_mask, np.float32)
        unit_mask = np.ones(num_units, np.float32) if unit_mask is None else np.asarray(unit_mask, np.float32)
        if edge_mask.shape != (num_edges,) or unit_mask.shape != (num_units,):
            raise ValueError(
                f"hardware masks must have shapes ({num_edges},) and ({num_units},) for {self.graph.name}, "
                f"got {edge_mask.shape} and {unit_mask.shape}"
            )
        if num_edges:
            edge_mask = edge_mask * unit_mask[self.graph.edges[:, 0]] * unit_mask[self.graph.edges[:, 1]]
        self.edge_mask_np = edge_mask
        self.unit_mask_np = unit_mask
        self._edges = tf.constant(self.graph.edges.reshape(-1, 2), tf.int64)
        self._latent = tf.constant(self.graph.latent_units, tf.int32)
        self._hidden = tf.constant(self.graph.hidden_units, tf.int32)
        hidden_colors = self.graph.colors[self.graph.hidden_units]
        classes = [np.flatnonzero(hidden_colors == c) for c in np.unique(hidden_colors)]
        self._hidden_classes = [tf.constant(units, tf.int32) for units in classes]
        # hidden units grouped by colour class -> hidden order
        self._class_order = tf.constant(np.argsort(np.concatenate(classes)) if classes else np.zeros(0, int), tf.int32)

    def build(self, input_shape=None):
        n, e = self.graph.num_nodes, self.graph.num_edges
        self.b = self.add_weight(shape=(n,), initializer="zeros", name="b")
        self.w = self.add_weight(shape=(max(e, 1),), initializer="zeros", name="w", trainable=e > 0)
        self.edge_mask = tf.constant(self.edge_mask_np if e else np.zeros(1, np.float32))
        if self.num_classes:
            self.u = self.add_weight(shape=(self.num_classes, n), initializer="zeros", name="u")
        self.built = True

    @property
    def num_units(self) -> int:
        return self.graph.num_nodes

    def coupling_matrix(self) -> tf.Tensor:
        """Upper-triangular ``(L, L)`` matrix of the masked couplings."""
        n = self.graph.num_nodes
        if self.graph.num_edges == 0:
            return tf.zeros((n, n), self.b.dtype)
        return tf.scatter_nd(self._edges, self.w * self.edge_mask, (n, n))

    def masked_weights(self) -> tf.Tensor:
        """Per-edge couplings with the hardware mask applied, ``(E,)``."""
        return (self.w * self.edge_mask)[: self.graph.num_edges]

    def linear_biases(self, labels=None) -> tf.Tensor:
        """The linear biases ``b`` (``labels=None``) or ``b + U_y`` per label, ``(len(labels), L)``.

        Raises:
            ValueError: labels given to an unconditional prior, or none to a conditional one.
        """
        if labels is None:
            if self.num_classes:
                raise ValueError("this prior is class-conditional: give the labels whose biases you want")
            return tf.convert_to_tensor(self.b)
        if not self.num_classes:
            raise ValueError("this prior is unconditional: it takes no labels")
        return self.b + tf.gather(self.u, tf.cast(labels, tf.int32))

    def call(self, z, labels=None):
        """Energies ``E(z)``, or ``E(z) + U_y.z`` of each row with its label for a conditional prior.

        Args:
            z: ``(..., L)`` binary or relaxed latents.
            labels: integer labels broadcastable to ``z``'s leading shape (conditional prior only).
        """
        z = tf.convert_to_tensor(z, self.b.dtype)
        energy = tf.reduce_sum(z * self.b, axis=-1)
        if self.num_classes:
            if labels is None:
                raise ValueError("this prior is class-conditional: call it with the labels of z")
            energy = energy + tf.reduce_sum(z * tf.gather(self.u, tf.cast(labels, tf.int32)), axis=-1)
        elif labels is not None:
            raise ValueError("this prior is unconditional: it takes no labels")
        if self.graph.num_edges:
            w = self.coupling_matrix()
            flat = tf.reshape(z, (-1, self.graph.num_nodes))
            quad = tf.reduce_sum(tf.matmul(flat, w) * flat, axis=-1)
            energy = energy + tf.reshape(quad, tf.shape(energy))
        return energy

    # -- hidden units ------------------------------------------------------------------------

    def _blocks(self):
        """``(W_vv, W_vh, W_hh)``: latent-latent (upper-triangular), latent-hidden and hidden-hidden
        (symmetric) blocks of the masked couplings."""
        w = self.coupling_matrix()
        sym = w + tf.transpose(w)
        w_vv = tf.gather(tf.gather(w, self._latent, axis=0), self._latent, axis=1)
        w_vh = tf.gather(tf.gather(sym, self._latent, axis=0), self._hidden, axis=1)
        w_hh = tf.gather(tf.gather(sym, self._hidden, axis=0), self._hidden, axis=1)
        return w_vv, w_vh, w_hh

    def _latent_parts(self, z, labels):
        """``(E_v(z), hidden field, W_hh)`` for ``(N, L_v)`` latents: ``E(z, h) = E_v(z) + h.field + h W_hh h / 2``."""
        z = tf.convert_to_tensor(z, self.b.dtype)
        biases = self.linear_biases(labels)
        b_v, b_h = tf.gather(biases, self._latent, axis=-1), tf.gather(biases, self._hidden, axis=-1)
        w_vv, w_vh, w_hh = self._blocks()
        energy = tf.reduce_sum(z * b_v, axis=-1) + tf.reduce_sum(tf.matmul(z, w_vv) * z, axis=-1)
        return energy, b_h + tf.matmul(z, w_vh), w_hh

    def free_energy(self, z, labels=None):
        """``F(z) = -log sum_h exp(-E(z, h))`` of ``(N, L_v)`` latents (``E(z)`` without hidden units).

        Exact when no two hidden units are coupled: ``F(z) = E_v(z) - sum_j softplus(-f_j(z))``
        with ``f(z) = b_h + z W_vh`` the hidden units' field, so its gradient is exact too.

        Raises:
            ValueError: coupled hidden units (use :meth:`sample_hidden` or :meth:`hidden_mean_field`).
        """
        if self.graph.hidden is None:
            return self(z, labels)
        if self.graph.hidden_coupled:
            raise ValueError(f"{self.graph.name}: hidden units are coupled to each other, so the free energy is not "
                             "a sum of softplus terms; the model samples h | z instead")
        energy, field, _ = self._latent_parts(z, labels)
        return energy - tf.reduce_sum(tf.nn.softplus(-field), axis=-1)

    def joint_energy(self, z, h, labels=None):
        """``E(z, h)`` of ``(N, L_v)`` latents and ``(N, H)`` hidden states: the energy of the whole
        graph's state, from the blocks, ``E_v(z) + h.f(z) + h W_hh h / 2``."""
        energy, field, w_hh = self._latent_parts(z, labels)
        return self._joint_from_parts(energy, field, w_hh, tf.cast(h, self.b.dtype))

    @staticmethod
    def _joint_from_parts(energy, field, w_hh, h):
        return energy + tf.reduce_sum(h * field, axis=-1) + 0.5 * tf.reduce_sum(tf.matmul(h, w_hh) * h, axis=-1)

    def hidden_mean_field(self, z, labels=None, iterations: int = MEAN_FIELD_ITERATIONS):
        """Naive mean-field means ``m`` of ``p(h | z)``, a fixed point of ``m = sigmoid(-(f(z) + m W_hh))``:
        ``iterations`` sweeps from the uncoupled means, each updating the hidden units' colour
        classes in turn (exact at once when hidden units are uncoupled). The proposal
        ``r(h | z) = prod_j Bernoulli(m_j)`` of the free-energy estimate for coupled hidden units."""
        _, field, w_hh = self._latent_parts(z, labels)
        return self._mean_field(field, w_hh, iterations)

    def _mean_field(self, field, w_hh, iterations: int):
        if not self.graph.hidden_coupled:
            return tf.sigmoid(-field)
        # Coordinate ascent by colour class: a class is an independent set, so its update given
        # the other classes is the exact minimiser of the variational free energy over that
        # class, which never rises and needs no damping. Against damped parallel steps of the
        # whole m W_hh (before 2026-12-07) it needs 3 sweeps where those needed 10, each sweep a
        # half of one step's products with two classes, and on the hidden study's coupled prior
        # it lands within 0.03 nats of their free energy (docs/benchmarks.md, hidden units).
        fields, blocks = self._class_parts(field, w_hh)
        means = [tf.sigmoid(-f) for f in fields]
        for _ in range(iterations):
            for c in range(len(fields)):
                means[c] = tf.sigmoid(-self._class_field(fields, blocks, means, c))
        return tf.gather(tf.concat(means, axis=-1), self._class_order, axis=-1)

    def _class_parts(self, field, w_hh):
        """The hidden field split by colour class, and the blocks of ``W_hh`` between classes."""
        classes = self._hidden_classes
        fields = [tf.gather(field, units, axis=-1) for units in classes]
        rows = [tf.gather(w_hh, units, axis=0) for units in classes]
        blocks = {(d, c): tf.gather(rows[d], classes[c], axis=1)
                  for d in range(len(classes)) for c in range(len(classes)) if d != c}
        return fields, blocks

    @staticmethod
    def _class_field(fields, blocks, states, c: int):
        """Class ``c``'s field given the other classes' states (binary or means)."""
        local = fields[c]
        for d in range(len(fields)):
            if d != c:
                local = local + tf.matmul(states[d], blocks[d, c])
        return local

    def sample_hidden(self, z, labels=None, sweeps: int = 10, uniform=tf.random.uniform):
        """Binary ``h ~ p(h | z)`` for ``(N, L_v)`` latents: block Gibbs over the hidden units, the latents
        clamped (folded into each chain's hidden biases), ``sweeps`` sweeps from the mean-field means.

        In TensorFlow, inside the training step: every chain has its own condition (its ``z``)
        and a new one every step, so neither a sampler call per condition nor persistent
        chains would help; the hidden units' colour classes (independent sets) are updated in
        turn. The chains are kept as one block per colour class: a class's update needs only the
        couplings to the other classes' blocks (a class is an independent set), a quarter of the
        products of a whole ``h W_hh`` for two classes (``benchmarks/bench_hidden_step.py``).
        ``uniform(shape)`` draws the uniforms.
        """
        _, field, w_hh = self._latent_parts(z, labels)
        return self._gibbs_hidden(field, w_hh, sweeps, uniform)

    def _gibbs_hidden(self, field, w_hh, sweeps: int, uniform):
        if not self.graph.hidden_coupled:  # p(h | z) factorizes: one exact draw
            means = tf.sigmoid(-field)
            return tf.cast(uniform(tf.shape(means)) < means, self.b.dtype)
        fields, blocks = self._class_parts(field, w_hh)
        # start from the units' independent conditionals given z alone
        h = [tf.cast(uniform(tf.shape(f)) < tf.sigmoid(-f), self.b.dtype) for f in fields]
        for _ in range(sweeps):
            for c in range(len(fields)):
                local = self._class_field(fields, blocks, h, c)
                h[c] = tf.cast(uniform(tf.shape(local)) < tf.sigmoid(-local), self.b.dtype)
        return tf.gather(tf.concat(h, axis=-1), self._class_order, axis=-1)

    def latent_energy(self, zeta, labels=None, relaxed: bool = True, sweeps: int = 10, hidden_samples: int = 1):
        """The prior's term of a QVAE's log weights for latents ``zeta``: ``E(zeta)`` with all units
        latent; with hidden units:

        - not coupled to each other: the exact free energy ``F(zeta)`` (:meth:`free_energy`);
        - coupled, training (``relaxed``): the value is the mean-field estimate of ``F(zeta)``
          below (one draw); the gradient is that of ``E(zeta, h)`` at ``h ~ p(h | zeta)``, drawn by
          ``sweeps`` sweeps of clamped block Gibbs and held constant, an unbiased estimate of
          ``F``'s for the prior's parameters and the encoder alike
          (``dF/dtheta = E_{p(h|z)}[dE/dtheta]``). The value weighs the ``K`` samples of an
          importance-weighted bound, and it is drawn apart from the ``h`` of the gradient: had
          the weights used ``E(zeta_k, h_k)`` itself, which exceeds ``F`` by the conditional
          entropy of ``h`` on average and scatters by nats from draw to draw, each weight would be
          noisy and correlated with its own sample's gradient, biasing the gradient for ``K > 1``.
        - coupled, evaluation (discrete ``z``): ``-log mean_m exp(-E(z, h_m) - log r(h_m | z))``
          over ``hidden_samples`` draws ``h_m`` of the mean-field proposal ``r``
          (:meth:`hidden_mean_field`), so that ``exp(-log w)`` is an unbiased estimate of
          ``exp(-F(z))``: the importance-weighted log-likelihood stays a stochastic lower bound,
          which tightens as ``K`` and ``hidden_samples`` grow, with the hidden units' sampling
          error inside its per-image spread.
        """
        if self.graph.hidden is None:
            return self(zeta, labels)
        if not self.graph.hidden_coupled:
            return self.free_energy(zeta, labels)
        # one set of blocks for h's conditional and E(z, h) (joint_energy)
        energy, field, w_hh = self._latent_parts(zeta, labels)
        if not relaxed:
            return self._estimated_free_energy(energy, field, w_hh, hidden_samples)
        h = tf.stop_gradient(self._gibbs_hidden(tf.stop_gradient(field), tf.stop_gradient(w_hh), sweeps,
                                                uniform_draws))
        joint = self._joint_from_parts(energy, field, w_hh, h)
        estimate = self._estimated_free_energy(tf.stop_gradient(energy), tf.stop_gradient(field),
                                               tf.stop_gradient(w_hh), 1)
        return joint + tf.stop_gradient(estimate - joint)

    def _estimated_free_energy(self, energy, field, w_hh, hidden_samples: int):
        """``-log mean_m exp(-E(z, h_m) - log r(h_m | z))`` over ``hidden_samples`` draws of the mean field ``r``."""
        means = tf.clip_by_value(self._mean_field(field, w_hh, MEAN_FIELD_ITERATIONS), 1e-6, 1.0 - 1e-6)
        if hidden_samples == 1:
            # kept apart from the M-draw form below: the draws (and so the records) of every
            # evaluation made before hidden_samples existed stay exactly as they were
            h = tf.cast(uniform_draws(tf.shape(means)) < means, means.dtype)
            log_r = tf.reduce_sum(h * tf.math.log(means) + (1.0 - h) * tf.math.log1p(-means), axis=-1)
            return self._joint_from_parts(energy, field, w_hh, h) + log_r
        # M draws per z, flattened to (M * N, H) for one matrix product with W_hh
        shape = tf.concat([[hidden_samples], tf.shape(means)], 0)
        h = tf.cast(uniform_draws(shape) < means, means.dtype)
        log_r = tf.reduce_sum(h * tf.math.log(means) + (1.0 - h) * tf.math.log1p(-means), axis=-1)
        flat = tf.reshape(h, (-1, tf.shape(means)[-1]))
        pairs = tf.reshape(tf.reduce_sum(tf.matmul(flat, w_hh) * flat, axis=-1), tf.shape(log_r))
        joint = energy + tf.reduce_sum(h * field, axis=-1) + 0.5 * pairs + log_r
        return -(tf.reduce_logsumexp(-joint, axis=0) - tf.math.log(tf.cast(hidden_samples, joint.dtype)))

    def numpy_parameters(self, label: int | None = None) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """``(b, (edges, w))`` as float64 numpy arrays, the sampler's array-path input.

        Args:
            label: for a class-conditional prior, the class whose machine ``b + U_label`` is
                wanted; ``None``: the label-free part ``b`` (the machine the per-class biases
                of a conditional sampler call are offsets of).
        """
        b = np.asarray(self.b.numpy(), np.float64)
        if label is not None:
            if not 0 <= int(label) < self.num_classes:
                raise ValueError(f"label {label} is not a class of this prior (0 to {self.num_classes - 1})")
            b = b + np.asarray(self.u.numpy()[int(label)], np.float64)
        return b, (self.graph.edges, np.asarray(self.masked_weights().numpy(), np.float64))

    def class_biases(self) -> np.ndarray:
        """``(C, L)`` float64 linear biases ``b + U_y`` of every class of a conditional prior."""
        if not self.num_classes:
            raise ValueError("this prior is unconditional: it has no class biases")
        return np.asarray(self.b.numpy(), np.float64) + np.asarray(self.u.numpy(), np.float64)

    def get_config(self):
        config = super().get_config()
        config.update({
            "graph": graph_to_config(self.graph),
            "edge_mask": self.edge_mask_np.tolist(),
            "unit_mask": self.unit_mask_np.tolist(),
            "num_classes": self.num_classes,
        })
        return config
