"""The report's figures (assessments/plots.py): what is drawn, read back from the matplotlib figure."""

import pytest
from matplotlib.lines import Line2D

from assessments import plots


@pytest.fixture
def figures(monkeypatch):
    """The Figure each plot function renders, instead of its PNG bytes."""
    drawn = []
    monkeypatch.setattr(plots, "_png", lambda fig: drawn.append(fig) or b"")
    return drawn


def _curves(fig) -> dict[str, Line2D]:
    ax = fig.axes[0]
    return {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}


def test_km_all_patients_curve_is_drawn_over_the_group_curves_and_looks_different(figures):
    # Every patient is high risk: the "All patients" and "High risk" curves coincide.
    durations, events = [30.0, 90.0, 200.0], [True, False, False]
    plots.km_png([("All patients", durations, events), ("High risk", durations, events)])
    curves = _curves(figures[0])
    overall, group = curves["All patients (n=3)"], curves["High risk (n=3)"]
    assert overall.get_zorder() > group.get_zorder()
    # Dashed over solid, and wider: where they coincide both stay visible.
    assert overall.get_linestyle() != group.get_linestyle()
    assert overall.get_linewidth() > group.get_linewidth()


def test_km_single_curve_is_drawn_plainly(figures):
    plots.km_png([("All patients", [30.0, 60.0], [True, False])])
    (only,) = _curves(figures[0]).values()
    assert only.get_linestyle() == "-"


@pytest.mark.parametrize(("patients", "title"), [(1, "IFN-gamma (1 patient)"), (3, "IFN-gamma (3 patients)")])
def test_trajectory_title_counts_patients_in_the_singular_and_plural(figures, patients, title):
    series = [[(0, 100.0 + i), (7, 50.0 + i)] for i in range(patients)]
    plots.trajectory_png(label="IFN-gamma", unit="pg/mL", series=series, normal=(None, 8.0))
    assert figures[0].axes[0].get_title() == title
