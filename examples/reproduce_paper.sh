#!/usr/bin/env bash
# The paper's six studies, one `qhvae experiment` each, into OUT/<name>/ (tables and PNGs).
#
#   bash examples/reproduce_paper.sh [OUT] [BUDGET]
#
# BUDGET: cpu (default; each study well under an hour on 2 cores, about 2 h for all six),
# smoke (seconds each: checks the wiring), paper (the paper's scale: a GPU and weeks).
# Interrupt at any time: running the same command again continues where it stopped,
# from the last checkpoint of the run in progress. MNIST and Fashion-MNIST are read from
# $QHVAE_DATA_DIR (or /usr/share/datasets for Debian's dataset-fashion-mnist).
set -euo pipefail

OUT=${1:-paper-experiments}
BUDGET=${2:-cpu}
# One runs folder for all: `modes` decodes the very models `connectivity` trained.
RUNS="$OUT/runs"

run() { qhvae experiment "$1" --budget "$BUDGET" --out "$OUT/$1" --runs-dir "$RUNS"; }

run connectivity   # Fig. 6 (Table I, Fig. 5): Bernoulli vs Chimera vs Pegasus vs full-RBM priors
run modes          # Fig. 10: block-Gibbs chains of those priors, decoded; chain autocorrelation
run mapping        # Fig. 8: chains vs bipartite hierarchical posterior on Chimera
run samplers       # Table I, Fig. 5: population annealing vs the emulated annealer, with Bernoulli baselines
run noise          # Fig. 11: the emulator's ideal / low / high noise profiles vs PA; beta_eff, weight L1
run datasets       # Fig. 9: active units on MNIST vs Fashion-MNIST

echo "tables: $OUT/*/summary.md; plots: $OUT/*/curves.png, $OUT/modes/chains.png"
