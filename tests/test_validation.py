"""User-supplied numbers checked (``qhvae.validation`` where the machine, the latent graphs and the images
use it; issue #12): indices, parameters and grey levels that would be misread are refused, not truncated."""

import numpy as np
import pytest

from qhvae import topology
from qhvae.data import as_images
from qhvae.samplers.machine import BoltzmannMachine
from qhvae.topology import LatentGraph

# ------------------------------------------------------------- BoltzmannMachine.from_arrays


@pytest.mark.parametrize("quadratic", [
    ([[0.9, 1]], [1.0]),  # (edges, weights): 0.9 used to become unit 0
    (np.array([[0.0, 1.0]]), [1.0]),  # whole floats are refused too: indices are integers
    ([0.9], [1], [1.0]),  # (rows, cols, weights)
    ([0], np.array([1.5]), [1.0]),
    ([[True, False]], [1.0]),  # booleans are not indices either
], ids=["pair", "whole-floats", "rows", "cols", "bool"])
def test_edge_indices_must_be_integers(quadratic):
    with pytest.raises(ValueError, match=r"coupling indices must be integers, got .*float|coupling indices must be "
                                         r"integers, got .*bool") as info:
        BoltzmannMachine.from_arrays([0.0, 0.0], quadratic)
    assert "astype(int)" in str(info.value)  # says how to fix it


def test_graph_edges_must_be_integers():
    with pytest.raises(ValueError, match="graph edges must be integers"):
        BoltzmannMachine.from_arrays([0.0, 0.0], np.zeros((2, 2)), graph=np.array([[0.2, 1.0]]))


def test_integer_indices_and_empty_edge_lists_still_work():
    bm = BoltzmannMachine.from_arrays([0.0, 0.0, 0.0], (np.array([[2, 0]], np.uint8), [1.0]))
    assert bm.edges.tolist() == [[0, 2]] and bm.edges.dtype == np.int64
    assert BoltzmannMachine.from_arrays([0.0, 1.0], ([], [])).num_edges == 0  # [] is float64 to numpy
    assert BoltzmannMachine.from_arrays([0.0, 1.0], (np.zeros((0, 2)), np.zeros(0))).num_edges == 0


@pytest.mark.parametrize("linear, quadratic, what", [
    (np.array([1 + 2j, 0.0]), None, "linear biases"),
    (np.array([1 + 0j, 0.0]), None, "linear biases"),  # complex dtype, even with no imaginary part
    ([1 + 2j, 0.0], None, "linear biases"),
    ([0.0, 0.0], ([[0, 1]], np.array([0.5j])), "couplings"),
    ([0.0, 0.0], ([0], [1], [0.5 + 1j]), "couplings"),
    ([0.0, 0.0], np.array([[0, 1j], [1j, 0]]), "coupling matrix"),
    (np.array(["0.5", "1"]), None, "linear biases"),  # text that looks like numbers
    (np.array([True, False]), None, "linear biases"),
    (np.array([0.5, None], dtype=object), None, "linear biases"),
], ids=["complex", "complex-real-valued", "complex-list", "weights", "triple", "dense", "strings", "bool", "object"])
def test_parameters_must_be_real_numbers(linear, quadratic, what):
    with pytest.raises(ValueError, match=rf"^{what} must be real numbers"):
        BoltzmannMachine.from_arrays(linear, quadratic)


def test_real_parameters_of_any_numeric_dtype_still_work():
    bm = BoltzmannMachine.from_arrays(np.array([1, 2], np.int32), ([[0, 1]], np.array([0.5], np.float32)))
    assert bm.linear.dtype == np.float64 and bm.weights.tolist() == [0.5]
    assert BoltzmannMachine.from_arrays(np.array([0.5, 1.0], dtype=object)).linear.tolist() == [0.5, 1.0]


# ---------------------------------------------------------------------------- topology


@pytest.mark.parametrize("edges", [[(0.9, 1)], np.array([[0.0, 1.0]]), [("0", "1")]], ids=["fraction", "whole", "text"])
def test_from_edges_refuses_non_integer_indices(edges):
    with pytest.raises(ValueError, match="edges must be integers"):
        topology.from_edges(3, edges)


def test_latent_graph_refuses_non_integer_fields():
    with pytest.raises(ValueError, match="num_nodes must be a positive integer, got 3.5"):
        LatentGraph("g", 3.5, np.zeros((0, 2), np.int64), np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="colors must be integers"):
        LatentGraph("g", 2, np.array([[0, 1]]), np.array([0.2, 1.7]))
    with pytest.raises(ValueError, match="edges must be integers"):
        LatentGraph("g", 2, np.array([[0.5, 1]]), np.array([0, 1]))
    with pytest.raises(ValueError, match="orientation must be integers"):
        LatentGraph("g", 2, np.array([[0, 1]]), np.array([0, 1]), orientation=np.array([0.5, 1.0]))


@pytest.mark.parametrize("build, match", [
    (lambda: topology.rbm(2.5), "n_left must be a positive integer"),
    (lambda: topology.full(4.0), "num_nodes must be a positive integer"),
    (lambda: topology.bernoulli(3.7), "num_nodes must be a positive integer"),
    (lambda: topology.chimera(1.5), "m must be a positive integer"),
    (lambda: topology.from_edges(2.5, [(0, 1)]), "num_nodes must be a positive integer"),
])
def test_graph_sizes_must_be_integers(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_integer_edge_lists_still_work():
    g = topology.from_edges(3, np.array([[1, 0], [1, 2]], np.int32))
    assert g.edges.tolist() == [[0, 1], [1, 2]] and g.edges.dtype == np.int64
    assert topology.from_edges(2, []).num_edges == 0
    assert topology.bernoulli(np.int64(3)).num_nodes == 3


# ----------------------------------------------------------------------------- images


def test_integer_grey_levels_that_are_not_8_bit_are_refused():
    digits = (np.arange(64) % 17).reshape(1, 8, 8)  # like sklearn's digits: grey levels 0..16
    with pytest.raises(ValueError, match=r"integer grey levels up to 16.*scale=16.*scale=255"):
        as_images(digits)
    out = as_images(digits, scale=16)  # said explicitly: fine
    assert out.max() == 1.0 and out.min() == 0.0
    with pytest.raises(ValueError, match="up to 127"):
        as_images(np.full((1, 2, 2), 127, np.uint8))


def test_8_bit_and_binary_integer_images_are_still_read_as_before():
    assert as_images(np.full((1, 2, 2), 128, np.uint8)).max() == pytest.approx(128 / 255)
    assert as_images(np.array([[[0, 255]]], np.uint8)).max() == 1.0
    assert as_images(np.array([[[0, 1]]], np.int64)).max() == 1.0  # 0/1: binary
    assert as_images(np.full((1, 2, 2), 200), scale=255).max() == pytest.approx(200 / 255)
