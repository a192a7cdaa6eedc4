"""Names the pages show for stored definitions, in the reader's language.

Visit names are stored in English with the schedule (trial.VisitDefinition) and the visits
planned from it; a page shows them through trial.visit_names (the one translation of the
schedule's names, also used by the queries, the review and the documents), and the stored
value stays as it is. A name of another shape (a visit renamed in the admin) shows as stored.
"""

from django.utils.translation import gettext

from trial import visit_names


def visit_name(visit) -> str:
    """The name of a visit as a page shows it: the schedule's name translated, an unscheduled
    visit by its study day."""
    if visit is None:
        return ""
    if visit.unscheduled and visit.planned_day is not None:
        return gettext("Unscheduled (day %(day)s)") % {"day": visit.planned_day}
    return visit_names.visit_name(visit.name)


def window_note(visit) -> str:
    """Why a visit is out of its window, in the reader's language: recomputed from its dates."""
    from assessments.rules.schedule import visit_window_check

    if visit.out_of_window and visit.visit_date and visit.window_start and visit.window_end:
        return visit_window_check(
            visit_date=visit.visit_date, window_start=visit.window_start, window_end=visit.window_end
        ).explanation
    return visit.window_note


def response_detail(detail: dict) -> dict:
    """A stored response computation as a page shows it, in the reader's language: rebuilt from
    its status, counts and each marker's verdicts (the stored English stays as it is)."""
    from assessments.rules.response import (
        MARKER_LABELS,
        CodedMissing,
        Marker,
        Response,
        decision_explanation,
        marker_explanation,
        value_shown,
    )

    detail = detail or {}

    def coded_of(m: dict, marker) -> CodedMissing | None:
        found = m.get("coded") or None
        return CodedMissing(marker=marker, code=found["code"], reason=found["reason"]) if found else None

    coded = {}
    for m in detail.get("markers", ()):
        try:
            marker = Marker(m.get("marker", ""))
        except ValueError:
            continue
        if (found := coded_of(m, marker)) is not None:
            coded[marker] = found
    try:
        status = Response(detail.get("status", ""))
        missing = tuple(Marker(code) for code in detail.get("missing", ()))
        counts = detail.get("counts") or {}
        decided_by = decision_explanation(
            status,
            missing=missing,
            normalised=counts.get("normalised", 0),
            improved=counts.get("improved", 0),
            worsened=counts.get("worsened", 0),
            abnormal=counts.get("abnormal", 0),
            coded={marker: found.text for marker, found in coded.items()},
        )
    except ValueError:
        decided_by = detail.get("decided_by", "")
    markers = []
    for m in detail.get("markers", ()):
        shown = dict(m)
        try:
            marker = Marker(m["marker"])
        except (KeyError, ValueError):
            markers.append(shown)
            continue
        shown["label"] = gettext(MARKER_LABELS[marker])
        shown["baseline"] = value_shown(m.get("baseline", ""))
        shown["current"] = coded[marker].label if marker in coded else value_shown(m.get("current", ""))
        shown["explanation"] = marker_explanation(
            marker,
            normal=m.get("normal"),
            not_measured=str(m.get("current", "")).startswith("not"),
            supported=bool(m.get("supported")),
            baseline_abnormal=m.get("baseline_abnormal"),
            improved=m.get("improved"),
            worsened=m.get("worsened"),
            coded=coded[marker].text if marker in coded else None,
        )
        markers.append(shown)
    return {"decided_by": decided_by, "markers": markers}


def efs_explanation(endpoints) -> str:
    """Why a patient's EFS is what it is, in the reader's language, from the stored endpoints."""
    from assessments.rules.endpoints import efs_explanation as explain
    from assessments.rules.endpoints import outside_cutoff_analysis

    if (endpoints.detail or {}).get("outside_analysis"):
        patient = endpoints.patient
        shown = outside_cutoff_analysis(day0=patient.first_dose_date, data_cutoff=patient.site.trial.data_cutoff_date)
        return shown or endpoints.detail["outside_analysis"]
    return explain(
        event=endpoints.efs_event,
        event_date=endpoints.efs_event_date,
        efs_days=endpoints.efs_days,
        censored_on=endpoints.efs_censored_on,
    )
