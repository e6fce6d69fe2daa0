"""The paper's experiments: planning, resumable running, tables, claims, chain statistics, the CLI."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import qhvae.training.fit as fit_module  # noqa: E402
from qhvae.cli import main  # noqa: E402
from qhvae.experiments import (  # noqa: E402
    BUDGETS,
    EXPERIMENTS,
    Arm,
    Claim,
    Experiment,
    check_claims,
    modes_statistics,
    plan_runs,
    run_experiment,
)
from qhvae.training import TrainConfig, load_run, read_progress, train_run  # noqa: E402
from qhvae.training.checkpoint import latest_checkpoint  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
FAST = {"sampler_options": {}, "train_limit": 64}


def test_every_experiment_plans_valid_runs_at_every_budget(tmp_path):
    for name, exp in EXPERIMENTS.items():
        for budget in BUDGETS:
            runs = plan_runs(name, tmp_path, budget=budget)
            assert len(runs) == len(exp.arms) * exp.budget(budget).seeds
            assert len({r.run_dir for r in runs}) == len(runs), f"{name}/{budget}: two runs share a folder"
            for run in runs:
                for key, value in run.arm.overrides.items():
                    assert getattr(run.config, key) == value
        labels = {a.label for a in exp.arms}
        for claim in exp.claims:
            assert {claim.first, claim.second} <= labels, f"{name}: a claim names an arm that does not exist"
            assert claim.metric in exp.columns
    paper = plan_runs("connectivity", tmp_path, budget="paper")[0].config
    assert (paper.dataset, paper.epochs, paper.batch_size, paper.num_negative_samples) == ("mnist", 2000, 100, 1000)


def test_plan_applies_overrides_under_the_arms_and_names_runs_by_configuration(tmp_path):
    runs = plan_runs("datasets", tmp_path, budget="smoke", overrides={"dataset": "digits", "epochs": 3}, seeds=2)
    assert {r.config.dataset for r in runs} == {"mnist", "fashion_mnist"}  # the arms' own dataset wins
    assert {r.config.epochs for r in runs} == {3}
    assert [r.seed for r in runs] == [0] * 8 + [1] * 8  # every arm's first seed comes first
    again = plan_runs("datasets", tmp_path, budget="smoke", overrides={"dataset": "digits", "epochs": 3}, seeds=2)
    assert [r.run_dir for r in again] == [r.run_dir for r in runs]
    longer = plan_runs("datasets", tmp_path, budget="smoke", overrides={"epochs": 4}, seeds=2)
    assert not {r.run_dir for r in longer} & {r.run_dir for r in runs}
    # modes and connectivity train the same models: a shared runs folder shares them
    conn = plan_runs("connectivity", tmp_path / "a", budget="cpu", runs_dir=tmp_path / "runs")
    modes = plan_runs("modes", tmp_path / "b", budget="cpu", runs_dir=tmp_path / "runs")
    assert [r.run_dir for r in modes] == [r.run_dir for r in conn]
    # folders are named by what they train, not by the arm: mapping's bipartite arm is connectivity's chimera
    bipartite = plan_runs("mapping", tmp_path / "c", budget="cpu", runs_dir=tmp_path / "runs", arms=["bipartite"])
    assert [r.run_dir for r in bipartite] == [r.run_dir for r in conn if r.arm.label == "chimera"]
    assert bipartite[0].run_dir.name.startswith("digits-chimera-pa-seed0-")


def test_plan_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(KeyError, match="unknown experiment 'nope'; known experiments: connectivity"):
        plan_runs("nope", tmp_path)
    with pytest.raises(ValueError, match="unknown budget 'gpu'"):
        plan_runs("mapping", tmp_path, budget="gpu")
    with pytest.raises(KeyError, match="has no arm 'dense'; its arms: bipartite, chains"):
        plan_runs("mapping", tmp_path, arms=["dense"])
    with pytest.raises(ValueError, match="unknown training options"):
        plan_runs("mapping", tmp_path, overrides={"epochz": 3})
    with pytest.raises(ValueError, match="arm 'bipartite'.*epochs must be a positive integer"):
        plan_runs("mapping", tmp_path, overrides={"epochs": 0})
    with pytest.raises(ValueError, match="at least one seed"):
        plan_runs("mapping", tmp_path, seeds=0)


def _summary(a, b, n=3):
    return {"a": {"m": {"n": n, "mean": a[0], "std": a[1]}}, "b": {"m": {"n": n, "mean": b[0], "std": b[1]}}}


@pytest.mark.parametrize("a, b, n, relation, verdict", [
    ((2.0, 0.1), (1.0, 0.1), 3, ">", "reproduced"),
    ((1.1, 0.5), (1.0, 0.5), 3, ">", "same direction, within noise"),
    ((0.9, 0.5), (1.0, 0.5), 3, ">", "opposite direction, within noise"),
    ((0.0, 0.1), (1.0, 0.1), 3, ">", "not reproduced"),
    ((1.05, 0.1), (1.0, 0.1), 3, "~", "reproduced"),
    ((2.0, 0.1), (1.0, 0.1), 3, "~", "not reproduced"),
    ((2.0, float("nan")), (1.0, float("nan")), 1, ">", "same direction (one seed)"),
    # "<": lower is better (a distance), judged as the mirrored ">"
    ((1.0, 0.1), (2.0, 0.1), 3, "<", "reproduced"),
    ((2.0, 0.1), (1.0, 0.1), 3, "<", "not reproduced"),
    ((1.0, 0.5), (1.1, 0.5), 3, "<", "same direction, within noise"),
])
def test_claim_verdicts_use_the_spread_over_seeds(a, b, n, relation, verdict):
    exp = Experiment("x", "", "", "", (Arm("a"), Arm("b")), (Claim("a vs b", "m", "a", "b", relation),),
                     columns=("m",))
    result = check_claims(exp, _summary(a, b, n))[0]
    assert result["verdict"] == verdict
    # the boundary: the difference against twice sqrt(s1^2/n1 + s2^2/n2)
    if n > 1:
        assert result["stderr"] == pytest.approx(np.sqrt(a[1] ** 2 / n + b[1] ** 2 / n))
    assert check_claims(exp, {"a": _summary(a, b, n)["a"]})[0]["verdict"] == "not run"


@pytest.mark.slow
def test_an_experiment_runs_resumes_after_an_interruption_and_writes_its_report(tmp_path, monkeypatch):
    out = tmp_path / "mapping"
    real_train_run = fit_module.train_run  # what the executors call, looked up at each run
    calls = {"train": 0, "resume": 0}

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt  # after the first epoch's checkpoint of the first run

    def interrupted_train_run(config, run_dir, console=None):
        calls["train"] += 1
        return real_train_run(config, run_dir, console=console,
                              callbacks=[Interrupt()] if calls["train"] == 1 else [])

    monkeypatch.setattr(fit_module, "train_run", interrupted_train_run)
    with pytest.raises(KeyboardInterrupt):
        run_experiment("mapping", out, budget="smoke", overrides=FAST)
    first = plan_runs("mapping", out, budget="smoke", overrides=FAST)
    assert read_progress(first[0].run_dir)["epoch"] == 1  # the checkpoint of epoch 1 survived

    real_resume = fit_module.resume_run

    def counting_resume(run_dir, console=None):
        calls["resume"] += 1
        return real_resume(run_dir, console=console)

    monkeypatch.setattr(fit_module, "resume_run", counting_resume)
    result = run_experiment("mapping", out, budget="smoke", overrides=FAST)
    assert calls == {"train": 2, "resume": 1}
    assert [r["status"] for r in result["rows"]] == ["finished", "finished"]
    for row in result["rows"]:
        assert row["epochs"] == 2
        assert np.isfinite(row["log_likelihood"]) and row["log_likelihood"] < 0
        # tracked every epoch (the smoke budget): the curves have a point per epoch
        assert len([v for v in row["history"]["test_log_likelihood"] if v is not None]) == 2
    for name in ("results.csv", "summary.csv", "summary.md", "experiment.json"):
        assert (out / name).is_file(), name
    for name in ("curves.png", "samples.png"):
        assert (out / name).read_bytes()[:8] == PNG
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["arm"] for r in rows] == ["bipartite", "chains"]
    assert float(rows[0]["log_likelihood"]) == pytest.approx(result["rows"][0]["log_likelihood"])
    text = (out / "summary.md").read_text()
    assert "| bipartite | 1/1 |" in text and "The paper's findings, checked" in text
    manifest = json.loads((out / "experiment.json").read_text())
    assert manifest["budget"] == "smoke" and len(manifest["runs"]) == 2

    # the modes study's Fig. 10 strips work on any finished runs
    from qhvae.experiments.report import plot_chains
    assert plot_chains(EXPERIMENTS["mapping"], result["rows"], out / "chains.png", frames=6).read_bytes()[:8] == PNG

    # a third call trains nothing and rewrites the same report
    before = (first[0].run_dir / "checkpoints" / "LATEST").stat().st_mtime_ns  # rewritten by every checkpoint
    again = run_experiment("mapping", out, budget="smoke", overrides=FAST)
    assert calls == {"train": 2, "resume": 1}
    assert (first[0].run_dir / "checkpoints" / "LATEST").stat().st_mtime_ns == before
    assert again["summary"]["chains"]["log_likelihood"]["mean"] == result["summary"]["chains"]["log_likelihood"]["mean"]


def test_arms_and_seeds_choose_what_is_trained_and_the_report_covers_every_run_on_disk(tmp_path):
    """A study trained arm by arm, or seed by seed, keeps one report of every run on disk
    (``--arm X`` once wrote the report from X's runs alone)."""
    from qhvae.experiments.executors import Executor

    class Starting(Executor):  # starts each run (a partial run on disk) and trains no further
        def __init__(self):
            self.asked = []

        def run_all(self, runs, analysis=None, console=None, describe=None, on_done=None):
            for run in runs:
                self.asked.append((run.arm.label, run.seed))
                run.run_dir.mkdir(parents=True)
                (run.run_dir / "config.json").write_text(json.dumps(run.config.to_dict()))
                (run.run_dir / "progress.json").write_text(json.dumps({"status": "running", "epoch": 1}))
            return ["partial"] * len(runs)

    out, executor = tmp_path / "mapping", Starting()
    side = run_experiment("mapping", out, budget="smoke", overrides=FAST, arms=["chains"], seeds=2,
                          executor=executor)
    assert executor.asked == [("chains", 0), ("chains", 1)]
    # a side study of one arm reports that arm: the other was never run
    assert [(r["arm"], r["seed"], r["status"]) for r in side["rows"]] == [("chains", 0, "partial"),
                                                                          ("chains", 1, "partial")]
    both = run_experiment("mapping", out, budget="smoke", overrides=FAST, arms=["bipartite"], seeds=2,
                          executor=executor)
    assert executor.asked[2:] == [("bipartite", 0), ("bipartite", 1)]
    assert [(r["arm"], r["seed"]) for r in both["rows"]] == [
        ("bipartite", 0), ("chains", 0), ("bipartite", 1), ("chains", 1)]
    assert [(r["arm"], r["seed"]) for r in both["selected"]] == [("bipartite", 0), ("bipartite", 1)]
    assert [run["arm"] for run in json.loads((out / "experiment.json").read_text())["runs"]] == \
        ["bipartite", "chains"] * 2
    assert "| chains | 0/2 |" in (out / "summary.md").read_text()
    # seeds on disk beyond the budget's (smoke: 1) stay in the report; so do arms not trained now
    rebuilt = run_experiment("mapping", out, budget="smoke", overrides=FAST, train=False)
    assert [(r["arm"], r["seed"]) for r in rebuilt["rows"]] == [(r["arm"], r["seed"]) for r in both["rows"]]
    assert run_experiment("mapping", out, budget="smoke", overrides=FAST, arms=[], executor=executor)["selected"] == []
    assert len(executor.asked) == 4


def test_a_pictures_stored_strip_is_read_back_only_while_its_run_and_settings_are_unchanged(tmp_path):
    from qhvae.experiments.analysis import archive_run
    from qhvae.experiments.report import _store_strip, _stored_strip, _strip_path

    run = tmp_path / "runs" / "digits-chimera-pa-seed0-abc"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"seed": 0}))
    (run / "progress.json").write_text(json.dumps({"status": "finished", "epoch": 2}))
    (run / "modes.json").write_text(json.dumps({"latent_autocorrelation": 0.5}))
    row, picture = {"run_dir": str(run)}, tmp_path / "report" / "samples.png"
    images = np.random.default_rng(0).random((4, 8, 8, 1))
    assert _stored_strip(picture, row, "per_arm=4") is None
    _store_strip(picture, row, "per_arm=4", images, "chimera (seed 0)")
    stored, caption = _stored_strip(picture, row, "per_arm=4")
    assert caption == "chimera (seed 0)" and stored.shape == (4, 8, 8, 1)
    assert np.abs(stored - images).max() < 1e-3  # float16 grey levels
    assert _stored_strip(picture, row, "per_arm=16") is None  # drawn with other settings
    # the run's record (its files rewritten by archive_run) is the same run
    record = archive_run(run, tmp_path / "records" / run.name)
    assert _stored_strip(picture, {"run_dir": str(run), "source": str(record)}, "per_arm=4") is not None
    # trained again under the same name, without modes.json: the record follows, the strip is not reused
    (run / "modes.json").unlink()
    (run / "progress.json").write_text(json.dumps({"status": "finished", "epoch": 3}))
    assert _stored_strip(picture, row, "per_arm=4") is None
    archive_run(run, record)
    assert not (record / "modes.json").exists()
    # a strip file cut short is drawn again, not an error
    _strip_path(picture, row).write_bytes(b"PK\x03\x04 cut short")
    assert _stored_strip(picture, row, "per_arm=4") is None


@pytest.mark.slow
def test_history_tracks_the_test_set_at_the_chosen_epochs(tmp_path):
    config = TrainConfig(dataset="digits", train_limit=64, epochs=3, network="fc",
                         network_options={"hidden": [16]},
                         num_negative_samples=32, eval_num_images=0, num_plot_samples=0, gibbs_chain_steps=0,
                         track_every_epochs=2, track_num_images=16, track_num_samples=4, track_log_z_replicas=100)
    run = train_run(config, tmp_path / "run")
    history = read_progress(run)["history"]
    tracked = [v is not None for v in history["test_log_likelihood"]]
    assert tracked == [True, True, True]  # the first epoch, every 2nd, and the last
    config.epochs, config.track_every_epochs = 5, 3
    run = train_run(config, tmp_path / "run5")
    tracked = [v is not None for v in read_progress(run)["history"]["test_active_units"]]
    assert tracked == [True, False, True, False, True]
    with open(run / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["test_log_likelihood"] == "NA" for r in rows] == [False, True, False, True, False]


def _set_prior(model, b, w):
    model.prior.b.assign(np.asarray(b, np.float32))
    model.prior.w.assign(np.asarray(w, np.float32))


def test_modes_statistics_against_known_chains(tmp_path):
    """Independent units: no autocorrelation; strongly coupled units: chains stay put."""
    config = TrainConfig(dataset="digits", prior="chimera", graph_options={"m": 1}, train_limit=32, epochs=1,
                         network="fc", network_options={"hidden": [16]}, num_negative_samples=16, eval_num_images=0,
                         num_plot_samples=0, gibbs_chain_steps=0)
    run = train_run(config, tmp_path / "run")
    model, _, _ = load_run(run)
    n, e = model.graph.num_nodes, model.graph.num_edges

    def stats_for(b, w, name):
        _set_prior(model, b, w)
        model.save(latest_checkpoint(run) / "checkpoint.keras")  # the published checkpoint's model
        (run / "modes.json").unlink(missing_ok=True)
        stats = modes_statistics(run, chains=64, sweeps=64)
        return stats

    free = stats_for(np.zeros(n), np.zeros(e), "free")
    # 64 chains x 55 kept sweeps x 8 units: the pooled lag-1 estimate has stderr ~ 1/sqrt(28k) < 0.01
    assert abs(free["latent_autocorrelation"]) < 0.05
    assert free["frame_distance_ratio"] == pytest.approx(1.0, abs=0.1)
    # ferromagnetic in this energy (E = b.z + W z z, negative W rewards units on together), balanced by
    # fields so both all-on and all-off are modes: chains stay in one mode for many sweeps
    stuck = stats_for(np.full(n, 8.0), np.full(e, -4.0), "stuck")
    assert stuck["latent_autocorrelation"] > 0.8
    assert stuck["frame_distance_ratio"] < 0.5  # chains sit in different modes, each in its own
    assert json.loads((run / "modes.json").read_text())["latent_autocorrelation"] == stuck["latent_autocorrelation"]


def test_cli_lists_plans_and_refuses_unknown_names(tmp_path, capsys):
    assert main(["experiment"]) == 0
    assert "connectivity" in capsys.readouterr().out
    assert main(["experiment", "modes", "--budget", "smoke", "--dry-run", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("seed 0") == 4 and "bernoulli" in out
    assert main(["experiment", "nope"]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err
    assert main(["experiment", "mapping", "--set", "epochz=2", "--dry-run"]) == 2
    assert "unknown training options" in capsys.readouterr().err


@pytest.mark.slow
def test_the_custom_experiment_example_runs(tmp_path):
    """examples/custom_experiment.py: a user-defined study with a plugin sampler, end to end."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "examples" / "custom_experiment.py"
    done = subprocess.run([sys.executable, str(script), "--budget", "smoke", "--epochs", "1", "--seeds", "1",
                           "--samplers", "gibbs", "template-metropolis", "--out", str(tmp_path / "custom")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "with template-metropolis, Chimera beats Bernoulli" in done.stdout
    with open(tmp_path / "custom" / "results.csv") as f:
        assert [r["status"] for r in csv.DictReader(f)] == ["finished"] * 4


@pytest.mark.slow
def test_the_conditional_study_runs_at_the_smoke_budget_and_reports_what_was_generated(tmp_path):
    result = run_experiment("conditional", tmp_path / "report", budget="smoke", runs_dir=tmp_path / "runs",
                            overrides={"epochs": 1, "train_limit": 64})
    rows = result["rows"]
    assert {r["arm"] for r in rows} == {"bernoulli", "chimera/pa", "chimera/gibbs", "rbm"}
    for row in rows:
        assert row["status"] == "finished"
        config = TrainConfig.from_dict(json.loads((Path(row["run_dir"]) / "config.json").read_text()))
        assert config.conditional
        for key in ("log_likelihood", "classifier_accuracy", "sample_accuracy", "frechet_distance",
                    "marginal_log_likelihood"):
            assert np.isfinite(row[key]), (row["arm"], key)
        assert 0 <= row["sample_accuracy"] <= 1 and row["frechet_distance"] >= 0
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "generative classifier accuracy" in summary and "Fréchet distance" in summary
    for arm in ("bernoulli", "chimera-pa", "chimera-gibbs", "rbm"):  # one grid per class per arm
        assert (tmp_path / "report" / f"samples-{arm}.png").read_bytes()[:8] == PNG
        assert f"samples-{arm}.png" in summary


@pytest.mark.slow
def test_the_hidden_study_runs_at_the_smoke_budget_with_latent_and_hidden_units_apart(tmp_path):
    # the four arms that show each kind of graph: all latent, uncoupled and coupled hidden units, 144 latents
    result = run_experiment("hidden", tmp_path / "report", budget="smoke", runs_dir=tmp_path / "runs",
                            overrides={"epochs": 1, "train_limit": 64},
                            arms=["rbm", "rbm/144h", "chimera/144h-coupled", "chimera144"])
    rows = {r["arm"]: r for r in result["selected"]}
    assert all(r["status"] == "finished" for r in rows.values())
    assert {r["arm"] for r in result["rows"]} == set(rows)  # the other arms were never run
    assert (rows["rbm/144h"]["units"], rows["rbm/144h"]["hidden_units"]) == (144, 144)
    assert (rows["rbm"]["units"], rows["rbm"]["hidden_units"]) == (288, 0)
    assert rows["chimera144"]["units"] == 144 and rows["chimera/144h-coupled"]["hidden_units"] == 144
    assert np.isfinite(rows["rbm/144h"]["active_hidden_units"])


def test_a_run_evaluated_again_with_other_settings_is_not_counted_and_its_record_is_kept(tmp_path):
    """``qhvae evaluate RUN --num-images 1000`` (a side measurement) rewrites the run's
    evaluation.json: the study keeps counting the evaluation its configuration asks for."""
    import shutil

    from qhvae.experiments.analysis import collect_results, evaluation_as_configured, run_source, run_state, summarize
    from qhvae.experiments.report import write_report
    from qhvae.experiments.runner import _keep_record

    out = tmp_path / "mapping"
    planned = plan_runs("mapping", out, budget="smoke", overrides=FAST)
    run = planned[0]
    run.run_dir.mkdir(parents=True)
    (run.run_dir / "config.json").write_text(json.dumps({"eval_num_images": 20, "eval_num_samples": 8}))
    (run.run_dir / "progress.json").write_text(json.dumps({"status": "finished", "epoch": 2, "history": {}}))
    own = {"num_images": 20, "num_samples": 8, "binarization_seed": 0, "log_likelihood": -50.0}
    (run.run_dir / "evaluation.json").write_text(json.dumps(own))
    assert run_state(run.run_dir) == "finished"
    _keep_record(run)
    side = dict(own, num_images=5, num_images_requested=5, log_likelihood=-10.0)
    (run.run_dir / "evaluation.json").write_text(json.dumps(side))
    assert run_state(run.run_dir) == "re-evaluated" and run_source(run) == run.record_dir
    _keep_record(run)  # the side measurement is not archived over the record
    assert json.loads((run.record_dir / "evaluation.json").read_text())["log_likelihood"] == -50.0
    rows = collect_results("mapping", planned)
    assert (rows[0]["status"], rows[0]["log_likelihood"]) == ("finished", -50.0)

    shutil.rmtree(run.record_dir)  # no record to fall back on: the run is left out, and the report says why
    rows = collect_results("mapping", planned)
    assert rows[0]["status"] == "re-evaluated"
    exp = EXPERIMENTS["mapping"]
    summary = summarize(exp, rows)
    assert summary[rows[0]["arm"]]["finished"] == 0
    write_report(exp, out, planned, rows, summary, check_claims(exp, summary), "smoke")
    assert "restores the study's evaluation" in (out / "summary.md").read_text()

    for changed, expected in [
        ({"num_images": 3, "num_images_requested": None}, True),  # the whole split, smaller than asked
        ({"num_images": 3}, True),  # written before the request was recorded
        ({"num_images": 3, "num_images_requested": 3}, False),
        ({"num_samples": 100}, False),
        ({"binarization_seed": 1}, False),
        ({"hidden_samples": 10}, False),
    ]:
        (run.run_dir / "evaluation.json").write_text(json.dumps(dict(own, **changed)))
        assert evaluation_as_configured(run.run_dir) is expected, changed


def test_pictures_of_a_first_seed_known_only_from_its_record_are_kept_not_redrawn_from_a_later_seed(tmp_path):
    """On a fresh checkout a study's finished runs live only as records: a report rebuilt there must not
    replace the sample grids of seed 0 with grids of whatever later seed happens to be on disk."""
    from qhvae.experiments.report import _LoadedRuns, plot_class_grids, plot_samples
    from qhvae.training.rundir import CHECKPOINT_FILE

    exp = EXPERIMENTS["conditional"]
    arm = exp.arms[0].label
    later = tmp_path / "seed1"
    later.mkdir()
    (later / CHECKPOINT_FILE).write_text("not a model: loading it would fail")
    rows = [{"arm": arm, "status": "finished", "seed": 0, "run_dir": str(tmp_path / "seed0")},
            {"arm": arm, "status": "finished", "seed": 1, "run_dir": str(later)}]
    loaded = _LoadedRuns(exp, rows)
    assert loaded.chosen == [] and [a.label for a in loaded.missing] == [arm]

    grid, per_class = tmp_path / "samples.png", tmp_path / f"samples-{arm.replace('/', '-')}.png"
    grid.write_bytes(PNG + b"seed 0")
    per_class.write_bytes(PNG + b"seed 0 per class")
    assert plot_samples(exp, rows, grid, loaded=loaded) == grid
    assert plot_class_grids(exp, rows, tmp_path, loaded=loaded) == [per_class]
    assert grid.read_bytes() == PNG + b"seed 0" and per_class.read_bytes() == PNG + b"seed 0 per class"
    grid.unlink()  # nothing drawn before and nothing to draw from: no picture
    assert plot_samples(exp, rows, grid, loaded=loaded) is None and not grid.exists()
