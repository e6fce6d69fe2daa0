"""The ``qhvae`` command line.

Subcommands:
    samplers    list registered samplers (name, package, description, status)
    demo        sample a random Boltzmann machine on a hardware graph with several
                samplers, estimate log Z, and write a comparison plot
    train       train a QVAE into a run directory (checkpoints, plots, evaluation);
                ``qhvae train`` alone trains a small model on the embedded 8x8 digits
    evaluate    test log-likelihood, ELBO, active units of a run's checkpoint
    sample      a PNG grid of images decoded from prior samples of a run
    gibbs-chain one block-Gibbs chain on a run's prior, decoded frame by frame (Fig. 10)
    experiment  one of the studies (the paper's connectivity, mapping, samplers, noise, datasets
                and modes; headline, recipe, conditional and hidden on full MNIST): trains its
                runs resumably, writes tables and plots

TensorFlow is imported only by the subcommands that need it. This module holds the commands;
how they read their options (the parser, ``KEY=VALUE`` values, the training options generated
from :class:`~qhvae.training.TrainConfig`) is :mod:`qhvae.cli_options`.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from . import __version__
from .cli_options import (
    Parser,
    add_config_arguments,
    add_run_arguments,
    check_out_file,
    given_options,
    non_negative_int,
    parse_params,
    sampler_choice,
)
from .exceptions import ConfigError, QhvaeError, SamplerError, TrainingDiverged, TrainingFailed
from .tfutil import quiet_tensorflow_logs

__all__ = ["main", "build_parser", "EXIT_STATUS"]

#: What ``qhvae``'s exit status means (shown by ``qhvae --help``).
EXIT_STATUS = """exit status:
  0    success
  1    a failure while working (a sampler, a device or the disk failed); a run keeps its
       last checkpoint and `qhvae train --resume RUN` continues it
  2    a usage error: a bad option or value, a missing or damaged file, a run directory
       that cannot be used; reported before any work is done
  3    training diverged (the last finite checkpoint is kept)
  130  interrupted (Ctrl-C or SIGTERM); a run keeps its last checkpoint"""

console = Console()
err_console = Console(stderr=True)


def _cmd_samplers(args: argparse.Namespace) -> int:
    from .registry import list_samplers

    table = Table(title="qhvae samplers")
    for col in ("name", "package", "description", "status"):
        table.add_column(col)
    for row in list_samplers():
        status = "[green]ok[/green]" if row.status == "ok" else f"[red]{row.status}[/red]"
        table.add_row(row.name, row.origin, row.description, status)
    console.print(table)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from . import topology
    from .evaluate.comparison import compare_samplers
    from .plots import plot_sampler_comparison

    graph = topology.by_name(args.graph)
    console.print(f"[bold]{graph}[/bold], b and W uniform in [-{args.scale}, {args.scale}], seed {args.seed}")
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("sampling", total=len(dict.fromkeys(args.samplers)) + 1)

        done = iter(range(len(dict.fromkeys(args.samplers)) + 1))

        def step(description: str) -> None:  # called before each step: the steps before it are done
            progress.update(task, description=description, completed=next(done))

        result = compare_samplers(graph, args.samplers, num_reads=args.num_reads, scale=args.scale, seed=args.seed,
                                  config=parse_params(args.option, "--option"), progress=step)
    bm, lz = result.machine, result.log_z
    table = Table(title=f"{args.num_reads} samples each")
    for col in ("sampler", "mean energy", "mean z", "seconds"):
        table.add_column(col, justify="right")
    for name, samples in result.samples.items():
        e = bm.energies(samples)
        table.add_row(name, f"{e.mean():.3f} ± {e.std() / np.sqrt(e.size):.3f}", f"{samples.mean():.4f}",
                      f"{result.seconds[name]:.3f}")
    console.print(table)
    console.print(f"log Z = {lz.value:.4f} ± {lz.stderr:.4f} ({lz.method})")
    path = plot_sampler_comparison({name: bm.energies(z) for name, z in result.samples.items()},
                                   {name: z.mean(axis=0) for name, z in result.samples.items()},
                                   Path(args.out) / "demo.png", graph.name,
                                   f"{lz.value:.2f} ± {lz.stderr:.2f} ({lz.method})")
    console.print(f"wrote {path}")
    return 0


# -- training runs (qhvae.training; TensorFlow is imported inside these functions only) -------


def _free_run_dir(base: str) -> Path:
    """``base``, or ``base-2``, ``base-3``... : the first that does not hold a run yet."""
    from .training.rundir import holds_run

    path, n = Path(base), 1
    while holds_run(path):
        n += 1
        path = Path(f"{base}-{n}")
    return path


def _cmd_train(args: argparse.Namespace) -> int:
    # Everything that can be checked is checked before TensorFlow, the data or the model load.
    from .training.config import DEFAULT_RUN_DIR, RunError, TrainConfig, check_resume_changes, option_flag
    from .training.guard import check_run_dir, check_unlocked

    values = given_options(args)
    if args.resume:
        cli_only = [flag for flag, value in (("--noise-profile", args.noise_profile), ("--out", args.out)) if value]
        if cli_only:
            raise ConfigError(f"{', '.join(cli_only)} cannot change when resuming: {args.resume}/config.json holds "
                             "the run's settings")
        check_resume_changes(values)
        check_unlocked(args.resume)
        from .training.fit import resume_run

        resume_run(args.resume, console=console, overrides=values)
        return 0
    if args.data_dir is not None:
        TrainConfig(data_dir=args.data_dir).check_data_dir("--data-dir")
    if args.noise_profile:
        if (args.sampler or "") != "emulator":
            raise ConfigError("--noise-profile applies to --sampler emulator")
        given = values.get("sampler_options", {}).get("noise_profile")
        if given is not None and given != args.noise_profile:
            raise ConfigError(f"--noise-profile {args.noise_profile} and --sampler-option noise_profile={given} "
                             "conflict; give the noise profile once")
        values.setdefault("sampler_options", {})["noise_profile"] = args.noise_profile
    if values.get("network", TrainConfig.network) == "fc":
        conv_only = [flag for flag, name in (("--base-filters", "base_filters"), ("--hidden", "hidden"))
                     if name in values]
        if conv_only:
            raise ConfigError(f"{', '.join(conv_only)} size the conv network, and this run uses --network fc (the "
                             "default): give --network conv, or size fc with --network-option hidden=512,256")
    try:
        config = TrainConfig(**values).validate()
    except RunError as exc:
        # validate() names fields; the user typed flags (train_limit -> --limit)
        message = str(exc)
        for name in values:
            if message.startswith(f"{name} "):
                message = option_flag(name) + message[len(name):]
                break
        raise RunError(message) from None
    if args.out:
        check_run_dir(args.out)
    from .training.fit import train_run

    out = Path(args.out) if args.out else _free_run_dir(DEFAULT_RUN_DIR)
    if not args.out:
        console.print(f"no --out given: the run goes to [bold]{out.resolve()}[/bold]")
        args.out = str(out)  # for the hint after Ctrl-C
    train_run(config, out, console=console)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    sampler, options = sampler_choice(args)
    from .training.run_evaluation import evaluate_run, rescore_generated
    from .training.rundir import EVALUATION_FILE

    if args.generated_only:
        if args.num_images is not None or args.num_samples != 1000 or args.seed != 0 or args.hidden_samples != 1:
            raise ConfigError("--generated-only keeps the evaluation's test images, seed and importance samples: "
                              "drop --num-images, --num-samples, --seed and --hidden-samples (or evaluate again "
                              "without "
                              "--generated-only)")
        results = rescore_generated(args.run, console=console, sampler=sampler, sampler_options=options)
    else:
        results = evaluate_run(args.run, num_samples=args.num_samples, num_images=args.num_images,
                               seed=args.seed, console=console, sampler=sampler, sampler_options=options,
                               hidden_samples=args.hidden_samples)
    table = Table(title=f"{args.run}: {results['prior']} prior, {results['dataset']} test split, "
                        f"epoch {results['epoch']}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    rows = [
        ("test log-likelihood (nats)", f"{results['log_likelihood']:.3f} ± {results['log_likelihood_stderr']:.3f}"),
        ("ELBO (nats)", f"{results['elbo']:.3f}"),
        ("importance samples K", str(results["num_samples"])),
        *([("draws of h per z (coupled hidden units)", str(results["hidden_samples"]))]
          if "hidden_samples" in results else []),
        ("test images", str(results["num_images"])),
        ("active units", f"{results['active_units']} of {results['units']}"
                         + (f" (hidden: {results['active_hidden_units']} of {results['hidden_units']})"
                            if "hidden_units" in results else "")),
        ("log Z", f"{results['log_z']:.3f} ± {results['log_z_stderr']:.3f} ({results['log_z_method']})"),
        ("L1 norm of W", f"{results['weight_l1']:.3f}"),
        ("seconds", f"{results['seconds']:.1f}"),
    ]
    if results.get("conditional"):
        rows[0] = ("test log p(x|y) (nats)", rows[0][1])
        rows[5] = ("mean log Z(y) over the images", rows[5][1])
        classifier = results.get("generative_classifier")
        if classifier:
            rows[1:1] = [
                (f"log p(x) = log sum_y p(x|y) p(y) (nats, K={classifier['num_samples']})",
                 f"{classifier['marginal_log_likelihood']:.3f} ± {classifier['marginal_log_likelihood_stderr']:.3f}"),
                ("generative classifier accuracy", f"{classifier['accuracy']:.3f}"),
            ]
        generated = results.get("generated")
        if generated:
            rows[1:1] = [
                (f"samples classified as their label ({generated['num_generated']} drawn by "
                 f"{generated.get('sampler', '?')})",
                 f"{generated['accuracy']:.3f}"),
                ("Fréchet distance to the test images (classifier features)", f"{generated['frechet_distance']:.2f}"),
            ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"wrote {Path(args.run) / EVALUATION_FILE}")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    name, options = sampler_choice(args)
    check_out_file(args.out)
    from .training.run_evaluation import load_run, prior_sampler, write_samples
    from .training.rundir import SAMPLES_FILE

    model, config, _ = load_run(args.run, console)
    sampler = prior_sampler(model, config, name, options, console)
    path = write_samples(model, args.out or Path(args.run) / SAMPLES_FILE, num=args.num, seed=args.seed,
                         sampler=sampler, label=args.label)
    console.print(f"wrote {path}")
    return 0


def _cmd_gibbs_chain(args: argparse.Namespace) -> int:
    check_out_file(args.out)
    from .training.run_evaluation import load_run, write_gibbs_chain
    from .training.rundir import CHAIN_FILE

    model, config, _ = load_run(args.run, console)
    console.print(f"[dim]note: the run was trained with sampler {config.sampler!r}; the chain is block Gibbs on its "
                  "prior and needs no sampler[/dim]")
    path = write_gibbs_chain(model, args.out or Path(args.run) / CHAIN_FILE, steps=args.steps, seed=args.seed,
                             label=args.label)
    console.print(f"wrote {path}")
    return 0


def _cmd_experiment(args: argparse.Namespace) -> int:
    from .experiments import EXPERIMENTS, get_experiment

    if args.list or not args.name:
        table = Table(title="qhvae experiments (the paper's studies)")
        for col in ("name", "paper", "arms", "cpu budget seeds"):
            table.add_column(col)
        for exp in EXPERIMENTS.values():
            table.add_row(exp.name, exp.figure, ", ".join(a.label for a in exp.arms), str(exp.budget("cpu").seeds))
        console.print(table)
        return 0
    overrides = parse_params(args.set, "--set")
    for key in ("graph_options", "sampler_options"):
        if isinstance(overrides.get(key), str):
            raise ConfigError(f"--set {key}=... takes no dict; use --set prior/sampler and the arms' own options")
    exp = get_experiment(args.name)
    from .experiments.executors import executor_by_name  # no TensorFlow yet: options fail fast

    options = {}
    if args.executor == "ray":
        if args.address and args.cpus:
            raise ConfigError("--cpus sizes a local Ray instance; a cluster given by --address has its own")
        options = {"address": args.address, "num_cpus": args.cpus, "cpus_per_run": args.cpus_per_run,
                   "gpus_per_run": args.gpus_per_run}
    elif args.address or args.cpus or args.cpus_per_run != 1 or args.gpus_per_run:
        raise ConfigError("--address, --cpus, --cpus-per-run and --gpus-per-run apply to --executor ray")
    executor = executor_by_name(args.executor, **options)
    from .experiments.runner import plan_runs, run_experiment  # Keras and TensorFlow load here

    out = Path(args.out or f"experiments/{exp.name}")
    if args.dry_run:
        console.print(f"[bold]{exp.name}[/bold], budget [bold]{args.budget}[/bold]: "
                      f"{exp.budget(args.budget).description}")
        for run in plan_runs(exp, out, budget=args.budget, seeds=args.seeds, overrides=overrides,
                             runs_dir=args.runs_dir, arms=args.arm or None):
            console.print(f"{run.arm.label:<24} seed {run.seed}  {run.run_dir}")
        return 0
    console.print(f"[bold]{exp.title}[/bold] ({exp.figure}); budget [bold]{args.budget}[/bold]: "
                  f"{exp.budget(args.budget).description}; output {out.resolve()}")
    result = run_experiment(exp, out, budget=args.budget, seeds=args.seeds, overrides=overrides,
                            runs_dir=args.runs_dir, arms=args.arm or None, console=console,
                            train=not args.report_only, executor=executor)
    from rich.markdown import Markdown

    console.print(Markdown((out / "summary.md").read_text()))
    unfinished = [r for r in result["selected"] if r["status"] not in ("finished", "diverged")]
    return 0 if not unfinished or args.report_only else 1


def _add_train_parser(sub) -> None:
    from .training.config import DEFAULT_RUN_DIR

    p = sub.add_parser(
        "train", help="train a QVAE into a run directory (checkpoints, plots, evaluation)",
        description="Train a QVAE. With no arguments: a small model on the embedded 8x8 digits, about a minute on "
                    f"two CPU cores, written to ./{DEFAULT_RUN_DIR}/. Interrupted runs continue with --resume.",
    )
    add_config_arguments(p)
    p.add_argument("--noise-profile", help="with --sampler emulator: ideal, low or high (docs/emulator.md)")
    p.add_argument("--out", help=f"run directory (default ./{DEFAULT_RUN_DIR}, or -2, -3... if that holds a run)")
    p.add_argument("--resume", metavar="RUN", help="continue the run in RUN from its last checkpoint (with "
                                                   "--epochs, a new total; with --learning-rate, a new rate)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="test log-likelihood, ELBO and active units of a trained run")
    add_run_arguments(p, seed="seed of the test binarization and the log Z estimate",
                       sampler="a sampler that estimates log Z (pa, exact); default: exact when feasible, else "
                               "population annealing")
    p.add_argument("--num-samples", type=int, default=1000, help="importance samples per image (default 1000)")
    p.add_argument("--num-images", type=int, help="first N test images (default: all)")
    p.add_argument("--hidden-samples", type=int, default=1, metavar="M",
                   help="a prior whose hidden units are coupled to each other: draws of h per latent sample that "
                        "estimate its free energy (default 1; the bound can only tighten as M grows, and the "
                        "hidden units' part of the cost grows M-fold)")
    p.add_argument("--generated-only", action="store_true",
                   help="an evaluated class-conditional run: draw only its generated-image measures again "
                        "(with the evaluation's test images and seed; --sampler: the sampler that draws the "
                        "images, default exact or pa) and keep the rest of evaluation.json")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("sample", help="PNG grid of images decoded from the prior of a trained run")
    add_run_arguments(p, seed="seed of the prior's samples",
                       sampler="sampler of the prior (default: the run's own if it is exact, gibbs, pa or sa, else pa)")
    p.add_argument("--num", type=int, default=64, help="number of images (default 64)")
    p.add_argument("--out", help="PNG path (default RUN/samples.png)")
    p.add_argument("--label", type=non_negative_int, metavar="Y",
                   help="a class-conditional run (--conditional): draw class Y only (default: one row per class)")
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("gibbs-chain", help="one block-Gibbs chain on a run's prior, decoded frame by frame")
    p.add_argument("run", metavar="RUN", help="run directory")
    p.add_argument("--steps", type=int, default=64,
                   help="frames, one colour-class update each (default 64; at most 10000)")
    p.add_argument("--out", help="PNG path (default RUN/gibbs_chain.png)")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--label", type=non_negative_int, metavar="Y",
                   help="a class-conditional run: the chain samples the prior of class Y (default 0)")
    p.set_defaults(func=_cmd_gibbs_chain)


def build_parser() -> argparse.ArgumentParser:
    """The ``qhvae`` argument parser."""
    from .topology import GRAPH_FAMILIES

    parser = Parser(prog="qhvae", description=__doc__.split("\n")[0], epilog=EXIT_STATUS,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"qhvae {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("samplers", help="list registered samplers and broken plugins")
    p.set_defaults(func=_cmd_samplers)

    p = sub.add_parser("demo", help="sample a random Boltzmann machine and compare samplers")
    p.add_argument("--graph", default="chimera", choices=sorted(GRAPH_FAMILIES))
    p.add_argument("--samplers", nargs="+", default=["pa", "gibbs", "sa"], metavar="NAME",
                   help="samplers to compare; the first is the reference of the means plot")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="configuration for the first sampler (repeatable)")
    p.add_argument("--num-reads", type=int, default=1000)
    p.add_argument("--scale", type=float, default=1.0, help="b and W uniform in [-scale, scale]")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--out", default="qhvae-demo", help="folder for demo.png")
    p.set_defaults(func=_cmd_demo)

    _add_train_parser(sub)

    p = sub.add_parser("experiment", help="run one of the paper's studies: tables and plots, resumable",
                       description="Train every run of one of the paper's studies (resuming what an earlier call "
                                   "left), then write results.csv, summary.csv/.md (mean and spread over seeds, "
                                   "the paper's findings checked) and PNG plots into --out. Without NAME: the list.")
    p.add_argument("name", nargs="?", metavar="NAME",
                   help="connectivity, mapping, samplers, noise, datasets, modes, headline, recipe, conditional "
                        "or hidden (`qhvae experiment` lists them)")
    p.add_argument("--budget", default="cpu", choices=("smoke", "cpu", "mnist", "paper"),
                   help="smoke: seconds (wiring checks); cpu (default): the study's CPU budget (most studies: 8x8 "
                        "digits and 48 units, under an hour in all; headline, recipe, conditional and hidden: full "
                        "MNIST with 288 units, under an hour per run); mnist: 28x28 images with 288 units; paper: the "
                        "paper's scale (a GPU's). `qhvae experiment NAME --dry-run` prints what a budget means for "
                        "NAME")
    p.add_argument("--seeds", type=int, help="independent runs per arm (default: the budget's)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a training option for every arm, e.g. dataset=mnist or sampler=openjij-sqa or epochs=80 "
                        "(a TrainConfig field; an arm's own options still win; repeatable)")
    p.add_argument("--arm", action="append", default=[], metavar="LABEL",
                   help="train only this arm (repeatable; the report also covers the arms with runs on disk)")
    p.add_argument("--out", help="output folder (default ./experiments/NAME)")
    p.add_argument("--runs-dir", help="where the training runs live (default OUT/runs); experiments sharing one "
                                      "share identical runs")
    p.add_argument("--report-only", action="store_true", help="write tables and plots from the runs on disk")
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local (default): one run after another here; ray: one Ray task per run, side by side "
                        '(pip install "qhvae[ray]")')
    p.add_argument("--address", help="with --executor ray: an existing Ray cluster (default: a local instance)")
    p.add_argument("--cpus", type=int, help="with --executor ray and no --address: CPUs of the local Ray instance "
                                            "(default: all of this machine's)")
    p.add_argument("--cpus-per-run", type=float, default=1, help="with --executor ray: CPUs each run declares "
                                                                 "(default 1)")
    p.add_argument("--gpus-per-run", type=float, default=0, help="with --executor ray: GPUs each run declares "
                                                                 "(default 0)")
    p.add_argument("--dry-run", action="store_true", help="list the runs and their folders, train nothing")
    p.add_argument("--list", action="store_true", help="list the experiments")
    p.set_defaults(func=_cmd_experiment)
    return parser


#: Exceptions that only a programming error raises: a sampler failing with one of these has a
#: bug, and its traceback is shown (a sampler's ValueError, OSError or timeout is not a bug).
_BUG_TYPES = (AssertionError, AttributeError, IndexError, KeyError, NameError, TypeError, ZeroDivisionError,
              RecursionError)


def _bug_behind(exc: BaseException) -> BaseException | None:
    """The programming error (not a qhvae error) that caused ``exc``, following its causes."""
    seen = set()
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, _BUG_TYPES) and not isinstance(cause, QhvaeError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qhvae`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command in ("train", "evaluate", "sample", "gibbs-chain", "experiment"):
        # TensorFlow's C++ notices (oneDNN, CUDA probing) are noise on a terminal; Python errors still show.
        quiet_tensorflow_logs(3)
    try:
        return args.func(args)
    except TrainingDiverged as exc:
        err_console.print(f"[red]training diverged:[/red] {exc}")
        return 3
    except (TrainingFailed, SamplerError) as exc:  # failed while working: the run keeps its checkpoint
        bug = _bug_behind(exc)
        if bug is not None:  # a sampler's own failure that is a programming error: show where
            traceback.print_exception(bug)
        err_console.print(f"[red]error:[/red] {exc}")
        if bug is not None:
            err_console.print(f"[red]the cause above ({type(bug).__name__}) is a bug in the sampler's code, not your "
                              "input[/red]: please report it to the sampler's package, with the traceback")
        return 1
    except QhvaeError as exc:  # the user's to fix: a bad option, file or run directory
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        err_console.print(f"[red]error:[/red] {message}")
        return 2
    except KeyboardInterrupt:
        from .training.rundir import holds_run

        target = args.resume or args.out if args.command == "train" else None
        resume = f" (continue with `qhvae train --resume {target}`)" if target and holds_run(target) else ""
        if args.command == "train" and not resume:
            resume = " before the run folder was made: nothing to resume, start again"
        if args.command == "experiment":
            resume = " (the same command continues where it stopped)"
        err_console.print(f"[yellow]interrupted[/yellow]{resume}")
        return 130
    except Exception:
        # Not an error qhvae raises on purpose: a bug, here or in a library. The traceback is
        # what a fix needs; hiding it behind "usage error" would blame the user.
        traceback.print_exc()
        err_console.print(f"[red]internal error[/red] in qhvae {__version__}: this is a bug, not your input. Please "
                          "report it to qhvae's issue tracker, with the traceback above and the command you ran.")
        return 1

if __name__ == "__main__":
    sys.exit(main())
