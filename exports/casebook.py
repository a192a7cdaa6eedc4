"""Reads behind the PDF CRFs: everything recorded for a patient (or one visit), ready to print."""

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from assessments.models import AdverseEvent, LabPanel, ResponseAssessment, SupportiveCare, Visit
from crf import catalogue
from crf.models import DataQuery
from patients.models import Death, DoseAdministration, FollowUp, Patient, SubsequentTherapy, TreatmentEnd
from patients.services import eligibility_shown
from queries.selectors import with_target_labels
from trial.analytes import ANALYTES
from trial.clock import zone_label
from trial.rules.criteria import fmt
from trial.selectors import range_label, trial_current

# Screening fields printed on the screening page, in CRF order (section title, field names).
SCREENING_SECTIONS = catalogue.sections_of("patients.screening")

PANEL_FIELDS = catalogue.fields_of("assessments.labpanel")


def field_display(record, name: str) -> str:
    """A field's value as printed on paper: choice labels, ISO dates, blank for not entered."""
    model_field = record._meta.get_field(name)
    value = getattr(record, name)
    if model_field.choices and value not in (None, ""):
        return str(dict(model_field.flatchoices).get(value, value))
    if value is None or value == "":
        return "—"
    if value is True:
        return gettext("Yes")
    if value is False:
        return gettext("No")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Decimal):
        # As entered: 38.2 °C, not the column's places (38.20, 38.2000).
        return fmt(value)
    return str(value)


def fields_rows(record, names: list[str]) -> list[tuple[str, str]]:
    return [(label_of(record, n), field_display(record, n)) for n in names]


def _named_rows(record, names: list[str]):
    return [(n, (label_of(record, n), field_display(record, n))) for n in names]


# Fields without a verbose name of their own print Django's (the field name with spaces); marked
# here so that the catalogue has them and label_of prints them in the document's language.
AUTO_LABELS = (
    gettext_noop("initials"),
    gettext_noop("date of birth"),
    gettext_noop("sex"),
    gettext_noop("screening date"),
    gettext_noop("enrollment date"),
    gettext_noop("etiology"),
    gettext_noop("risk group"),
    gettext_noop("status"),
)

# The audit trail's actions (audit.selectors.ACTIONS), printed through {% translate %}.
AUDIT_ACTIONS = (gettext_noop("Created"), gettext_noop("Changed"), gettext_noop("Deleted"))


def label_text(label) -> str:
    """A field's label in the active language with its first letter raised and the rest as
    written (HLH, g/L stay): a lazy verbose name, or one of AUTO_LABELS."""
    text = gettext(str(label))
    return text[:1].upper() + text[1:]


def label_of(record, name: str) -> str:
    """The field's label in the active language (label_text)."""
    return label_text(record._meta.get_field(name).verbose_name)


@dataclass
class LabRow:
    code: str
    label: str
    value: str
    unit: str
    flag: str
    reference: str
    sampled_at: str
    reference_source: str = ""
    missing: str = ""  # the missing-data code's label in the document's language, when there is no value
    missing_reason: str = ""


@dataclass
class VisitPage:
    visit: Visit
    panel_rows: list[tuple[str, str]] = field(default_factory=list)
    labs: list[LabRow] = field(default_factory=list)
    sampled_at: str = ""


def _reference(low, high) -> str:
    return range_label(low, high)


def visit_pages(patient: Patient, *, visit_id: int | None = None) -> list[VisitPage]:
    """Each visit with its lab panel and one row per measured value (unit, flag, reference range)."""
    visits = Visit.objects.filter(patient=patient).select_related("definition")
    if visit_id is not None:
        visits = visits.filter(pk=visit_id)
    panels = {
        p.visit_id: p for p in LabPanel.objects.filter(patient=patient, visit__in=visits).prefetch_related("results")
    }
    zone = ZoneInfo(patient.site.time_zone)
    pages = []
    for visit in visits:
        page = VisitPage(visit=visit)
        panel = panels.get(visit.pk)
        if panel is not None:
            page.sampled_at = panel.sampled_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            page.panel_rows = [row for row in fields_rows(panel, PANEL_FIELDS) if row[1] != "—"]
            for r in sorted(
                panel.results.all(), key=lambda r: list(ANALYTES).index(r.analyte) if r.analyte in ANALYTES else 999
            ):
                analyte = ANALYTES.get(r.analyte)
                page.labs.append(
                    LabRow(
                        code=r.analyte,
                        label=gettext(analyte.label) if analyte else r.analyte,
                        value="" if r.value is None else f"{r.value.normalize():f}",
                        unit=r.unit,
                        flag=r.flag,
                        reference=_reference(r.reference_low, r.reference_high),
                        sampled_at=r.sampled_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                        reference_source=r.reference_source,
                        missing=r.get_missing_display() if r.missing else "",
                        missing_reason=r.missing_reason,
                    )
                )
        pages.append(page)
    return pages


COMPUTED_LABELS = {
    "expected_dose_mg": _("Dose of the weight band (mg)"),
    "dose_band_label": _("Weight band"),
    "dose_deviation": _("Prescribed dose deviates from band"),
    "ebv_subtype": _("EBV sub-type"),
}


@dataclass
class VerificationRow:
    record: str
    verified_by: str
    verified_at: datetime
    version: int
    holds: bool


def _verification_rows(patient: Patient) -> list[VerificationRow]:
    """Every source data verification of the patient's forms, and whether it still holds
    (a later change of the form clears it: its version moved on). One query per kind of form."""
    from queries.selectors import records_by_target
    from review.models import SourceVerification

    verifications = list(
        SourceVerification.objects.filter(patient=patient).select_related("verified_by").order_by("verified_at")
    )
    records = records_by_target(v.target for v in verifications)
    rows = []
    for verification in verifications:
        record = records.get(verification.target)
        name = f"{label_text(record._meta.verbose_name)} {record}" if record is not None else verification.target
        rows.append(
            VerificationRow(
                record=name,
                verified_by=verification.verified_by.get_full_name() or verification.verified_by.get_username(),
                verified_at=verification.verified_at,
                version=verification.record_version,
                holds=record is not None and getattr(record, "version", None) == verification.record_version,
            )
        )
    return rows


def review_context(patient: Patient) -> dict:
    """Signatures (valid or broken), verifications and locks, and the patient's audit trail."""
    from audit.selectors import patient_trail
    from crf.models import DataLock
    from review.models import Signature
    from review.services import signature_valid

    signatures = list(Signature.objects.filter(patient=patient).select_related("visit").order_by("signed_at"))
    return {
        "signatures": [(s, signature_valid(s)) for s in signatures],
        "verifications": _verification_rows(patient),
        "locks": DataLock.objects.filter(patient=patient).select_related("locked_by", "released_by", "visit"),
        "audit_trail": list(reversed(patient_trail(patient=patient, limit=AUDIT_LIMIT))),
        "audit_limit": AUDIT_LIMIT,
    }


# The casebook prints the patient's trail up to this many entries (newest kept); the audit
# pages and the ODM export have it all.
AUDIT_LIMIT = 2000


# The casebook's forms, each printable alone (templates/exports/forms/<name>.html).
FORMS: dict[str, str] = {
    "screening": _("Screening and eligibility"),
    "eligibility": _("Eligibility criteria"),
    "enrollment": _("Enrollment"),
    "doses": _("Study drug: dose log"),
    "adverse_events": _("Adverse events"),
    "responses": _("Response assessments"),
    "outcome": _("Treatment end, subsequent therapy, follow-up"),
    "queries": _("Data queries"),
    "review": _("Review: signatures, source data verification, locks"),
    "audit": _("Audit trail"),
}


def casebook_context(patient: Patient) -> dict:
    """Everything the casebook prints, one dict for the template."""
    screening = patient.screening
    detail = eligibility_shown(screening) or {}  # the stored English reasons, rebuilt in another language
    return {
        "patient": patient,
        "screening": screening,
        "screening_sections": [(gettext(title), fields_rows(screening, names)) for title, names in SCREENING_SECTIONS],
        "eligibility": detail,
        "eligibility_groups": [
            (gettext("HLH-2004 diagnostic criteria"), (detail.get("hlh2004") or {}).get("criteria", [])),
            (gettext("Inclusion criteria"), detail.get("inclusion", [])),
            (gettext("Exclusion criteria"), detail.get("exclusion", [])),
            (gettext("Also checked"), detail.get("also_checked", [])),
        ],
        "enrollment_rows": [
            (str(COMPUTED_LABELS[name]) if name in COMPUTED_LABELS else label, value)
            for name, (label, value) in _named_rows(
                patient,
                [
                    "enrollment_date",
                    "first_dose_date",
                    "enrollment_weight_kg",
                    "prescribed_dose_mg",
                    "expected_dose_mg",
                    "dose_band_label",
                    "dose_deviation",
                    "etiology",
                    "ebv_subtype",
                    "risk_group",
                    "status",
                ],
            )
        ],
        "visit_pages": visit_pages(patient),
        "doses": DoseAdministration.objects.filter(patient=patient),
        "supportive_care": SupportiveCare.objects.filter(patient=patient),
        "adverse_events": AdverseEvent.objects.filter(patient=patient).select_related("term"),
        "responses": ResponseAssessment.objects.filter(patient=patient).select_related("visit", "confirmed_by"),
        "treatment_end": TreatmentEnd.objects.filter(patient=patient).first(),
        "subsequent_therapies": SubsequentTherapy.objects.filter(patient=patient),
        "follow_ups": FollowUp.objects.filter(patient=patient),
        "death": Death.objects.filter(patient=patient).first(),
        # Each query names its record and field as their pages do (not "assessments.visit:11").
        "queries": with_target_labels(
            DataQuery.objects.filter(patient=patient).order_by("created_at").select_related("raised_by")
        ),
        **review_context(patient),
    }


def document_zone(patient: Patient | None) -> ZoneInfo:
    """The one zone a document's times are printed in: the patient's site's, else UTC."""
    return ZoneInfo(patient.site.time_zone) if patient is not None else ZoneInfo("UTC")


def css_content(sentence: str, **expressions: str) -> str:
    """A translated sentence as the value of a CSS `content`: its text quoted, each %(name)s
    replaced by the CSS expression given (string(site), counter(page)), a line break as \\A.

    The page margins are CSS, so their words are translated whole ("Page %(page)s of %(pages)s"),
    letting each language put the numbers where its grammar wants them."""
    pieces = []
    for part in re.split(r"(%\(\w+\)s)", sentence):
        name = re.fullmatch(r"%\((\w+)\)s", part)
        if name:
            pieces.append(expressions[name.group(1)])
        elif part:
            quoted = part.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
            pieces.append(f'"{quoted}"')
    return " ".join(pieces)


def margin_context() -> dict:
    """The words of the page margins in the active language, as CSS content values."""
    return {
        "css_top_left": css_content(
            gettext("%(protocol)s\nSite %(site)s"), protocol="string(protocol)", site="string(site)"
        ),
        "css_top_center": css_content(
            gettext("Subject %(subject)s\n%(form)s"), subject="string(subject)", form="string(formname)"
        ),
        "css_bottom_left": css_content(
            gettext("Generated %(when)s by %(who)s"), when="string(generated)", who="string(generatedby)"
        ),
        "css_bottom_right": css_content(
            gettext("Page %(page)s of %(pages)s"), page="counter(page)", pages="counter(pages)"
        ),
    }


def header_context(*, patient: Patient | None, user, now: datetime, locked: bool) -> dict:
    """What every printed page carries in its margins, and the zone every time of the document is in.

    In the active language: its words, and its date format (config/formats: 2026-12-02 14:30 in
    English, 2026年12月2日 14:30 in Chinese), never the American month first."""
    trial = trial_current()
    site = patient.site if patient else None
    zone = document_zone(patient)
    label = zone_label(zone.key, at=now)
    site_time = date_format(now.astimezone(zone), "DATETIME_FORMAT")
    return {
        "zone_label": label,
        "trial": trial,
        "protocol_id": f"{trial.registry_id} v{trial.protocol_version}",
        "site_label": f"{site.code} {site.name}" if site else gettext("All sites"),
        "subject": patient.subject_number if patient else "__________",
        "generated_utc": f"{date_format(now.astimezone(ZoneInfo('UTC')), 'DATETIME_FORMAT')} UTC",
        "generated_site": gettext("%(time)s %(zone)s site time") % {"time": site_time, "zone": label} if site else "",
        "generated_by": (user.get_full_name() or user.username) if user else "",
        "locked": locked,
        **margin_context(),
    }
