"""The QVAE: a VAE with relaxed discrete latents and a Boltzmann-machine prior.

The encoder and decoder are the paper's gated convolutional networks (``network="conv"``,
the default) or fully connected ones (``network="fc"``, see :mod:`qhvae.vae.networks`);
the two-group hierarchical posterior heads and everything below are the same for both.

Objective (paper App. A, Eq. A2): for every image ``x``, ``K*D`` relaxed posterior
samples ``zeta ~ q(zeta|x)`` give importance weights

    log w = log p(x|zeta) - kl_weight * (E(zeta) + log q(zeta|x))

and ``L_{K,D} = mean_d log mean_k w - kl_weight * log Z``. ``log Z`` is intractable; its
gradient ``-E_model[dE/dtheta]`` is obtained by adding ``kl_weight * mean E(z_bar)`` over
the sampler's model samples ``z_bar`` (held constant) to the loss. The resulting loss
value is therefore not ``-L_{K,D}``: the training log reports ``bound_without_log_z``
(the bound plus ``log Z``), and, for an edge-free prior whose ``log Z`` is exact, the bound
itself as ``bound``.

As in the paper (GumBolt), ``log q`` and ``E`` are evaluated at the relaxed ``zeta``
(``log q(zeta|x) = sum_i zeta_i l_i - softplus(l_i)``); evaluation uses discrete ``z``.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..exceptions import ConfigError
from ..samplers.base import BoltzmannSampler
from ..topology import LatentGraph, by_name
from ..validation import check_image_shape, check_int, check_num_negative_samples, check_real
from .batches import CheckedBatches
from .negative import NegativePhase, resolve_sampler
from .networks import make_networks, resolve_network_options
from .ops import uniform_draws
from .prior import BoltzmannPrior, graph_from_config, graph_to_config

__all__ = ["QVAE", "DEFAULT_TAU", "bernoulli_log_likelihood"]

DEFAULT_TAU = 1.0 / 7.0


def _as_graph(graph: LatentGraph | str | dict, graph_kwargs: dict | None) -> LatentGraph:
    if isinstance(graph, LatentGraph):
        return graph
    if isinstance(graph, dict):
        return graph_from_config(graph)
    return by_name(graph, **(graph_kwargs or {}))


def bernoulli_log_likelihood(x, logits):
    """``log p(x)`` of binary images under independent Bernoulli pixels with ``logits``.

    ``sum x * l - softplus(l)`` over the last three axes (height, width, channel); ``x`` may
    be broadcast against ``logits`` (e.g. ``(B, 1, H, W, 1)`` images against ``(B, n, H, W,
    1)`` logits of ``n`` draws each). Equal to minus the summed
    ``tf.nn.sigmoid_cross_entropy_with_logits``, in fewer operations.

    Example:
        >>> round(float(bernoulli_log_likelihood(tf.ones((1, 1, 1, 1)), tf.zeros((1, 1, 1, 1)))[0]), 4)  # log 1/2
        -0.6931
    """
    return tf.reduce_sum(x * logits - tf.nn.softplus(logits), axis=[-3, -2, -1])


def _posterior_head(width: int, activation: str, units: int, name: str) -> keras.Sequential:
    # One hidden layer then the group's logits; the same for every network family.
    return keras.Sequential([keras.layers.Dense(width, activation=activation), keras.layers.Dense(units)], name=name)



def _across_workers() -> bool:
    """Whether this step runs under a MultiWorkerMirroredStrategy with more than one worker (as Keras decides it)."""
    strategy = tf.distribute.get_strategy()
    return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.extended._in_multi_worker_mode())


@keras.saving.register_keras_serializable(package="qhvae")
class QVAE(CheckedBatches, keras.Model):
    """Discrete-latent VAE with a Boltzmann-machine prior on a (hardware) graph.

    Plain ``model.compile(optimizer)`` then ``model.fit(dataset)`` trains it: every step
    draws the negative phase from ``sampler`` for the current prior parameters.

    Args:
        image_shape: ``(H, W, 1)`` of the binary images.
        graph: a :class:`~qhvae.topology.LatentGraph` or a family name (``"chimera"``,
            ``"pegasus"``, ``"zephyr"``, ``"rbm"``, ``"full"``, ``"bernoulli"``).
        graph_kwargs: arguments of the family constructor (e.g. ``{"m": 2}``).
        mapping: hierarchical groups on the graph, ``"bipartite"`` or ``"chains"``.
        sampler: a registered sampler name or instance; ``None``: ``"exact"`` for an
            edge-free graph, ``"pa"`` otherwise. A name is built when the model is created
            without masks (it supplies them); with masks (a model loaded from disk) only
            when the model first trains, so a model outlives its training sampler.
        sampler_config: configuration when ``sampler`` is a name.
        num_negative_samples: model samples per training step (paper: 1000).
        tau: relaxation temperature of Eq. 10 (paper: 1/7).
        network: the encoder/decoder family: ``"conv"`` (the paper's gated convolutions) or
            ``"fc"`` (fully connected, as in the DVAE papers; much faster on a CPU).
        network_options: options of the network; ``"fc"``: ``hidden`` (widths, input side
            first; default ``(512, 256)``) and ``activation`` (default ``"tanh"``). ``"conv"``
            takes none.
        base_filters, hidden: widths of the ``"conv"`` network's convolutional and dense
            layers (default 32 and 512); not accepted with ``"fc"``.
        k, d: initial importance samples ``K`` and gradient samples ``D`` per image.
        edge_mask, unit_mask: hardware masks for the prior (see :class:`BoltzmannPrior`);
            by default taken from the sampler when it runs on hardware (``masks_for``).
        prefetch: draw the next step's negative phase while this step trains.
        seed: seed of the negative-phase sampler calls, and of a sampler built by name that
            takes a seed of its own (the emulated device's, see ``resolve_sampler``).
        hidden_sweeps: for a graph whose hidden units are coupled to each other, the block-Gibbs
            sweeps of ``h | zeta`` per training step (:meth:`BoltzmannPrior.sample_hidden`).
        num_classes: ``C >= 2`` makes the model class-conditional: the prior becomes
            ``p(z | y) = exp(-E(z) - U_y.z) / Z(y)`` (:class:`BoltzmannPrior`), the encoder
            sees the label (one-hot, beside its features), the decoder sees only ``z`` (so the
            class must travel through the prior). It trains on ``(images, labels)`` batches
            (``Dataset.to_tf(..., with_labels=True)``); each step's negative phase samples every
            class in one sampler call (``num_negative_samples / C`` chains per class, per-chain
            biases) and weighs each class by its share of the batch. 0 (default): unconditional.

    Example:
        >>> model = QVAE((8, 8, 1), "chimera", graph_kwargs={"m": 1}, sampler="gibbs",
        ...              base_filters=4, hidden=16, num_negative_samples=32)
        >>> model.compile(optimizer="adam")
        >>> model.predict(np.zeros((2, 8, 8, 1), "float32"), verbose=0).shape
        (2, 8, 8, 1)

        The fully connected networks, with two hidden layers of 32 and 16 units:

        >>> fc = QVAE((8, 8, 1), "chimera", graph_kwargs={"m": 1}, sampler="gibbs", network="fc",
        ...           network_options={"hidden": (32, 16)}, num_negative_samples=32)
        >>> fc.get_config()["network_options"]
        {'hidden': [32, 16], 'activation': 'tanh'}
    """

    built: bool  # Keras's, set by build(); declared for the type checker

    def __init__(
        self,
        image_shape: Sequence[int] = (8, 8, 1),
        graph: LatentGraph | str | dict = "chimera",
        graph_kwargs: dict | None = None,
        mapping: str = "bipartite",
        sampler: BoltzmannSampler | str | None = None,
        sampler_config: dict | None = None,
        num_negative_samples: int = 1000,
        tau: float = DEFAULT_TAU,
        base_filters: int | None = None,
        hidden: int | None = None,
        k: int = 1,
        d: int = 8,
        edge_mask: Sequence[float] | None = None,
        unit_mask: Sequence[float] | None = None,
        prefetch: bool = False,
        seed: int | None = None,
        network: str = "conv",
        network_options: dict[str, Any] | None = None,
        num_classes: int = 0,
        hidden_sweeps: int = 10,
        **kwargs,
    ):
        super().__init__(**kwargs)
        # The rules `qhvae train` checks its options and data with (qhvae.validation): nothing
        # is truncated (8.7 -> 8, 2.5 -> 2) and nothing is allocated that cannot fit.
        image_shape = check_image_shape(image_shape, error=ConfigError)
        tau = check_real("tau", tau, minimum=0, inclusive=False, error=ConfigError)
        k, d = check_int("k", k, error=ConfigError), check_int("d", d, error=ConfigError)
        seed = check_int("seed", seed, minimum=0, allow_none=True, error=ConfigError)
        num_classes = check_int("num_classes", num_classes, minimum=0, error=ConfigError)
        if num_classes == 1:
            raise ConfigError("num_classes must be 0 (an unconditional model) or at least 2, got 1")
        check_num_negative_samples(num_negative_samples, error=ConfigError)  # before the graph: its errors first
        self.image_shape = image_shape
        self.graph = _as_graph(graph, graph_kwargs)
        num_negative_samples = check_num_negative_samples(num_negative_samples, self.graph.num_nodes,
                                                          error=ConfigError)
        if num_negative_samples < num_classes:
            raise ConfigError(f"num_negative_samples = {num_negative_samples} cannot cover {num_classes} classes: "
                              f"the negative phase samples every class; use at least {num_classes} (100 per class "
                              f"is a good start)")
        self.num_classes = num_classes
        self.mapping = mapping
        self.hidden_sweeps = check_int("hidden_sweeps", hidden_sweeps, error=ConfigError)
        groups = self.graph.latent_hierarchy(mapping)  # the encoder infers the latent units only
        self.group_units = [np.flatnonzero(groups == g) for g in (0, 1)]
        if min(len(u) for u in self.group_units) == 0:
            raise ValueError(f"the {mapping!r} mapping of {self.graph.name} leaves a hierarchical group empty")
        order = np.concatenate(self.group_units)
        self._unit_order = tf.constant(np.argsort(order), tf.int32)  # group-major -> unit order
        self.tau = float(tau)
        self.network = network
        self.network_options = resolve_network_options(network, network_options)
        self.num_negative_samples = int(num_negative_samples)
        self.prefetch = bool(prefetch)
        self.seed = seed
        self.sampler_name = sampler if isinstance(sampler, str) or sampler is None else sampler.name
        self.sampler_config = dict(sampler_config or {})

        nets = make_networks(network, image_shape[0], base_filters, hidden, self.network_options)
        # The conv sizes as used (None for "fc", which is sized by network_options).
        self.base_filters = nets.encoder.base_filters if network == "conv" else None
        self.hidden = nets.encoder.hidden if network == "conv" else None
        self.encoder = nets.encoder
        self.head1 = _posterior_head(nets.head_width, nets.head_activation, len(self.group_units[0]), "q1")
        self.head2 = _posterior_head(nets.head_width, nets.head_activation, len(self.group_units[1]), "q2")
        self.decoder = nets.decoder
        self.kl_weight = keras.Variable(1.0, trainable=False, name="kl_weight")
        self.iw_k = keras.Variable(int(k), dtype="int32", trainable=False, name="iw_k")
        self.iw_d = keras.Variable(int(d), dtype="int32", trainable=False, name="iw_d")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.recon_tracker = keras.metrics.Mean(name="recon")
        self.bound_tracker = keras.metrics.Mean(name="bound_without_log_z")
        self.exact_bound_tracker = keras.metrics.Mean(name="bound") if self.graph.num_edges == 0 else None
        source: BoltzmannSampler | Callable[[], BoltzmannSampler]
        if edge_mask is None and unit_mask is None:
            # A sampler on hardware knows which qubits and couplers exist: the prior
            # never relies on the ones that do not (paper Sec. IV.A.1). A new model asks it
            # now; a saved one carries its masks, so loading never builds the sampler.
            source = resolve_sampler(sampler, self.graph, self.sampler_config, seed)
            if hasattr(source, "masks_for"):
                edge_mask, unit_mask = source.masks_for(self.graph)
        elif isinstance(sampler, BoltzmannSampler):
            source = resolve_sampler(sampler, self.graph)
        else:
            source = functools.partial(resolve_sampler, sampler, self.graph, dict(self.sampler_config), seed)
        self.prior = BoltzmannPrior(self.graph, edge_mask=edge_mask, unit_mask=unit_mask, num_classes=num_classes,
                                    name="prior")
        self.negative_phase = NegativePhase(source, self.graph, self.num_negative_samples,
                                            prefetch=self.prefetch, seed=seed, num_classes=num_classes)
        if num_classes:
            chain_labels = np.asarray(self.negative_phase.chain_labels)
            self._chain_labels = tf.constant(chain_labels, tf.int32)
            self._chains_per_class = tf.constant(np.bincount(chain_labels, minlength=num_classes), tf.float32)
        self.build((None,) + image_shape)

    # -- structure ---------------------------------------------------------------------

    def build(self, input_shape=None):
        if self.built:
            return
        x = tf.zeros((1,) + self.image_shape)
        self.prior.build((None, self.graph.num_nodes))
        labels = tf.zeros((1,), tf.int32) if self.num_classes else None
        zeta, _, _ = self.posterior(x, 1, training=False, relaxed=False, deterministic=True, labels=labels)
        self.decode_logits(zeta)
        self.built = True

    @property
    def sampler(self) -> BoltzmannSampler:
        """The sampler that draws the negative phase (a loaded model builds it here, on first use).

        Raises:
            KeyError, SamplerError, ...: the training sampler cannot be built any more (a
                plugin that is gone, a device without credentials); generating and
                evaluating do not need it (see :meth:`generate`).
        """
        return self.negative_phase.sampler

    @property
    def metrics(self):
        trackers = [self.loss_tracker, self.recon_tracker, self.bound_tracker]
        return trackers + ([self.exact_bound_tracker] if self.exact_bound_tracker is not None else [])

    def get_config(self):
        config = super().get_config()
        config.update(
            image_shape=list(self.image_shape),
            graph=graph_to_config(self.graph),
            mapping=self.mapping,
            sampler=self.sampler_name,
            sampler_config=self.sampler_config,
            num_negative_samples=self.num_negative_samples,
            tau=self.tau,
            base_filters=self.base_filters,
            hidden=self.hidden,
            network=self.network,
            network_options=dict(self.network_options),  # a plain dict, not Keras's tracked one
            k=int(self.iw_k.numpy()),
            d=int(self.iw_d.numpy()),
            edge_mask=self.prior.edge_mask_np.tolist(),
            unit_mask=self.prior.unit_mask_np.tolist(),
            prefetch=self.prefetch,
            seed=self.seed,
            num_classes=self.num_classes,
            hidden_sweeps=self.hidden_sweeps,
        )
        return config

    # -- the probabilistic model ---------------------------------------------------------

    def _sample_group(self, logits, relaxed: bool, deterministic: bool):
        if deterministic:
            return tf.sigmoid(logits)
        if relaxed:
            # Eq. 10 written out: zeta = sigmoid((logit(rho) + l) / tau). Not
            # tfp.distributions.RelaxedBernoulli: with tau = 1/7 its samples saturate to
            # exactly 0 or 1 and its reparameterized gradient is then NaN (measured: ~1% of
            # units per batch), which poisons the whole step. Clipping rho keeps logit(rho) finite.
            rho = uniform_draws(tf.shape(logits), 1e-6, 1.0 - 1e-6)
            return tf.sigmoid((tf.math.log(rho) - tf.math.log1p(-rho) + logits) / self.tau)
        return tf.cast(uniform_draws(tf.shape(logits)) < tf.sigmoid(logits), logits.dtype)

    def posterior(self, x, num_samples=1, training=False, relaxed=True, deterministic=False, labels=None):
        """Draws from the hierarchical posterior ``q(z1|x) q(z2|zeta1, x)``.

        The encoder's features ``h`` give the logits of group 1; group 2's logits come from
        ``h`` and group 1's draw. The draws are relaxed (Eq. 10, at ``tau``), discrete, or
        the posterior means (``deterministic``; group 2 then conditions on group 1's means).

        Args:
            x: images ``(B, H, W, 1)``.
            num_samples: draws per image; the rows of the outputs are image-major
                (``B * num_samples``).
            training: run the networks in training mode (batch norm, dropout).
            relaxed: relaxed ``zeta`` in (0, 1) if true, binary ``z`` otherwise.
            deterministic: posterior means instead of draws.
            labels: ``(B,)`` integer labels of the images (a class-conditional model's
                posterior is ``q(z | x, y)``; required there, refused otherwise).

        Returns:
            ``(zeta, log_q, logits)``, each in the graph's unit order: ``zeta`` and the
            posterior ``logits`` are ``(B * num_samples, L)``, ``log_q = log q(zeta|x)`` is
            ``(B * num_samples,)``.

        Example:
            >>> model = QVAE((8, 8, 1), "chimera", graph_kwargs={"m": 1}, sampler="gibbs",
            ...              network="fc", network_options={"hidden": (32, 16)}, num_negative_samples=32)
            >>> zeta, log_q, logits = model.posterior(np.zeros((2, 8, 8, 1), "float32"), 3)
            >>> tuple(zeta.shape), tuple(log_q.shape), tuple(logits.shape)
            ((6, 8), (6,), (6, 8))
        """
        h = self._with_labels(self.encoder(x, training=training), labels)
        logits1 = self.head1(h, training=training)
        if isinstance(num_samples, int) and num_samples == 1:
            zeta1 = self._sample_group(logits1, relaxed, deterministic)
            logits2 = self.head2(tf.concat([h, zeta1], axis=-1), training=training)
        else:
            # q(z1|x) is the same for every draw of an image: run its head once per image
            # and repeat the logits (K*D times fewer rows through head1 in training).
            logits1 = tf.repeat(logits1, num_samples, axis=0)
            zeta1 = self._sample_group(logits1, relaxed, deterministic)
            logits2 = self._head2_repeated(h, zeta1, num_samples)
        zeta2 = self._sample_group(logits2, relaxed, deterministic)
        logits = tf.gather(tf.concat([logits1, logits2], -1), self._unit_order, axis=-1)
        zeta = tf.gather(tf.concat([zeta1, zeta2], -1), self._unit_order, axis=-1)
        log_q = tf.reduce_sum(zeta * logits - tf.nn.softplus(logits), axis=-1)
        return zeta, log_q, logits

    def _with_labels(self, features, labels):
        """The encoder's features, with the one-hot label beside them for a class-conditional model."""
        if not self.num_classes:
            if labels is not None:
                raise ValueError("this QVAE is unconditional: it takes no labels (build it with num_classes=C "
                                 "to condition on classes)")
            return features
        if labels is None:
            raise ValueError(f"this QVAE is class-conditional ({self.num_classes} classes): give the labels of "
                             "the images")
        return tf.concat([features, tf.one_hot(tf.cast(labels, tf.int32), self.num_classes,
                                               dtype=features.dtype)], axis=-1)

    def _head2_repeated(self, h, zeta1, num_samples):
        """``head2([h, zeta1])`` with ``h`` given once per image and ``zeta1`` per draw.

        The first layer's ``W_h h`` term is the same for every draw of an image: computed on
        the images and repeated, it costs K*D times less (about 4 ms of a 70 ms fully
        connected training step). The same weights as ``head2``, so nothing changes in what
        is saved.
        """
        first, second = self.head2.layers
        width = h.shape[-1]
        per_image = tf.matmul(h, first.kernel[:width]) + first.bias
        hidden = first.activation(tf.repeat(per_image, num_samples, axis=0) + tf.matmul(zeta1, first.kernel[width:]))
        return second(hidden)

    def decode_logits(self, z, training=False):
        """Bernoulli logits of ``p(x|z)`` for latent configurations ``z`` of shape ``(N, L)``."""
        return self.decoder(z, training=training)

    def log_likelihood_given(self, x, z, training=False):
        """``log p(x|z)`` for matching rows of images and latents."""
        return bernoulli_log_likelihood(tf.convert_to_tensor(x, tf.float32), self.decode_logits(z, training=training))

    def importance_log_weights(self, x, num_samples, training=False, relaxed=True, kl_weight=1.0, labels=None,
                               hidden_samples: int = 1):
        """``(B, num_samples)`` log weights ``log p(x|zeta) - kl_weight (E(zeta) + log q(zeta|x))``.

        For a class-conditional model, ``labels`` ``(B,)`` are the images' classes ``y``: the
        weights are those of ``p(x | y)`` (``E(zeta) + U_y.zeta`` and ``q(zeta | x, y)``).
        ``hidden_samples``: for coupled hidden units in evaluation, the draws of ``h`` per ``z``
        that estimate its free energy (:meth:`BoltzmannPrior.latent_energy`).

        Returns:
            ``(log_w, log_px_given_z)``, both ``(B, num_samples)``.
        """
        x = tf.convert_to_tensor(x, tf.float32)
        zeta, log_q, _ = self.posterior(x, num_samples, training, relaxed=relaxed, labels=labels)
        batch = tf.shape(x)[0]
        prior_labels = None if labels is None or not self.num_classes else tf.repeat(
            tf.cast(labels, tf.int32), num_samples, axis=0)
        # The draws are image-major: (B*n, H, W, 1) logits -> (B, n, H, W, 1), and x is
        # broadcast over the n draws instead of repeated (no B*n copy of the images).
        logits = tf.reshape(self.decode_logits(zeta, training=training), (batch, -1) + self.image_shape)
        log_px = bernoulli_log_likelihood(x[:, None], logits)
        prior_energy = self._prior_energy(zeta, prior_labels, relaxed, hidden_samples)
        log_w = log_px - kl_weight * tf.reshape(prior_energy + log_q, (batch, -1))
        return log_w, log_px

    @property
    def num_latent(self) -> int:
        """Latent units the encoder infers and the decoder reads (the graph's units less its hidden ones)."""
        return self.graph.num_latent

    def _prior_energy(self, zeta, labels, relaxed: bool, hidden_samples: int = 1):
        """The prior's term of the log weights (:meth:`BoltzmannPrior.latent_energy`)."""
        return self.prior.latent_energy(zeta, labels, relaxed, self.hidden_sweeps, hidden_samples)

    def _bound(self, x, training, labels=None):
        """``L_{K,D} + kl_weight * log Z`` (the part computable without ``log Z``) and the reconstruction."""
        k, d = tf.convert_to_tensor(self.iw_k.value), tf.convert_to_tensor(self.iw_d.value)
        log_w, log_px = self.importance_log_weights(x, k * d, training=training, kl_weight=self.kl_weight.value,
                                                    labels=labels)
        log_w = tf.reshape(log_w, (tf.shape(x)[0], d, k))
        bound = tf.reduce_logsumexp(log_w, axis=-1) - tf.math.log(tf.cast(k, tf.float32))
        return tf.reduce_mean(bound), -tf.reduce_mean(log_px)

    def exact_log_z(self, labels=None):
        """``log Z`` of an edge-free prior, exactly: ``sum_i softplus(-b_i)``; for a class-conditional
        one, ``log Z(y)`` of each label (``(B,)``)."""
        if self.graph.num_edges:
            raise ValueError("log Z is exact in closed form only for an edge-free (Bernoulli) prior")
        return tf.reduce_sum(tf.nn.softplus(-self.prior.linear_biases(labels)), axis=-1)

    def call(self, x, training=False):
        """Deterministic reconstruction: posterior means through the decoder, as probabilities.

        A class-conditional model takes ``(images, labels)``.
        """
        labels = None
        if self.num_classes:
            if not isinstance(x, (tuple, list)) or len(x) != 2:
                raise ValueError(f"this QVAE is class-conditional ({self.num_classes} classes): call it on "
                                 "(images, labels)")
            x, labels = x
        zeta, _, _ = self.posterior(x, 1, training, deterministic=True, labels=labels)
        return tf.sigmoid(self.decode_logits(zeta, training=training))

    # -- training ------------------------------------------------------------------------

    def _model_samples(self):
        # Under a distribution strategy every replica draws a whole negative phase of its own
        # (its own seeds, see NegativePhase.seed_for); the all-reduce then averages the
        # prior's gradient over all replicas' samples.
        context = tf.distribute.get_replica_context()
        replica = 0 if context is None else context.replica_id_in_sync_group
        inputs = [self.prior.b, self.prior.masked_weights(), tf.cast(replica, tf.int32)]
        if self.num_classes:
            inputs.append(self.prior.u)  # the chains of class y sample with biases b + U_y
        samples = tf.numpy_function(self.negative_phase, inputs, tf.float32, stateful=True, name="negative_phase")
        samples.set_shape((self.num_negative_samples, self.graph.num_nodes))
        return tf.stop_gradient(samples)

    def _negative_energy(self, z_bar, labels):
        """The negative phase's term ``mean over the batch of E_{p(z|y_i)}[E(z, y_i)]`` (``E_model[E(z)]``
        unconditionally), whose gradient is that of ``mean_i log Z(y_i)``.

        A conditional model's chains of class ``c`` estimate ``E_{p(z|c)}``; each class weighs
        its share of the batch (a class absent from the batch weighs nothing this step).
        """
        if not self.num_classes:
            return tf.reduce_mean(self.prior(z_bar))
        energies = self.prior(z_bar, self._chain_labels)
        share = tf.math.bincount(labels, minlength=self.num_classes, maxlength=self.num_classes, dtype=tf.float32)
        share = share / tf.cast(tf.shape(labels)[0], tf.float32)
        weights = tf.gather(share / self._chains_per_class, self._chain_labels)
        return tf.reduce_sum(weights * energies)

    def train_step(self, data):
        x, labels = self._images(data), self._labels(data)
        z_bar = self._model_samples()
        with tf.GradientTape() as tape:
            bound, recon = self._bound(x, training=True, labels=labels)
            negative = self._negative_energy(z_bar, labels)
            # d(-log Z)/dtheta = E_model[dE/dtheta]: the surrogate's gradient is positive
            # phase (through the bound) minus negative phase (this term).
            loss = -bound - self.kl_weight.value * negative
            # Under a distribution strategy the optimizer sums the replicas' gradients (Keras's own
            # losses divide by the replicas for it): divide too, so that they average.
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled = loss / replicas if replicas > 1 else loss
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        return self._update_metrics(loss, bound, recon, labels)

    def test_step(self, data):
        x, labels = self._images(data), self._labels(data)
        bound, recon = self._bound(x, training=False, labels=labels)
        return self._update_metrics(-bound, bound, recon, labels)

    def _update_metrics(self, loss, bound, recon, labels=None):
        self.loss_tracker.update_state(loss)
        self.recon_tracker.update_state(recon)
        self.bound_tracker.update_state(bound)
        if self.exact_bound_tracker is not None:
            log_z = tf.reduce_mean(self.exact_log_z(labels))
            self.exact_bound_tracker.update_state(bound - self.kl_weight.value * log_z)
        if _across_workers():
            # Keras 3 reduces a multi-worker step's outputs with strategy.reduce(MEAN, axis=0),
            # which fails on scalars (tensorflow/tensorflow#72388): give them that axis.
            return {m.name: tf.reshape(m.result(), (1,)) for m in self.metrics}
        return {m.name: m.result() for m in self.metrics}

    # -- generation ----------------------------------------------------------------------

    def generate(self, num_images: int, seed: int | None = None,
                 sampler: BoltzmannSampler | None = None, labels: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Images decoded from prior samples: ``(probabilities (N, H, W, 1), z (N, num_latent))`` (the latent
        units of the samples: hidden units are drawn with them and marginalised).

        Args:
            num_images: how many.
            seed: seed of the sampler call.
            sampler: the sampler of the prior; ``None``: the training sampler (a copy of it
                when it is persistent, so that training's chains are left alone).
            labels: a class-conditional model's classes to draw ``p(z | y)`` for: one
                integer (every image) or ``(num_images,)`` integers; ``None``: every class in
                turn, in equal contiguous blocks. All classes are drawn in one sampler call
                (per-chain biases ``b + U_y``, condition ids ``y``).

        Example:
            >>> model = QVAE((8, 8, 1), "chimera", graph_kwargs={"m": 1}, sampler="gibbs", network="fc",
            ...              network_options={"hidden": (16,)}, num_negative_samples=20, num_classes=10)
            >>> images, z = model.generate(20, seed=0, labels=3)
            >>> images.shape, z.shape
            ((20, 8, 8, 1), (20, 8))
        """
        num_images = check_int("num_images", num_images, error=ConfigError)
        b, quadratic = self.prior.numpy_parameters()
        if sampler is None:
            # A persistent sampler's chains belong to training (PCD): generate from a copy.
            sampler = copy.deepcopy(self.sampler) if self.sampler.persistent else self.sampler
        conditions: dict[str, Any] = {}
        if self.num_classes:
            labels = self.check_labels(np.arange(num_images) * self.num_classes // num_images
                                       if labels is None else labels, num_images)
            conditions = {"condition_biases": self.prior.class_biases(), "condition_ids": labels}
        elif labels is not None:
            raise ConfigError("this QVAE is unconditional: it generates without labels (train it with "
                              "num_classes=C, `qhvae train --conditional`, to generate by class)")
        z = sampler.sample_arrays(b, quadratic, num_images, seed=seed, **conditions)
        z = z[:, self.graph.latent_units]  # hidden units were sampled with them, and are marginalised
        return self.decode(z), z

    def check_labels(self, labels: Any, num_images: int | None = None) -> np.ndarray:
        """``labels`` as an int64 array of this model's classes (one integer is repeated ``num_images`` times).

        Raises:
            ConfigError: labels of an unconditional model, or not classes ``0..C-1``.
        """
        if not self.num_classes:
            raise ConfigError("this QVAE is unconditional: it takes no labels")
        arr = np.asarray(labels)
        if arr.ndim == 0 and num_images is not None:
            arr = np.full(num_images, arr)
        if arr.dtype.kind not in "iu" or arr.ndim != 1 or (num_images is not None and len(arr) != num_images):
            want = f"({num_images},) integers or one integer" if num_images is not None else "a 1-d integer array"
            raise ConfigError(f"labels must be {want}, got {arr.dtype} of shape {arr.shape}")
        if arr.size and (arr.min() < 0 or arr.max() >= self.num_classes):
            raise ConfigError(f"labels must be classes 0 to {self.num_classes - 1} of this model, got "
                              f"{sorted(set(arr[(arr < 0) | (arr >= self.num_classes)].tolist()))[:5]}")
        return arr.astype(np.int64)

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Pixel probabilities for latent configurations ``z``: ``(N, num_latent)``, or ``(N, L)`` states of
        the whole graph (hidden units included: they are dropped)."""
        z = np.asarray(z)
        if self.graph.hidden is not None and z.shape[-1] == self.graph.num_nodes:
            z = z[..., self.graph.latent_units]
        return tf.sigmoid(self.decode_logits(tf.convert_to_tensor(z, tf.float32))).numpy()
