"""Stored English explanations are rebuilt in the reader's language from their codes (issue 15).

The rule functions write in the active language; the services store their English, and the
pages rebuild the text from the stored codes and verdicts (assessments.display)."""

from datetime import date
from types import SimpleNamespace

from django.utils import translation

from assessments import display
from assessments.rules.endpoints import efs_explanation
from assessments.rules.response import Marker, Response, decision_explanation, marker_explanation
from assessments.rules.schedule import visit_window_check


def _visit(code, name, **extra):
    values = {"definition": SimpleNamespace(code=code), "name": name, "unscheduled": False, "planned_day": None}
    return SimpleNamespace(**{**values, **extra})


def test_a_visit_of_the_schedule_is_named_in_the_readers_language_from_its_code():
    visit = _visit("D28", "Day 28 (end of treatment)")
    assert display.visit_name(visit) == "Day 28 (end of treatment)"
    with translation.override("zh-hans"):
        assert display.visit_name(visit) == "第28天（治疗结束）"
        # A renamed visit, or a code the table does not know, shows the stored name.
        assert display.visit_name(_visit("D28", "Day 28 (site wording)")) == "Day 28 (site wording)"
        assert display.visit_name(_visit("X9", "Extra")) == "Extra"
        unscheduled = _visit(None, "Unscheduled (day 10)", definition=None, unscheduled=True, planned_day=10)
        assert display.visit_name(unscheduled) == "计划外访视（第10天）"


def test_the_english_of_the_rules_is_unchanged():
    assert (
        decision_explanation(
            Response.NOT_ASSESSABLE,
            missing=(Marker.FEVER, Marker.ANC),
            normalised=0,
            improved=0,
            worsened=0,
            abnormal=0,
        )
        == "Missing at the assessment day: Fever (max temperature), ANC."
    )
    note = marker_explanation(
        Marker.FERRITIN,
        normal=False,
        not_measured=False,
        supported=False,
        baseline_abnormal=True,
        improved=False,
        worsened=True,
    )
    assert note == "abnormal; worsened >= 50 % from baseline."
    check = visit_window_check(
        visit_date=date(2026, 3, 12), window_start=date(2026, 3, 9), window_end=date(2026, 3, 11)
    )
    assert check.explanation == "1 day(s) after the window 2026-03-09 to 2026-03-11."
    assert efs_explanation(event="", event_date=None, efs_days=7, censored_on=date(2026, 3, 10)) == (
        "No event: censored on 2026-03-10."
    )


def test_a_stored_response_is_shown_in_chinese_from_its_codes_and_verdicts():
    detail = {
        "status": "not_assessable",
        "decided_by": "Missing at the assessment day: Fever (max temperature).",
        "missing": ["fever"],
        "counts": {"normalised": 0, "improved": 0, "worsened": 0, "abnormal": 1},
        "markers": [
            {
                "marker": "fever",
                "label": "Fever (max temperature)",
                "baseline": "39.5 °C",
                "current": "not measured",
                "baseline_abnormal": True,
                "normal": None,
                "improved": None,
                "worsened": None,
                "supported": False,
                "explanation": "missing at the assessment day.",
            },
            {
                "marker": "ferritin",
                "label": "Ferritin",
                "baseline": "3200 µg/L",
                "current": "5000 µg/L",
                "baseline_abnormal": True,
                "normal": False,
                "improved": False,
                "worsened": True,
                "supported": False,
                "explanation": "abnormal; worsened >= 50 % from baseline.",
            },
        ],
    }
    english = display.response_detail(detail)
    assert english["decided_by"] == detail["decided_by"]
    assert [m["explanation"] for m in english["markers"]] == [m["explanation"] for m in detail["markers"]]
    with translation.override("zh-hans"):
        shown = display.response_detail(detail)
    assert shown["decided_by"] == "评估日缺失：发热（最高体温）。"
    fever, ferritin = shown["markers"]
    assert (fever["label"], fever["current"], fever["explanation"]) == ("发热（最高体温）", "未检测", "评估日缺失。")
    assert (ferritin["label"], ferritin["explanation"]) == ("铁蛋白", "异常；较基线恶化 ≥ 50 %。")
    assert detail["markers"][0]["label"] == "Fever (max temperature)"  # the stored detail is untouched
