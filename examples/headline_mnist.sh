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
set -euo pipefail

OUT=docs/experiments/headline
RUNS=experiment-runs
args=(--out "$OUT" --runs-dir "$RUNS")
case "${1:-}" in
  "") ;;
  --report-only) args+=(--report-only) ;;
  *) args+=(--arm "$1") ;;
esac
qhvae experiment headline "${args[@]}"
