"""The lab panel save benchmark's timing: medians of the action and of the floor, taken in turn."""

import itertools

from bench import labs


def test_timed_ratio_takes_the_medians_of_action_and_floor_in_turn(monkeypatch):
    ticks = itertools.count()
    clock = iter([0.0, 0.030, 1.0, 1.010, 2.0, 2.050, 3.0, 3.012, 4.0, 4.040, 5.0, 5.011])
    monkeypatch.setattr(labs.time, "perf_counter", lambda: next(clock))
    calls = []
    action_ms, floor_ms = labs.timed_ratio(
        lambda: calls.append(("save", next(ticks))), lambda: calls.append(("floor", next(ticks))), runs=3
    )
    assert [name for name, _ in calls] == ["save", "floor"] * 3
    # Saves took 30, 50, 40 ms and the floor 10, 12, 11 ms.
    assert round(action_ms, 6) == 40.0 and round(floor_ms, 6) == 11.0


def test_the_bench_posts_the_first_5_or_all_30_values_of_a_visit():
    from datetime import date
    from types import SimpleNamespace

    visit = SimpleNamespace(visit_date=None, planned_date=date(2026, 3, 10))
    data = labs.panel_post(visit, list(labs.VALUES)[:5])
    assert data["sampled_at"] == "2026-03-10T08:00" and data["visit_date"] == "2026-03-10"
    assert sorted(k for k in data if k.startswith("v_")) == ["v_HGB", "v_NEUT", "v_TEMP", "v_WBC", "v_WEIGHT"]
    assert len(labs.VALUES) == 30
