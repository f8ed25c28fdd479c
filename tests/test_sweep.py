"""The sweep's pieces without training: trial specs rewritten from the swept spec, the search
space, the Pareto front and the recommendation."""

from __future__ import annotations

import pytest

from conftest import ROOT
from qnnc.compiler import Compilation
from qnnc.errors import Source
from qnnc.report import sweep as report
from qnnc.spec import model as m
from qnnc.study.rewrite import trial_text
from qnnc.study.space import grid_size, parameters, trial_key

TFC = (ROOT / "specs" / "tfc_w1a1.qnn").read_text()
SWEPT = TFC + """
sweep {
  weights: [1, 2, 4]
  acts: [1, 2, 4]
  layer out { weights: [2, 8] }
  min_accuracy: 90%
}
"""


def compile_text(text: str) -> Compilation:
    return Compilation(Source(text, "t.qnn"))


def trial(params: dict) -> Compilation:
    comp = compile_text(SWEPT)
    names = [layer.name for layer in comp.spec.network.layers if isinstance(layer, m.WeightLayer)]
    return compile_text(trial_text(comp.module, comp.source, names, params))


def layers(comp: Compilation) -> dict:
    return {layer.name: layer for layer in comp.spec.network.layers}


def test_the_search_space_is_the_sweep_blocks_lists():
    spec = compile_text(SWEPT).spec
    assert parameters(spec) == {"weights": (1, 2, 4), "acts": (1, 2, 4), "out.weights": (2, 8)}
    assert grid_size(parameters(spec)) == 18
    assert spec.sweep.min_accuracy == 0.9


def test_a_trial_spec_has_the_trials_bit_widths_and_lints_clean():
    comp = trial({"weights": 2, "acts": 4, "out.weights": 8})
    assert comp.diagnostics() == []
    by_name = layers(comp)
    assert [by_name[n].weights for n in ("fc0", "fc1", "fc2", "out")] == [2, 2, 2, 8]
    assert {(by_name[n].func, by_name[n].bits) for n in ("fc0_act", "fc1_act", "fc2_act")} == {("hardtanh", 4)}
    assert comp.spec.sweep is None and comp.spec.target.folds == {}
    assert comp.spec.network.input.quant == "int4"  # the input quantizer follows the activations
    assert comp.source.text.startswith("# FINN's TFC")  # comments kept


def test_one_bit_activations_are_bipolar_and_sparsity_and_width_touch_hidden_layers_only():
    comp = trial({"acts": 1, "sparsity": 0.25, "width": 2})
    by_name = layers(comp)
    assert by_name["fc0_act"].func == "bipolar" and by_name["fc0_act"].bits == 1
    assert [by_name[n].out for n in ("fc0", "fc1", "fc2", "out")] == [128, 128, 128, 10]
    assert [by_name[n].kept for n in ("fc0", "fc1", "fc2", "out")] == [96, 96, 96, 10]


def test_a_width_sweep_reaches_a_depthwise_conv_through_the_layer_before_it():
    """A depthwise conv has one output per input channel: scaling widths scales it with the
    layer it follows (or leaves it on the input's channels), and the sweep's sparsity leaves
    it alone; every trial lints clean."""
    text = (ROOT / "specs" / "digits_mobilenet_w4a4.qnn").read_text()
    comp = compile_text(text)
    names = [layer.name for layer in comp.spec.network.layers if isinstance(layer, m.WeightLayer)]
    for params in ({"width": 2}, {"width": 0.5, "sparsity": 0.25}, {"width": 1.5, "weights": 2}):
        found = compile_text(trial_text(comp.module, comp.source, names, params))
        assert found.diagnostics() == [], (params, found.diagnostics())
        by_name = layers(found)
        width = params["width"]
        assert by_name["dw1"].out == by_name["dw1"].groups == by_name["conv0"].out == round(16 * width)
        assert by_name["dw2"].out == by_name["dw2"].groups == by_name["pw1"].out == round(32 * width)
        assert by_name["dw1"].sparsity == by_name["dw2"].sparsity == 0
        assert by_name["pw1"].sparsity == params.get("sparsity", 0)


def test_trial_keys_are_stable_and_distinct():
    assert trial_key({"weights": 2, "acts": 1}) == trial_key({"acts": 1, "weights": 2})
    assert trial_key({"weights": 2, "acts": 1}) != trial_key({"weights": 1, "acts": 2})


def test_the_pareto_front_and_the_recommendation():
    rows = [{"number": 0, "val_accuracy": 0.95, "energy_uj": 0.10},
            {"number": 1, "val_accuracy": 0.90, "energy_uj": 0.05},
            {"number": 2, "val_accuracy": 0.89, "energy_uj": 0.08},
            {"number": 3, "val_accuracy": 0.97, "energy_uj": 0.30}]
    assert [r["number"] for r in report.pareto(rows)] == [1, 0, 3]
    for row, (fps, lut) in zip(rows, ((1e6, 9000), (2e6, 5000), (3e6, 4000), (1e5, 20000)), strict=True):
        row.update(fps=fps, LUT=lut)
    assert [r["number"] for r in report.pareto(rows, "fps")] == [2, 1, 0, 3]  # fastest first
    assert [r["number"] for r in report.pareto(rows, "LUT")] == [2, 1, 0, 3]  # cheapest first
    rows[2]["fps"] = 5e5  # now slower and less accurate than trial 1
    assert [r["number"] for r in report.pareto(rows, "fps")] == [1, 0, 3]
    assert report.recommend(rows, 0.92)["number"] == 0
    assert report.recommend(rows, None)["number"] == 1
    assert report.recommend(rows, 0.99) is None


# ---- early stopping: Optuna's pruners on each trial's validation curve ----------------------------
def curves_study(tmp_path, spec, **config):
    import optuna

    from qnnc.study.engine import SweepConfig, open_curves

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    config = SweepConfig(spec_path="t.qnn", root=str(tmp_path), storage=f"sqlite:///{tmp_path / 'study.db'}",
                         study="s", **config)
    return open_curves(config, spec)


def epochs(*accuracies, phase="train") -> list[dict]:
    return [{"epoch": i + 1, "phase": phase, "val_accuracy": a} for i, a in enumerate(accuracies)]


def sweep_spec(text: str):
    return compile_text(TFC + "\nsweep {\n  weights: [1, 2]\n" + text + "\n}\n").spec


def sweep_block(text: str):
    return sweep_spec(text).sweep


def test_pruning_is_plateau_with_an_accuracy_to_reach_and_off_without():
    assert sweep_block("min_accuracy: 95%").stopping == "plateau"
    assert sweep_block("").stopping == "none"
    assert sweep_block("early_stop: median").stopping == "median"
    assert sweep_block("min_accuracy: 95%\nearly_stop: none").stopping == "none"
    spec = sweep_block("min_accuracy: 95%\npatience: 3\nvalidation: 20%")
    assert (spec.patience, spec.validation) == (3, 0.2)


def test_plateau_stops_a_trial_below_the_accuracy_that_stopped_improving(tmp_path):
    from qnnc.study.early_stopping import Watch

    curves = curves_study(tmp_path, sweep_spec("min_accuracy: 90%\npatience: 2"))
    stuck = Watch(curves, 0)
    assert stuck.update(epochs(0.50, 0.60, 0.61)) is None  # too few epochs to judge
    assert stuck.update(epochs(0.50, 0.60, 0.61, 0.605)) is None  # epoch 3 was the best: one epoch since
    reason = stuck.update(epochs(0.50, 0.60, 0.61, 0.605, 0.60))
    assert reason == ("stopped early at epoch 5: validation accuracy 60.00 % "
                      "(below min_accuracy and no longer improving)")
    stuck.close(stopped=True)
    climbing = Watch(curves, 1)
    assert climbing.update(epochs(0.50, 0.60, 0.70, 0.80, 0.85, 0.87)) is None  # below 90 %, but improving
    good = Watch(curves, 2)
    assert good.update(epochs(0.91, 0.92, 0.92, 0.92, 0.92)) is None  # flat, but above min_accuracy
    good.close()
    assert [t.state.name for t in curves.trials] == ["PRUNED", "RUNNING", "COMPLETE"]
    assert curves.trials[2].value == 0.92 and curves.trials[2].user_attrs == {"sweep_trial": 2}


@pytest.mark.parametrize("block,config,stopped_at", [
    ("min_accuracy: 95%", {}, 12),  # TFC's 30 epochs: 10 flat ones after the best (epoch 2) stop it
    ("min_accuracy: 95%", {"epochs": 6}, 4),  # a third of 6 is under 2: 2
    ("min_accuracy: 95%\nepochs: 15", {}, 7),  # the sweep's epochs per trial: 5
    ("min_accuracy: 95%\npatience: 3", {}, 5),  # set: as set
])
def test_a_trial_has_a_third_of_its_epochs_to_improve_unless_patience_is_set(tmp_path, block, config, stopped_at):
    """A decaying learning rate makes its largest gains last, after flat stretches: a trial below
    min_accuracy is only stopped after a third of its epochs (at least 2) without improving."""
    from qnnc.study.early_stopping import Watch

    watch = Watch(curves_study(tmp_path, sweep_spec(block), **config), 0)
    flat = [0.90, 0.93] + [0.93] * 20
    reasons = [watch.update(epochs(*flat[:n])) for n in range(1, len(flat) + 1)]
    assert reasons.index(next(r for r in reasons if r)) + 1 == stopped_at


def test_median_compares_with_earlier_trials_at_the_same_epoch(tmp_path):
    from qnnc.study.early_stopping import Watch

    curves = curves_study(tmp_path, sweep_spec("early_stop: median\npatience: 1"))
    for number, acc in enumerate((0.8, 0.9)):
        done = Watch(curves, number)
        assert done.update(epochs(acc, acc, acc)) is None  # the first two trials are never stopped
        done.close()
    late = Watch(curves, 2)
    assert late.update(epochs(0.3)) is None  # warm-up
    assert late.update(epochs(0.3, 0.4)).startswith("stopped early at epoch 2: validation accuracy 40.00 %")


def test_fine_tuning_epochs_and_epochs_without_validation_are_not_reported(tmp_path):
    from qnnc.study.early_stopping import Watch

    curves = curves_study(tmp_path, sweep_spec("min_accuracy: 90%\npatience: 1"))
    watch = Watch(curves, 0)
    rows = epochs(0.5, 0.6) + [{"epoch": 3, "phase": "train"}] + epochs(0.2, 0.2, 0.2, phase="finetune")
    assert watch.update(rows) is None
    assert curves.trials[0].intermediate_values == {1: 0.5, 2: 0.6}


def test_the_old_word_for_early_stopping_still_works_and_says_the_new_one():
    text = (ROOT / "specs" / "digits_mlp_w2a2.qnn").read_text() + "\nsweep {\n  weights: [1, 2]\n  prune: median\n}\n"
    found = Compilation(Source(text, "old.qnn")).diagnostics()
    assert [(d.code, d.severity) for d in found] == [("Q083", "warning")]
    assert "early_stop: median" in found[0].hint
    assert Compilation(Source(text, "old.qnn")).spec.sweep.stopping == "median"


def test_a_worker_that_loses_the_race_to_create_the_tables_loads_them():
    """Two workers starting together on PostgreSQL: the loser's CREATE TABLE fails with
    DuplicateTable (a ProgrammingError), and it retries and loads what the winner made."""
    from sqlalchemy.exc import ProgrammingError

    from qnnc.study.engine import racing

    class DuplicateTableError(Exception):  # psycopg.errors.DuplicateTable
        sqlstate = "42P07"

    attempts = []

    def create():
        attempts.append(1)
        if len(attempts) == 1:
            raise ProgrammingError("CREATE TABLE studies", {}, DuplicateTableError('relation "studies" already exists'))
        return "study"

    assert racing(create, "postgresql+psycopg://x") == "study" and len(attempts) == 2

    def broken():
        raise ProgrammingError("SELECT", {}, Exception("syntax error at or near"))

    with pytest.raises(ProgrammingError):
        racing(broken, "postgresql+psycopg://x")
