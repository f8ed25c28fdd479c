"""Exact diagnostic messages, hints and rendering."""

from __future__ import annotations

from conftest import ROOT, TFC, diagnostics
from qnnc.diagnostics import render_one, render_text
from qnnc.errors import Source


def only(text: str):
    found = diagnostics(text)
    assert len(found) == 1, found
    return found[0]


def test_issue_example_renders_exactly():
    text = TFC.replace("fold fc0 { pe: 16, simd: 49 }", "fold fc0 { pe: 16, simd: 48 }")
    diag = only(text)
    line = text.splitlines().index("  fold fc0 { pe: 16, simd: 48 }") + 1
    assert render_one(diag, Source(text, "specs/tfc.qnn")) == (
        f"specs/tfc.qnn:{line}:22: error[Q031]: SIMD 48 does not divide the layer's input width 784\n"
        "   |\n"
        f"{line} |   fold fc0 {{ pe: 16, simd: 48 }}\n"
        "   |                      ^^^^^^^^\n"
        "   = help: divisors of 784 near 48: 49, 56, 28"
    )


def test_unknown_layer_suggests_closest_kind():
    diag = only(TFC.replace("linear fc1 (64)", "lienar fc1 (64)"))
    assert (diag.code, diag.message, diag.hint) == ("Q022", "unknown layer 'lienar'", "did you mean 'linear'?")


def test_keras_style_name_suggests_qnnc_kind():
    diag = only(TFC.replace("linear fc1 (64)", "dense fc1 (64)"))
    assert (diag.message, diag.hint) == ("unknown layer 'dense'", "did you mean 'linear'?")


def test_unknown_board_suggests_board():
    diag = only(TFC.replace("target pynq-z2", "target pynq_z2"))
    assert (diag.code, diag.message, diag.hint) == ("Q017", "unknown board 'pynq_z2'", "did you mean 'pynq-z2'?")


def test_unknown_option_without_close_match_lists_options():
    diag = only(TFC.replace("seed: 1", "colour: 1"))
    assert diag.message == "unknown option 'colour' in train"
    assert diag.hint.startswith("expected one of: augment, batch, batchnorm_momentum, dataset, epochs")


def test_old_finn_mem_mode_name_is_rejected_with_choices():
    diag = only(TFC.replace("fold fc1 { pe: 8, simd: 8 }", "fold fc1 { pe: 8, simd: 8, mem_mode: decoupled }"))
    assert diag.message == "unknown mem_mode 'decoupled'"
    assert diag.hint == "did you mean 'internal_decoupled'?"


def test_duplicate_setting_points_at_second():
    diag = only(TFC.replace("seed: 1", "seed: 1\n  seed: 2"))
    assert diag.code == "Q013" and diag.message == "'seed' is set twice"
    assert diag.hint.startswith("first set on line ")


def test_pruning_shrinks_the_layer_and_the_next_layers_input():
    text = TFC.replace("linear fc1 (64) + batchnorm + act bipolar",
                       "linear fc1 (64) + batchnorm + act bipolar sparsity 30%")
    found = [(d.code, d.message) for d in diagnostics(text)]
    assert found == [
        ("Q032", "PE 8 does not divide the layer's output width after pruning 45"),
        ("Q031", "SIMD 8 does not divide the layer's input width 45"),
    ]


def test_pruning_to_a_width_the_folding_divides_is_clean():
    text = TFC.replace("linear fc1 (64) + batchnorm + act bipolar",
                       "linear fc1 (64) + batchnorm + act bipolar sparsity 50%")
    assert diagnostics(text) == []


def test_unstructured_sparsity_is_a_warning_not_an_error():
    text = TFC.replace("linear fc1 (64) + batchnorm + act bipolar",
                       "linear fc1 (64) + batchnorm + act bipolar sparsity 50% unstructured")
    diag = only(text)
    assert (diag.code, diag.severity) == ("Q060", "warning")
    assert diag.message == "unstructured sparsity in 'fc1' saves nothing in a FINN dataflow design"


def test_all_errors_are_collected_not_just_the_first():
    text = TFC.replace("dataset: mnist", "dataset: mnsit").replace("seed: 1", "sed: 1").replace(
        "target pynq-z2", "target pynq-z9")
    assert [d.code for d in diagnostics(text)] == ["Q017", "Q014", "Q017"]


def test_many_diagnostics_are_capped():
    diag = only(TFC.replace("seed: 1", "sed: 1"))
    text = render_text([diag] * 25, Source(TFC, "x.qnn"), limit=20)
    assert text.endswith("... and 5 more")
    assert text.count("error[Q014]") == 20


def test_syntax_error_message_and_hint():
    diag = only("network n {\n  flatten (:)\n}\n")
    assert (diag.code, diag.message) == ("Q001", "unexpected ':'")
    assert (diag.span.line, diag.span.col) == (2, 12)


def test_unexpected_end_of_file():
    diag = only("network n {\n  flatten\n")
    assert (diag.code, diag.message) == ("Q002", "unexpected end of file")


def test_input_values_half_way_between_quantizer_levels_are_warned_about():
    text = (ROOT / "specs" / "digits_mlp_w2a2.qnn").read_text().replace(
        "input uint8[1, 8, 8] scale 1/16", "input uint8[1, 8, 8] scale 1/16 -> quant uint4")
    diag = only(text)
    assert (diag.code, diag.severity) == ("Q047", "warning")
    assert diag.message == ("raw input value 8 falls exactly half-way between two levels of the uint4 input "
                            "quantizer; Brevitas rounds half to even, FINN's thresholds round half up")
    on_grid = text.replace("scale 1/16 -> quant uint4", "scale 1/15 -> quant uint4")
    assert diagnostics(on_grid) == []


def test_a_fold_option_typo_suggests_the_fold_option():
    diag = only(TFC.replace("fold fc0 { pe: 16, simd: 49 }", "fold fc0 { pe: 16, simd: 49, ramstyle: block }"))
    assert (diag.code, diag.message, diag.hint) == (
        "Q014", "unknown option 'ramstyle' in fold fc0", "did you mean 'ram_style'?")


def test_a_construct_not_in_the_language_yet_names_the_nearest_one():
    diag = only(TFC.replace("linear fc2 (64) + batchnorm + act bipolar\n", "avgpool1d (2)\n"))
    assert (diag.code, diag.message) == ("Q029", "'avgpool1d' (1-D average pooling) is not in the language yet")
    assert diag.hint.startswith("FINN's average pool is square: use 'maxpool1d'")


def test_a_1d_layer_on_an_image_names_its_2d_form():
    diag = only(TFC.replace("linear fc2 (64) + batchnorm + act bipolar\n", "conv1d (2)\n"))
    assert (diag.code, diag.message) == ("Q030", "conv1d layer 'conv0' needs a [channels, length] input, but gets "
                                                 "shape [64]")
    assert diag.hint.startswith("a flat input has no channels to slide over")


def test_names_of_depthwise_convolution_point_to_conv2d_with_groups():
    diag = only(TFC.replace("linear fc2 (64) + batchnorm + act bipolar\n", "DepthwiseConv2D (2)\n"))
    assert (diag.code, diag.message) == ("Q022", "unknown layer 'DepthwiseConv2D'")
    assert "'conv2d NAME (C, kernel=3, groups=C)'" in diag.hint


def test_pytorch_and_keras_names_of_average_pooling_point_to_avgpool():
    diag = only(TFC.replace("linear fc2 (64) + batchnorm + act bipolar\n", "AvgPool2d (2)\n"))
    assert (diag.code, diag.hint) == ("Q022", "did you mean 'avgpool'?")
    diag = only(TFC.replace("linear fc2 (64) + batchnorm + act bipolar\n", "GlobalAveragePool\n"))
    assert (diag.code, diag.hint) == ("Q022", "did you mean 'avgpool'? (without a kernel it pools the whole "
                                      "feature map)")


def test_the_users_data_is_described_by_its_own_options():
    diag = only(TFC.replace("dataset: mnist", 'dataset: npz(file="d.npz", classes=10, clases=3)'))
    assert (diag.code, diag.message, diag.hint) == ("Q014", "unknown option 'clases' in 'dataset'",
                                                    "did you mean 'classes'?")
    diag = only(TFC.replace("dataset: mnist", 'dataset: npz(file="d.npz")'))
    assert (diag.code, diag.message, diag.hint) == ("Q016", "'dataset' needs classes=...", "add classes=...")
