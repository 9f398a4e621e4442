"""Figures return matplotlib figures, draw into a given ax, and share one style."""

import matplotlib.colors
import numpy as np
import pytest
from matplotlib.figure import Figure

from Analysis.figures import plot_curves
from Analysis.statistics_figures import plot_significance, plot_stability
from Analysis.style import describe, measure_colour, measure_label, measure_style
from Analysis.thresholding import analyze

MEASURES = {"random": 1.0, "magnitude": 3.0, "shuffled:magnitude": 1.5}


def legend_texts(figure):
    legends = figure.legends + [ax.get_legend() for ax in figure.axes if ax.get_legend() is not None]
    return [legend.get_title().get_text() for legend in legends], [t.get_text() for lg in legends for t in lg.texts]


def test_plot_curves_draws_into_a_given_ax_with_markers_chance_and_human_labels(make_results):
    results = make_results(MEASURES, num_trials=3, num_thresholds=6)
    figure = Figure()
    ax = figure.add_subplot()
    assert plot_curves(results, ax=ax, order="least") is figure
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert {"magnitude", "magnitude, shuffled", "random", "chance level"} <= set(lines)
    assert lines["magnitude"].get_marker() == "o" and len(lines["magnitude"].get_xdata()) == 6
    assert lines["chance level"].get_ydata()[0] == pytest.approx(2.5)
    assert lines["random"].get_color() == "black" and lines["random"].get_linestyle() == "--"
    assert lines["magnitude, shuffled"].get_linestyle() == ":"
    assert len(ax.collections) == 3  # one band per measure
    titles, _ = legend_texts(figure)
    assert titles == ["band: ±1 standard error (3 trials)"]
    assert ax.get_title() == ""  # no title unless asked


def test_one_trial_draws_no_band_and_says_so(make_results):
    figure = plot_curves(make_results(MEASURES, num_trials=1))
    assert isinstance(figure, Figure) and len(figure.axes) == 2  # one panel per order
    assert all(len(ax.collections) == 0 for ax in figure.axes)
    assert legend_texts(figure)[0] == ["1 trial: no band"]
    assert [ax.get_title() for ax in figure.axes] == ["least important removed first", "most important removed first"]
    assert not figure.texts  # no suptitle


def test_one_ax_refuses_several_panels_and_names_what_varies(make_results):
    figure = Figure()
    with pytest.raises(ValueError, match=r"'order': \['least', 'most'\]"):
        plot_curves(make_results(num_trials=1), ax=figure.add_subplot())


def test_colours_depend_on_the_measure_name_alone():
    assert measure_colour("fisher") == measure_colour("shuffled:fisher")
    assert measure_colour("my_new_measure") == measure_colour("my_new_measure")
    assert matplotlib.colors.to_hex(measure_colour("random")) == "#000000"
    colours = {matplotlib.colors.to_hex(measure_colour(m)) for m in ("magnitude", "fisher", "sign_flips", "mas")}
    assert len(colours) == 4
    assert measure_style("shuffled:fisher")["markerfacecolor"] == "white"


def test_human_labels():
    assert measure_label("sign_flips") == "sign flips"
    assert measure_label("shuffled:magnitude") == "magnitude, shuffled"
    assert describe({"aggregation_level": "unit", "aggregation_method": "mean", "order": "least",
                     "scope": "tensor", "parameters": "kernels"}) == (
        "units (mean), least important removed first, ranked per tensor, kernels only")


def test_statistics_figures_at_one_and_at_several_trials(make_results):
    analysis = analyze(make_results(MEASURES, num_trials=1))
    with pytest.raises(ValueError, match="at least 2 trials"):  # nothing to draw: the report says it in words
        plot_stability(analysis.trial_stability, analysis.epoch_stability)
    analysis = analyze(make_results(MEASURES, num_trials=3, epochs=(1,)))
    figure = plot_stability(analysis.trial_stability, analysis.epoch_stability)
    (only,) = [ax for ax in figure.axes if ax.get_ylabel() or ax.get_xlabel()]  # no empty "across epochs" panel
    assert only.get_ylabel() == "Kendall's W across trials" and not only.texts
    analysis = analyze(make_results(MEASURES, num_trials=3, epochs=(1, 2)))
    figure = plot_stability(analysis.trial_stability, analysis.epoch_stability)
    left, right = figure.axes[:2]
    assert not left.texts and len(left.get_lines()) == 2 and len(right.patches) == 2
    figure = plot_significance(analysis.comparisons, epoch=1)
    heat_maps = [ax for ax in figure.axes if ax.images]
    assert len(heat_maps) == 2
    assert [t.get_text() for t in heat_maps[0].get_yticklabels()][0] == "magnitude"
    assert np.isfinite(heat_maps[0].images[0].get_array()).all()
