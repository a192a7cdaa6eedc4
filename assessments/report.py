"""The study report (protocol section 11), read from the data at any moment and cached by a data version.

Tables and statistics of the enrolled patients at the user's sites: enrollment and status,
baseline characteristics, response outcomes, best overall response rates with exact
intervals, Kaplan-Meier event-free survival at 6 months, the week-1 change of the markers in
CR vs non-CR patients, adverse events. The response that counts is the investigator's
confirmed one, else the computed one (ResponseAssessment.status), summarised per patient in
PatientEndpoints. The statistics themselves live in assessments.rules.statistics.

The assembled report is cached under a key made of a cheap data version (row counts and the
latest history time of every table it reads), the sites and each site's date, so any write,
and the change of day at any site, gives a new key. A day is the site's day: a patient's
treatment days are counted in the calendar of the patient's site.
"""

from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import date, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Max
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from assessments.models import AdverseEvent, LabResult, PatientEndpoints, Visit
from assessments.models.responses import RESPONSE_LABELS_EN
from assessments.rules.endpoints import OVERALL_RESPONSE, follow_up_time, last_contact, outside_cutoff_analysis
from assessments.rules.response import ResponseThresholds
from assessments.rules.statistics import (
    SIX_MONTHS_DAYS,
    day7_value,
    follow_up_summary,
    logrank,
    median_range,
    paired_wilcoxon,
    proportion,
    survival_at,
)
from assessments.selectors import baseline_value_of, related_or_none
from crf import catalogue
from patients.models import FollowUp, Patient, Screening, SubsequentTherapy, TreatmentEnd
from trial import clock
from trial.models import ReferenceRange, Site, Trial
from trial.rules.age import age_in_days
from trial.selectors import reference_ranges_for

CACHE_SECONDS = 24 * 3600
RESPONSE_LABELS = RESPONSE_LABELS_EN  # English: the report and its JSON are the same for every reader

# Markers of the week-1 comparison (section 11): lab code, screening field for the baseline, label, unit.
WEEK1_MARKERS = (
    ("TEMP", "max_temperature_c", "Maximum temperature", "°C"),
    ("SCD25", "scd25_value", "Soluble CD25", "pg/mL"),
    ("FERRITIN", "ferritin_ug_l", "Ferritin", "µg/L"),
    ("IFNG", "ifn_gamma_pg_ml", "IFN-gamma", "pg/mL"),
    ("NEUT", "anc_10e9_l", "ANC", "10^9/L"),
)

# The HLH markers whose trajectories are drawn (section 11): code, label, unit, log scale.
TRAJECTORY_MARKERS = (
    ("TEMP", gettext_noop("Maximum temperature"), "°C", False),
    ("NEUT", gettext_noop("ANC"), "10^9/L", False),
    ("PLAT", gettext_noop("Platelets"), "10^9/L", False),
    ("FIBRINO", gettext_noop("Fibrinogen"), "g/L", False),
    ("TRIG", gettext_noop("Triglycerides"), "mmol/L", False),
    ("FERRITIN", gettext_noop("Ferritin"), "µg/L", True),
    ("SCD25", gettext_noop("Soluble CD25"), "pg/mL", True),
    ("IFNG", gettext_noop("IFN-gamma"), "pg/mL", True),
    ("SPLEEN", gettext_noop("Spleen below costal margin"), "cm", False),
)
TRAJECTORY_DAYS = (0, 28)

# Baseline characteristics from the screening form: field, label, unit, reference-range analyte.
BASELINE_MARKERS = (
    ("max_temperature_c", gettext_noop("Maximum temperature"), "°C", "TEMP"),
    ("anc_10e9_l", gettext_noop("ANC"), "10^9/L", "NEUT"),
    ("hemoglobin_g_l", gettext_noop("Hemoglobin"), "g/L", "HGB"),
    ("platelets_10e9_l", gettext_noop("Platelets"), "10^9/L", "PLAT"),
    ("fibrinogen_g_l", gettext_noop("Fibrinogen"), "g/L", "FIBRINO"),
    ("triglycerides_mmol_l", gettext_noop("Triglycerides"), "mmol/L", "TRIG"),
    ("ferritin_ug_l", gettext_noop("Ferritin"), "µg/L", "FERRITIN"),
    ("scd25_value", gettext_noop("Soluble CD25"), "pg/mL", "SCD25"),
    ("ifn_gamma_pg_ml", gettext_noop("IFN-gamma"), "pg/mL", "IFNG"),
    ("nk_activity_pct", gettext_noop("NK-cell activity"), "%", "NKACT"),
    ("alt_u_l", gettext_noop("ALT"), "U/L", "ALT"),
    ("spleen_cm", gettext_noop("Spleen below costal margin"), "cm", "SPLEEN"),
)


def protocol_normal_range(code: str) -> tuple[float | None, float | None] | None:
    """Normal limits the response rule uses where the site has no reference range (section 9)."""
    t = ResponseThresholds()
    return {
        "TEMP": (None, t.afebrile_below_c),
        "NEUT": (t.anc_normal_at_least, None),
        "PLAT": (t.platelets_normal_at_least, None),
        "FIBRINO": (t.fibrinogen_normal_above, None),
        "SPLEEN": (None, 0.0),
    }.get(code)


# Data version --------------------------------------------------------------------------------


def _version_sql() -> str:
    # Table names come from the models (S608 below); the query has no parameters.
    # Every printed form of the catalogue, and what the report reads beside them.
    counted = (*(form.model for form in catalogue.printed_forms()), PatientEndpoints, ReferenceRange, Site)
    parts = [f"(SELECT count(*) FROM {m._meta.db_table})" for m in counted]  # noqa: S608
    for model in counted:
        history = getattr(model, "history", None)
        if history is not None:
            parts.append(f"(SELECT max(history_date) FROM {history.model._meta.db_table})")  # noqa: S608
    parts.append(f"(SELECT max(computed_at) FROM {PatientEndpoints._meta.db_table})")  # noqa: S608
    parts.append(f"(SELECT max(updated_at) FROM {Patient._meta.db_table})")  # noqa: S608
    # The data cutoff (a trial setting without history) decides who is in the analysis.
    trial = Trial._meta.db_table
    parts += [f"(SELECT {f}(data_cutoff_date) FROM {trial})" for f in ("min", "max", "count")]  # noqa: S608
    return "SELECT " + ", ".join(parts)


def data_version() -> str:
    """Row counts and latest change times of every table the report reads (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_version_sql())
        row = cursor.fetchone()
    return "|".join(str(v) for v in row)


def site_days(*, site_ids: set[int], now: datetime | None = None, today: date | None = None) -> dict[int, date]:
    """Each site's calendar date at the instant `now` (or one given date for every site)."""
    at = now or clock.now()
    return {
        site.pk: today or clock.site_today(site, at=at)
        for site in Site.objects.filter(id__in=site_ids).only("id", "time_zone")
    }


def cache_key(*, site_ids: set[int], version: str, part: str, days: dict[int, date]) -> str:
    import hashlib

    digest = hashlib.sha256(f"{version}|{sorted(site_ids)}|{sorted(days.items())}".encode()).hexdigest()[:32]
    return f"study-report:{part}:{digest}"


# Loading -------------------------------------------------------------------------------------


def _num(value) -> float | None:
    return None if value is None else float(value)


def _summary(values) -> dict:
    return asdict(median_range(values))


def _shown(value) -> str:
    if value is None:
        return "—"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _with_display(row: dict) -> dict:
    """Row values as printed in the table, and the median (range) of a continuous row."""
    row["display"] = [_shown(v) for v in row["values"]]
    summary = row.get("summary")
    if summary and summary["median"] is not None:
        row["summary_display"] = (
            f"{summary['median']:g} ({summary['minimum']:g}–{summary['maximum']:g}), n = {summary['n']}"
        )
    else:
        row["summary_display"] = ""
    return row


def _lab_rows_portable(*, site_ids, codes, first_day: int, last_day: int, patient_id=None) -> list[tuple]:
    """The same rows without PostgreSQL's AT TIME ZONE, for the embedded SQLite default."""
    from zoneinfo import ZoneInfo

    rows = LabResult.objects.filter(patient__site_id__in=site_ids, analyte__in=codes, value__isnull=False)
    if patient_id is not None:
        rows = rows.filter(patient_id=patient_id)
    out = []
    for pid, code, value, unit, at, day0, zone in rows.order_by("patient_id", "analyte", "sampled_at").values_list(
        "patient_id", "analyte", "value", "unit", "sampled_at", "patient__first_dose_date", "patient__site__time_zone"
    ):
        day = (at.astimezone(ZoneInfo(zone)).date() - day0).days
        if first_day <= day <= last_day:
            out.append((pid, code, value, unit, day))
    return out


def _lab_series(*, site_ids: set[int], codes: tuple[str, ...], first_day: int, last_day: int, patient_id=None):
    """{patient_id: {code: [(study day, value)]}} with the study day in the site's time zone; one query."""
    lab, patient, site = LabResult._meta.db_table, Patient._meta.db_table, Site._meta.db_table
    sql = f"""
        SELECT r.patient_id, r.analyte, r.value, r.unit,
               ((r.sampled_at AT TIME ZONE s.time_zone)::date - p.first_dose_date) AS day
          FROM {lab} r JOIN {patient} p ON p.id = r.patient_id JOIN {site} s ON s.id = p.site_id
         WHERE p.site_id = ANY(%(sites)s) AND r.analyte = ANY(%(codes)s) AND r.value IS NOT NULL
           AND ((r.sampled_at AT TIME ZONE s.time_zone)::date - p.first_dose_date) BETWEEN %(first)s AND %(last)s
    """  # noqa: S608 - table names come from the models, values are parameters
    params = {"sites": sorted(site_ids), "codes": list(codes), "first": first_day, "last": last_day}
    if patient_id is not None:
        sql += " AND r.patient_id = %(patient)s"
        params["patient"] = patient_id
    sql += " ORDER BY r.patient_id, r.analyte, r.sampled_at"
    series: dict[int, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    else:
        rows = _lab_rows_portable(
            site_ids=site_ids, codes=codes, first_day=first_day, last_day=last_day, patient_id=patient_id
        )
    for pid, code, value, unit, day in rows:
        if code == "SCD25" and unit != "pg/mL":
            continue  # protocol 12.1: no conversion between U/mL and pg/mL
        series[pid][code].append((day, float(value)))
    return series


def _patients(site_ids: set[int]) -> list[Patient]:
    return list(
        Patient.objects.filter(site_id__in=site_ids)
        .select_related("site__trial", "screening", "endpoints", "treatment_end", "death")
        .order_by("subject_number")
    )


# Sections ------------------------------------------------------------------------------------


def _enrollment(site_ids: set[int], patients: list[Patient]) -> dict:
    screenings = list(Screening.objects.filter(site_id__in=site_ids).values("status", "eligibility_detail"))
    failures = [s for s in screenings if s["status"] == Screening.Status.SCREEN_FAILURE]
    by_criterion: Counter = Counter()
    for s in failures:
        for criterion in (s["eligibility_detail"] or {}).get("failed", []):
            by_criterion[criterion.get("label", "?")] += 1
    ends = [related_or_none(p, "treatment_end") for p in patients]
    reasons: Counter = Counter(
        e.get_reason_display() if e.reason else "Not given"
        for e in ends
        if e is not None and e.outcome == TreatmentEnd.Outcome.DISCONTINUED
    )
    return {
        "screened": len(screenings),
        "screen_failures": len(failures),
        "screen_failures_by_criterion": [{"criterion": k, "count": v} for k, v in by_criterion.most_common()],
        "enrolled": len(patients),
        "on_treatment": sum(1 for p in patients if p.status == Patient.Status.ON_TREATMENT),
        "completed_28_days": sum(1 for e in ends if e is not None and e.outcome == TreatmentEnd.Outcome.COMPLETED),
        "discontinued": sum(reasons.values()),
        "discontinued_by_reason": [{"reason": k, "count": v} for k, v in reasons.most_common()],
        "in_follow_up": sum(1 for p in patients if p.status == Patient.Status.FOLLOW_UP),
        "deaths": sum(1 for p in patients if related_or_none(p, "death") is not None),
    }


def _ranges(patients: list[Patient]) -> dict:
    """The normal ranges shown in footnotes and shaded in plots: the first site's, for all ages."""
    site = patients[0].site if patients else Site.objects.order_by("id").first()
    if site is None:
        return {}
    found = reference_ranges_for(site=site, age_days=None)
    out = {code: {"lower": r.lower, "upper": r.upper, "unit": r.unit, "label": r.label} for code, r in found.items()}
    for code in ("TEMP", "NEUT", "PLAT", "FIBRINO", "SPLEEN"):
        if code not in out and (limits := protocol_normal_range(code)):
            lower, upper = limits
            label = f"< {upper:g}" if code == "TEMP" else (f"≥ {lower:g}" if lower is not None else f"{upper:g}")
            if code == "FIBRINO":
                label = f"> {lower:g}"
            out[code] = {
                "lower": lower,
                "upper": upper,
                "unit": "",
                "label": f"{label} (protocol section 9)",
                "bare_label": label,
                "protocol": True,
            }
    return out


def _baseline(patients: list[Patient], ranges: dict) -> dict:
    rows = []
    ages = [round(age_in_days(p.screening.date_of_birth, p.screening.screening_date) / 365.25, 1) for p in patients]
    weights = [_num(p.enrollment_weight_kg) for p in patients]
    rows.append(
        {
            "label": gettext_noop("Age"),
            "unit": gettext_noop("years"),
            "values": ages,
            "summary": _summary(ages),
            "footnote": "",
        }
    )
    rows.append({"label": "Weight", "unit": "kg", "values": weights, "summary": _summary(weights), "footnote": ""})
    rows.append({"label": "Sex", "unit": "", "values": [p.screening.sex for p in patients], "summary": None})
    rows.append(
        {"label": "Etiology", "unit": "", "values": [p.get_etiology_display() for p in patients], "summary": None}
    )
    rows.append(
        {"label": "Risk group", "unit": "", "values": [p.get_risk_group_display() for p in patients], "summary": None}
    )
    footnotes, footnote_items = [], []
    for field, label, unit, code in BASELINE_MARKERS:
        values: list = []
        for p in patients:
            value = _num(getattr(p.screening, field))
            if field == "scd25_value" and value is not None and p.screening.scd25_unit != "pg/mL":
                value = f"{value:g} {p.screening.scd25_unit}".strip()  # shown, not summarised (protocol 12.1)
            values.append(value)
        mark = ""
        if code in ranges:
            footnotes.append(f"{label}: normal {ranges[code]['label']}")
            # The same footnote in parts, for a page that prints it in the reader's language.
            found = ranges[code]
            protocol = bool(found.get("protocol"))
            footnote_items.append(
                {"label": label, "range": found["bare_label"] if protocol else found["label"], "protocol": protocol}
            )
            mark = chr(ord("a") + len(footnotes) - 1)
        numeric = [v for v in values if isinstance(v, float)]
        rows.append({"label": label, "unit": unit, "values": values, "summary": _summary(numeric), "footnote": mark})
    rows = [_with_display(row) for row in rows]
    return {
        "patients": [p.subject_number for p in patients],
        "rows": rows,
        "footnotes": footnotes,
        "footnote_items": footnote_items,
    }


def _therapy_parts(t: SubsequentTherapy, day0: date) -> dict:
    """A subsequent therapy in parts (English labels), for a page that prints it in the reader's language."""
    drugs = [name for name, on in (("E", t.etoposide), ("D", t.dexamethasone), ("CsA", t.cyclosporine)) if on]
    if t.other_drugs:
        drugs.append(t.other_drugs)
    return {
        "regimen": str(t.get_regimen_display()),
        "drugs": ", ".join(drugs),
        "day": (t.start_date - day0).days,
        "response": str(t.get_response_display()) if t.response else "",
    }


def _therapy_label(t: SubsequentTherapy, day0: date) -> str:
    parts = _therapy_parts(t, day0)
    text = parts["regimen"] + (f" ({parts['drugs']})" if parts["drugs"] else "")
    text += f" from day {parts['day']}"
    if parts["response"]:
        text += f": {parts['response']}"
    return text


def _treatment_days(p: Patient, days: dict[int, date]) -> int:
    end = related_or_none(p, "treatment_end")
    if end is not None:
        return end.study_day + 1
    return max(0, min(p.site.trial.treatment_days, (days[p.site_id] - p.first_dose_date).days + 1))


def _outcomes(patients: list[Patient], days: dict[int, date]) -> list[dict]:
    therapies: dict[int, list[SubsequentTherapy]] = defaultdict(list)
    for t in SubsequentTherapy.objects.filter(patient__in=patients).order_by("start_date"):
        therapies[t.patient_id].append(t)
    last_follow: dict[int, FollowUp] = {}
    contacts: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for f in FollowUp.objects.filter(patient__in=patients).order_by("assessed_on"):
        last_follow[f.patient_id] = f
        contacts[f.patient_id].append((f.assessed_on, f.vital_status))
    last_visit = dict(
        Visit.objects.filter(patient__in=patients, visit_date__isnull=False)
        .values("patient_id")
        .annotate(last=Max("visit_date"))
        .values_list("patient_id", "last")
    )
    rows = []
    for p in patients:
        ep: PatientEndpoints | None = related_or_none(p, "endpoints")
        end = related_or_none(p, "treatment_end")
        death = related_or_none(p, "death")
        death_date = death.date_of_death if death else None
        contact = last_contact(
            day0=p.first_dose_date,
            visit_dates=(last_visit[p.pk],) if p.pk in last_visit else (),
            follow_ups=tuple(contacts[p.pk]),
            death_date=death_date,
        )
        followed = follow_up_time(
            day0=p.first_dose_date,
            death_date=death_date,
            last_contact=contact,
            data_cutoff=p.site.trial.data_cutoff_date,
        )
        best = ep.best_response if ep else ""
        if death is not None:
            day = (death.date_of_death - p.first_dose_date).days
            survival = f"Died day {day}: {death.cause}"
            survival_parts = {"kind": "died", "day": day, "cause": death.cause}
        elif p.pk in last_follow:
            f = last_follow[p.pk]
            day = (f.assessed_on - p.first_dose_date).days
            survival = f"{f.get_vital_status_display()} at day {day}"
            survival_parts = {"kind": "follow_up", "day": day, "status": str(f.get_vital_status_display())}
        else:
            survival = "Alive"
            survival_parts = {"kind": "alive"}
        rows.append(
            {
                "patient_id": p.pk,
                "subject": p.subject_number,
                "outside_analysis": outside_cutoff_analysis(
                    day0=p.first_dose_date, data_cutoff=p.site.trial.data_cutoff_date
                ),
                "first_dose_date": p.first_dose_date.isoformat(),
                "data_cutoff": p.site.trial.data_cutoff_date.isoformat() if p.site.trial.data_cutoff_date else None,
                "etiology": p.etiology,
                "etiology_label": p.get_etiology_display(),
                "risk_group": p.risk_group,
                "risk_group_label": p.get_risk_group_display(),
                "treatment_days": _treatment_days(p, days),
                "stop_reason": (end.get_reason_display() if end.reason else end.get_outcome_display()) if end else "",
                "best_response": best,
                "best_response_label": RESPONSE_LABELS.get(best, gettext_noop("Not assessed")),
                "best_response_day": ep.best_response_day if ep else None,
                "response_duration_days": ep.cr_duration_days if ep else None,
                "subsequent_therapy": "; ".join(_therapy_label(t, p.first_dose_date) for t in therapies[p.pk]),
                "subsequent_therapies": [_therapy_parts(t, p.first_dose_date) for t in therapies[p.pk]],
                "survival": survival,
                "survival_parts": survival_parts,
                "alive": death is None,
                "efs_days": ep.efs_days if ep else None,
                "efs_event": ep.efs_event if ep else "",
                "efs_event_label": ep.get_efs_event_display() if ep else "",
                "last_contact": contact.isoformat() if contact else None,
                "follow_up_days": followed.days,
                "follow_up_ended_by": followed.ended_by,
            }
        )
    return rows


def _rates(outcomes: list[dict]) -> list[dict]:
    """Best overall response up to day 28 over all enrolled patients of each group (section 11)."""

    def row(group: str, label: str, members: list[dict]) -> dict:
        n = len(members)
        best = Counter(m["best_response"] for m in members)
        return {
            "group": group,
            "label": label,
            "n": n,
            "cr": asdict(proportion(best["cr"], n)),
            "pr": asdict(proportion(best["pr"], n)),
            "improvement": asdict(proportion(best["improvement"], n)),
            "or": asdict(proportion(sum(best[s] for s in OVERALL_RESPONSE), n)),
        }

    outcomes = _analysed(outcomes)
    rows = [row("all", "All patients", outcomes)]
    for value, label in Patient.Etiology.choices:
        members = [o for o in outcomes if o["etiology"] == value]
        if members:
            rows.append(row(f"etiology:{value}", label, members))
    for value, label in Patient.RiskGroup.choices:
        members = [o for o in outcomes if o["risk_group"] == value]
        if members:
            rows.append(row(f"risk:{value}", label, members))
    return rows


def _analysed(outcomes: list[dict]) -> list[dict]:
    """The patients of the data-cutoff analysis: all but those whose first dose is after the cutoff."""
    return [o for o in outcomes if not o["outside_analysis"]]


def _analysis(patients: list[Patient], outcomes: list[dict]) -> dict:
    cutoffs = sorted({p.site.trial.data_cutoff_date for p in patients if p.site.trial.data_cutoff_date})
    outside = [{"subject": o["subject"], "reason": o["outside_analysis"]} for o in outcomes if o["outside_analysis"]]
    return {
        "data_cutoffs": [d.isoformat() for d in cutoffs],
        "patients": len(outcomes) - len(outside),
        "outside_cutoff": outside,
    }


def _efs(outcomes: list[dict]) -> dict:
    outcomes = _analysed(outcomes)
    observed = [o for o in outcomes if o["efs_days"] is not None]

    def fit(members):
        return asdict(survival_at([o["efs_days"] for o in members], [bool(o["efs_event"]) for o in members]))

    groups = []
    for value, label in Patient.RiskGroup.choices:
        members = [o for o in observed if o["risk_group"] == value]
        if members:
            groups.append({"group": value, "label": label, **fit(members)})
    high = [o for o in observed if o["risk_group"] == Patient.RiskGroup.HIGH]
    low = [o for o in observed if o["risk_group"] == Patient.RiskGroup.LOW]
    test = logrank(
        [o["efs_days"] for o in high],
        [bool(o["efs_event"]) for o in high],
        [o["efs_days"] for o in low],
        [bool(o["efs_event"]) for o in low],
    )
    return {
        "day": SIX_MONTHS_DAYS,
        "overall": {"group": "all", "label": "All patients", **fit(observed)},
        "by_risk": groups,
        "logrank_high_vs_low": asdict(test),
        "without_follow_up": len(outcomes) - len(observed),
    }


def _follow_up(outcomes: list[dict]) -> dict:
    """Follow-up of the analysed patients (section 11): first dose to death or last contact,
    capped at the data cutoff; median and range in days and months. Not the EFS times."""
    outcomes = _analysed(outcomes)
    summary = follow_up_summary([o["follow_up_days"] for o in outcomes])
    return {**asdict(summary), "without_follow_up": len(outcomes) - summary.n}


def _week1(patients: list[Patient], outcomes: list[dict], series: dict) -> list[dict]:
    """Baseline vs day 7 in CR and non-CR patients, paired Wilcoxon within each group (section 11)."""
    best = {o["patient_id"]: o["best_response"] for o in _analysed(outcomes)}
    analysed = [p for p in patients if p.pk in best]
    rows = []
    for code, field, label, unit in WEEK1_MARKERS:
        pairs: dict[bool, tuple[list, list]] = {True: ([], []), False: ([], [])}
        for p in analysed:
            points = series.get(p.pk, {}).get(code, [])
            before = [v for d, v in points if d <= 0]
            baseline = before[-1] if before else _num(getattr(p.screening, field))
            if code == "SCD25" and not before and p.screening.scd25_unit != "pg/mL":
                baseline = None
            end = related_or_none(p, "treatment_end")
            after = day7_value([(d, v) for d, v in points if d > 0], stopped_day=end.study_day if end else None)
            group = pairs[best[p.pk] == "cr"]
            group[0].append(baseline)
            group[1].append(after)
        rows.append(
            {
                "code": code,
                "label": label,
                "unit": unit,
                "cr": asdict(paired_wilcoxon(*pairs[True])),
                "non_cr": asdict(paired_wilcoxon(*pairs[False])),
            }
        )
    return rows


def _adverse_events(patients: list[Patient], days: dict[int, date]) -> dict:
    events: dict[int, list[AdverseEvent]] = defaultdict(list)
    for ae in AdverseEvent.objects.filter(patient__in=patients).select_related("term").order_by("onset_date", "id"):
        events[ae.patient_id].append(ae)
    per_patient = []
    worst: dict[str, dict[int, int]] = defaultdict(dict)  # term -> patient -> max grade
    for p in patients:
        mine = events.get(p.pk, [])
        for ae in mine:
            worst[ae.term_label][p.pk] = max(worst[ae.term_label].get(p.pk, 0), ae.grade)
        per_patient.append(
            {
                "subject": p.subject_number,
                "dose_mg": _num(p.prescribed_dose_mg),
                "treatment_days": _treatment_days(p, days),
                "events": [{"term": ae.term_label, "grade": ae.grade, "serious": ae.serious} for ae in mine],
                "discontinued": [
                    {"term": ae.term_label, "grade": ae.grade}
                    for ae in mine
                    if ae.action_taken == AdverseEvent.Action.DISCONTINUED
                ],
            }
        )
    summary = []
    for term, by_patient in sorted(worst.items(), key=lambda item: (-len(item[1]), item[0])):
        grades = Counter(by_patient.values())
        summary.append(
            {"term": term, "patients": len(by_patient), "by_max_grade": [grades.get(g, 0) for g in range(1, 6)]}
        )
    return {
        "patients": per_patient,
        "summary": summary,
        "total_events": sum(len(v) for v in events.values()),
        "serious": sum(1 for v in events.values() for ae in v if ae.serious),
    }


# Assembly ------------------------------------------------------------------------------------


def report_build(*, site_ids: set[int], days: dict[int, date]) -> dict:
    """Every table and statistic of the report, as plain numbers and strings (JSON-ready).

    `days` gives each site's date (site_days); "today" is the latest of them, the day the
    figures reach at the sites that are furthest on.
    """
    patients = _patients(site_ids)
    outcomes = _outcomes(patients, days)
    ranges = _ranges(patients)
    series = _lab_series(site_ids=site_ids, codes=tuple(m[0] for m in WEEK1_MARKERS), first_day=-7, last_day=8)
    return {
        "generated_at": clock.now().isoformat(timespec="seconds"),
        "today": max(days.values()).isoformat() if days else clock.now().date().isoformat(),
        "site_dates": {code: days[pk].isoformat() for pk, code in _site_codes(days)},
        "sites": list(Site.objects.filter(id__in=site_ids).order_by("code").values_list("code", flat=True)),
        "enrollment": _enrollment(site_ids, patients),
        "baseline": _baseline(patients, ranges),
        "outcomes": outcomes,
        "analysis": _analysis(patients, outcomes),
        "response_rates": _rates(outcomes),
        "efs": _efs(outcomes),
        "follow_up": _follow_up(outcomes),
        "week1": _week1(patients, outcomes, series),
        "adverse_events": _adverse_events(patients, days),
        "normal_ranges": ranges,
    }


def _site_codes(days: dict[int, date]) -> list[tuple[int, str]]:
    return list(Site.objects.filter(id__in=days).order_by("code").values_list("id", "code"))


def study_report(*, site_ids: set[int], now: datetime | None = None, today: date | None = None) -> dict:
    """The report for these sites at the instant `now`, from the cache while the data are unchanged."""
    days = site_days(site_ids=site_ids, now=now, today=today)
    version = data_version()
    key = cache_key(site_ids=site_ids, version=version, part="report", days=days)
    report = cache.get(key)
    if report is None:
        # Built in English whatever the reader's language (the labels of choices are lazy
        # translations): the report and its JSON are the same for every reader, and the cached
        # copy serves both languages; the page and the PDF translate its labels as they print.
        with translation.override("en"):
            report = report_build(site_ids=site_ids, days=days)
        report["data_version"] = key.rsplit(":", 1)[1]
        cache.set(key, report, CACHE_SECONDS)
    return report


def _baseline_points(*, site_ids: set[int], codes: tuple[str, ...], patient_id=None) -> dict:
    """{patient_id: {code: (study day, value, screening date)}}: each marker's screening (baseline)
    value on the study day of the screening (before day 0); one query."""
    patients = Patient.objects.filter(site_id__in=site_ids).select_related("screening")
    if patient_id is not None:
        patients = patients.filter(pk=patient_id)
    points: dict[int, dict[str, tuple[int, float, date]]] = defaultdict(dict)
    for patient in patients.order_by("pk"):
        for code in codes:
            found = baseline_value_of(patient.screening, code)
            if found is None or (code == "SCD25" and found.unit != "pg/mL"):
                continue  # protocol 12.1: no conversion between U/mL and pg/mL
            points[patient.pk][code] = ((found.on - patient.first_dose_date).days, float(found.value), found.on)
    return points


def marker_trajectories(*, site_ids: set[int], codes: tuple[str, ...], patient_id: int | None = None) -> dict:
    """{code: [[(day, value), ...] per patient]} over days 0-28 for the trajectory plots, each
    patient's line starting at the screening (baseline) value, on its study day before day 0."""
    first, last = TRAJECTORY_DAYS
    series = _lab_series(
        site_ids=site_ids,
        codes=codes,
        first_day=first,
        last_day=last,
        patient_id=patient_id,
    )
    baselines = _baseline_points(site_ids=site_ids, codes=codes, patient_id=patient_id)
    out: dict[str, list] = {code: [] for code in codes}
    for pid in sorted(set(series) | set(baselines)):
        for code in codes:
            start = baselines.get(pid, {}).get(code)
            line = ([start[:2]] if start is not None else []) + series.get(pid, {}).get(code, [])
            if line:
                out[code].append(line)
    return out


def marker_baselines(*, site_ids: set[int], code: str, patient_id: int | None = None) -> list[tuple[int, float, date]]:
    """The baseline points of one marker's plot, (study day, value, screening date) per patient:
    the plot marks them and its legend names them "Baseline (screening, <date>)"."""
    points = _baseline_points(site_ids=site_ids, codes=(code,), patient_id=patient_id)
    return [found for by_code in points.values() if (found := by_code.get(code)) is not None]


def cached(*, site_ids: set[int], part: str, build, now: datetime | None = None):
    """Any value derived from the report's data (a plot), cached under the same data version and
    in the active language (a figure's words are drawn into it: a Chinese plot is never served
    to an English page or PDF)."""
    days = site_days(site_ids=site_ids, now=now)
    part = f"{part}:{translation.get_language() or settings.LANGUAGE_CODE}"
    key = cache_key(site_ids=site_ids, version=data_version(), part=part, days=days)
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, CACHE_SECONDS)
    return value


# The report's figures, shared by the page (PNG endpoints) and the study report PDF.

MARKER_INFO = {code: (label, unit, log) for code, label, unit, log in TRAJECTORY_MARKERS}


def report_km_png(report: dict) -> bytes:
    """Figure 1: event-free survival overall and by risk group, censor marks, numbers at risk."""
    from assessments import plots
    from assessments.rules.statistics import SIX_MONTHS_DAYS

    observed = [o for o in _analysed(report["outcomes"]) if o["efs_days"] is not None]
    groups = [(gettext("All patients"), [o["efs_days"] for o in observed], [bool(o["efs_event"]) for o in observed])]
    for value, label in Patient.RiskGroup.choices:
        members = [o for o in observed if o["risk_group"] == value]
        if members:
            groups.append((str(label), [o["efs_days"] for o in members], [bool(o["efs_event"]) for o in members]))
    return plots.km_png(groups, mark_day=SIX_MONTHS_DAYS)


def report_marker_png(report: dict, *, site_ids: set[int], code: str) -> bytes:
    """Figure 2: one HLH marker over days 0-28 for every patient, the normal range shaded."""
    from assessments import plots

    label, unit, log = MARKER_INFO[code]
    series = marker_trajectories(site_ids=site_ids, codes=(code,))[code]
    found = report["normal_ranges"].get(code)
    normal = (found["lower"], found["upper"]) if found else None
    baselines = marker_baselines(site_ids=site_ids, code=code)
    return plots.trajectory_png(
        label=gettext(label), unit=unit, series=series, normal=normal, log=log, baselines=baselines
    )
