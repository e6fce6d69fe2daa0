"""What TensorBoard logging costs a default ``qhvae train`` run (issue #13 target: at most 2%).

The same run (``TrainConfig()`` defaults: 8x8 digits, Chimera prior, block Gibbs, conv
networks; ``--epochs`` shortens it) is trained with and without TensorBoard logs, alternating
the order, in one process, after a warm-up run. Two figures:

- the time spent inside the TensorBoard callback (every hook timed) as a share of the logged
  run's wall time: a direct measure, robust to a noisy machine;
- the median wall time with logs over the median without: the end-to-end ratio (noisy when
  the machine is shared; the script says how busy it was).

    python benchmarks/bench_tensorboard.py                # 2 x 2 default runs, ~10 min on 2 cores
    python benchmarks/bench_tensorboard.py --epochs 10    # shorter runs (pictures are logged ~10 times either way)
    python benchmarks/bench_tensorboard.py --quick        # smoke run
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(__file__))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from _common import OtherLoad, machine_info, median, print_header, write_json  # noqa: E402

TARGET = 0.02
HOOKS = ("set_model", "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
         "on_train_batch_end")


def instrument_tensorboard_callback() -> dict[str, float]:
    """Time every hook of QVAETensorBoard (class-wide); returns the running totals in seconds."""
    from qhvae.training.tensorboard import QVAETensorBoard

    totals = {"seconds": 0.0}
    for name in HOOKS:
        original = getattr(QVAETensorBoard, name)

        def timed_hook(self, *args, _original=original, **kwargs):
            start = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                totals["seconds"] += time.perf_counter() - start

        setattr(QVAETensorBoard, name, timed_hook)
    return totals


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default: the default run's)")
    parser.add_argument("--repeats", type=int, default=2, help="runs with and without logs, each")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 epochs of 128 images, one repeat")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)

    from qhvae.training import TrainConfig, train_run

    base = TrainConfig()
    overrides = {}
    if args.epochs:
        overrides["epochs"] = args.epochs
    if args.quick:
        overrides.update(epochs=2, train_limit=128, eval_num_images=16)
        args.repeats = 1
    config = TrainConfig(**{**base.to_dict(), **overrides})
    console = Console()
    info = machine_info()
    print_header(console, "TensorBoard logging vs none: one default qhvae train run", info,
                 {"run": f"{config.dataset}, {config.prior}, {config.sampler}, {config.network} networks, "
                         f"{config.epochs} epochs of batch {config.batch_size}"})
    totals = instrument_tensorboard_callback()
    load = OtherLoad()
    with tempfile.TemporaryDirectory() as tmp:
        train_run(TrainConfig(**{**config.to_dict(), "epochs": 1, "eval_num_images": 8}), Path(tmp) / "warm-up")
        walls = {True: [], False: []}
        callback_share = []
        for rep in range(args.repeats):
            for logged in ((True, False) if rep % 2 == 0 else (False, True)):
                before = totals["seconds"]
                start = time.perf_counter()
                train_run(TrainConfig(**{**config.to_dict(), "tensorboard": logged}), Path(tmp) / f"run-{rep}-{logged}")
                wall = time.perf_counter() - start
                walls[logged].append(wall)
                if logged:
                    callback_share.append((totals["seconds"] - before) / wall)
                console.print(f"  run {rep + 1}, tensorboard {'on ' if logged else 'off'}: {wall:7.1f} s")
    busy = load.fraction()
    share = median(callback_share)
    ratio = median(walls[True]) / median(walls[False])
    table = Table(title="TensorBoard's cost in a default qhvae train run")
    for col in ("figure", "value", f"target <= {TARGET:.0%}"):
        table.add_column(col)
    table.add_row("time inside the TensorBoard callback / run wall", f"{share:.2%}",
                  "met" if share <= TARGET else "MISSED")
    table.add_row("median wall with logs / without", f"{ratio:.3f} ({ratio - 1:+.1%})",
                  "met" if ratio - 1 <= TARGET else "over (see the machine's load)")
    table.add_row("median wall with / without (s)", f"{median(walls[True]):.1f} / {median(walls[False]):.1f}", "")
    console.print(table)
    if busy is not None:
        console.print(f"other load on the machine during the runs: {busy[0]:.0%} of the CPUs (steal {busy[1]:.0%})")
    if args.json:
        write_json(args.json, {"machine": info, "config": config.to_dict(), "walls_with": walls[True],
                               "walls_without": walls[False], "callback_share": callback_share, "ratio": ratio,
                               "other_load": busy})


if __name__ == "__main__":
    main()
