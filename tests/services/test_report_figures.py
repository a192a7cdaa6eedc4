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


def test_trajectory_marks_the_baseline_points_and_names_their_screening_date(figures):
    from datetime import date

    series = [[(-1, 3200.0), (3, 1800.0), (7, 900.0)]]
    plots.trajectory_png(
        label="Ferritin",
        unit="µg/L",
        series=series,
        normal=(None, 500.0),
        log=True,
        show_count=False,
        baselines=[(-1, 3200.0, date(2026, 3, 2))],
    )
    ax = figures[0].axes[0]
    baseline = _curves(figures[0])["Baseline (screening, 2026-03-02)"]
    assert list(baseline.get_xdata()) == [-1] and list(baseline.get_ydata()) == [3200.0]
    assert ax.get_xlim()[0] < -1  # the plot starts before day 0, where the baseline is
    assert -1 in list(ax.get_xticks())


def test_trajectory_of_many_patients_names_the_range_of_screening_dates(figures):
    from datetime import date

    series = [[(-2, 40.0), (7, 120.0)], [(-1, 30.0), (7, 90.0)]]
    baselines = [(-2, 40.0, date(2026, 3, 1)), (-1, 30.0, date(2026, 3, 4))]
    plots.trajectory_png(label="Platelets", unit="10^9/L", series=series, normal=(100.0, None), baselines=baselines)
    assert "Baseline (screening, 2026-03-01 to 2026-03-04)" in _curves(figures[0])


def test_trajectory_without_baselines_keeps_days_0_to_28(figures):
    plots.trajectory_png(label="Platelets", unit="10^9/L", series=[[(3, 40.0), (7, 120.0)]], normal=(100.0, None))
    ax = figures[0].axes[0]
    assert ax.get_xlim() == (-0.5, 28.5)
    assert not _curves(figures[0])
