#!/usr/bin/env bash
# The headline study (issue #11): a Boltzmann prior vs independent Bernoulli units on full
# MNIST, with fully connected networks, on a CPU. Fifteen runs (5 arms x 3 seeds) of under an
# hour each; every finished run's small record (config, progress with its curves, evaluation)
# is copied into docs/experiments/headline/records/, so the study can be finished over several
# sittings, on several machines, and its tables rebuilt from the records alone.
#
#   bash examples/headline_mnist.sh                  # every run not finished yet, in order
#   bash examples/headline_mnist.sh bernoulli        # one arm's seeds only
#   bash examples/headline_mnist.sh --report-only    # tables and plots from what is done
#
# Arms: bernoulli, chimera/pa, chimera/gibbs, rbm, chimera/annealer. MNIST is read from
# $QHVAE_DATA_DIR. An interrupted run resumes from its checkpoint in experiment-runs/.
#
# The published study used the paper's KL warm-up (over the first 10% of the epochs), which this
# script keeps; `qhvae experiment headline` alone now trains with the recipe study's 0.5
# (issue #25, docs/reproducing.md), whose runs have other names and records.
set -euo pipefail

OUT=docs/experiments/headline
RUNS=experiment-runs
args=(--out "$OUT" --runs-dir "$RUNS" --set kl_anneal_fraction=0.1)
case "${1:-}" in
  "") ;;
  --report-only) args+=(--report-only) ;;
  *) args+=(--arm "$1") ;;
esac
qhvae experiment headline "${args[@]}"
