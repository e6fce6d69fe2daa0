#!/usr/bin/env bash
# The command-line flow: train (or resume), evaluate, sample, follow a Gibbs chain.
#
#   bash examples/train_from_command_line.sh [RUN_DIR]     # ~2-3 minutes on a 2-core CPU
#
# Everything lands in RUN_DIR (default qhvae-example-run): config.json, checkpoints/ (the last
# two checkpoints, each a folder; LATEST names the published one), checkpoint.keras (a link to
# its model), progress.json, history.csv, training_curves.png, samples.png, gibbs_chain.png,
# evaluation.json.
set -euo pipefail

RUN=${1:-qhvae-example-run}
EPOCHS=${EPOCHS:-60}

if [ -f "$RUN/config.json" ]; then
    # A run that was interrupted (Ctrl-C, kill, reboot) continues from its last checkpoint;
    # a finished one only refreshes its plots and evaluation.
    qhvae train --resume "$RUN"
else
    # The defaults: embedded 8x8 digits, a 2x2 Chimera prior (32 units), block-Gibbs (PCD)
    # negative phase, the paper's schedules scaled to the epoch budget.
    qhvae train --out "$RUN" --epochs "$EPOCHS" --prior chimera --graph-option m=2 --sampler gibbs
fi

# Test log-likelihood with K = 1000 importance samples (the paper's setting), all test images.
qhvae evaluate "$RUN" --num-samples 1000

# Images decoded from samples of the trained prior.
qhvae sample "$RUN" --num 64 --out "$RUN/samples.png"

# The paper's Fig. 10: one block-Gibbs chain on the prior, one colour class per frame.
qhvae gibbs-chain "$RUN" --steps 64 --out "$RUN/gibbs_chain.png"

# Other priors and samplers, e.g. population annealing on a 4x4 Chimera:
#   qhvae train --out chimera4-pa --prior chimera --graph-option m=4 --sampler pa
# The paper's MNIST setting (needs the MNIST files; many hours on a CPU):
#   qhvae train --out mnist-run --dataset mnist --data-dir ../shared/data --graph-option m=6 \
#       --sampler pa --num-negative-samples 1000 --base-filters 32 --hidden 512 --batch-size 100 \
#       --epochs 2000 --kl-anneal-fraction 0.1 --checkpoint-every 500
