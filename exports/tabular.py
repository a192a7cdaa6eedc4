"""CSV export per form with stable variable names, a data dictionary, streamed as one zip.

Each form is a list of `Column`s: the variable name (stable, upper case, CDISC-like where one
exists), its label, type, unit and allowed values, and how to read it from a row. The data
dictionary is generated from the same list, so it can never disagree with the files. A cell
that a spreadsheet would evaluate (= + - @ tab CR first) is written after an apostrophe
(exports/spreadsheet.py).
"""

import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import translation

from assessments.models import AdverseEvent, LabPanel, LabResult, ResponseAssessment, SupportiveCare, Visit
from assessments.models.responses import RESPONSE_CHOICES
from exports.spreadsheet import spreadsheet_safe
from patients.models import (
    Death,
    DoseAdministration,
    FollowUp,
    Patient,
    Screening,
    SubsequentTherapy,
    TreatmentEnd,
)
from trial.analytes import ANALYTES

CHUNK = 2000


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    type: str  # text, integer, decimal, date, datetime, boolean
    path: str  # ORM lookup path read with values_list, e.g. patient__subject_number
    unit: str = ""
    allowed: str = ""
    derive: Callable | None = None  # turns the path's value into the exported one


@dataclass(frozen=True)
class Form:
    name: str
    label: str
    columns: list[Column]
    rows: Callable[[set[int]], QuerySet]


def iso(value) -> str:
    """ISO 8601 for dates and times (UTC for times), plain text for the rest; empty for missing."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def choices_text(choices) -> str:
    """The allowed values with their English labels, whatever the language of the page that first
    imported this module (the data dictionary is machine output)."""
    with translation.override("en"):
        return "; ".join(f"{value}={label}" for value, label in choices if value not in (None, ""))


def col(name, label, type_, path, **kw) -> Column:
    return Column(name, label, type_, path, **kw)


YN = "Y=Yes; N=No; empty=not known"
SUBJ = col("SUBJID", "Subject number", "text", "patient__subject_number")
SITE = col("SITEID", "Site code", "text", "patient__site__code")


def _screening_columns() -> list[Column]:
    from exports.casebook import SCREENING_SECTIONS

    columns = [
        col("SCRNUM", "Screening number", "text", "screening_number"),
        col("SITEID", "Site code", "text", "site__code"),
        col("SUBJID", "Subject number (enrolled)", "text", "patient__subject_number"),
        col("SCRSTAT", "Screening status", "text", "status", allowed=choices_text(Screening.Status.choices)),
        col(
            "ELIGIB",
            "Eligibility (computed)",
            "text",
            "eligibility",
            allowed=choices_text(Screening._meta.get_field("eligibility").choices),
        ),
    ]
    kinds = {
        "DateField": "date",
        "DecimalField": "decimal",
        "BooleanField": "boolean",
        "PositiveSmallIntegerField": "integer",
    }
    for _, names in SCREENING_SECTIONS:
        for name in names:
            if name in ("initials", "consent_signer_initials"):
                continue  # pseudonymised export: no initials
            field = Screening._meta.get_field(name)
            type_ = kinds.get(field.get_internal_type(), "text")
            allowed = YN if type_ == "boolean" else choices_text(field.choices or [])
            # The data dictionary is machine output: English, whatever language imports this module.
            with translation.override("en"):
                title = str(field.verbose_name).capitalize()
            columns.append(col(name.upper(), title, type_, name, allowed=allowed))
    return columns


def coded(model, name: str) -> str:
    """The codes a column's field allows, from the model's own choices."""
    return choices_text(model._meta.get_field(name).choices)


def _safe_patient(row):
    try:
        return row.patient
    except Patient.DoesNotExist:
        return None


FORMS: list[Form] = [
    Form(
        "screening",
        "Screening and eligibility",
        _screening_columns(),
        lambda s: Screening.objects.filter(site_id__in=s).select_related("site", "patient").order_by("id"),
    ),
    Form(
        "patients",
        "Enrolled patients",
        [
            col("SUBJID", "Subject number", "text", "subject_number"),
            col("SITEID", "Site code", "text", "site__code"),
            col("SCRNUM", "Screening number", "text", "screening__screening_number"),
            col("SEX", "Sex", "text", "screening__sex", allowed="M=Male; F=Female"),
            col("BRTHDTC", "Date of birth", "date", "screening__date_of_birth"),
            col("RFICDTC", "Consent date", "date", "screening__consent_date"),
            col("ENRLDTC", "Enrollment date", "date", "enrollment_date"),
            col("RFSTDTC", "Day 0 (first dose)", "date", "first_dose_date"),
            col("WEIGHT", "Weight at enrollment", "decimal", "enrollment_weight_kg", unit="kg"),
            col("DOSEPRES", "Prescribed dose (twice daily)", "decimal", "prescribed_dose_mg", unit="mg"),
            col("DOSEEXP", "Dose of the weight band", "decimal", "expected_dose_mg", unit="mg"),
            col("DOSEDEV", "Prescribed dose deviates from band", "boolean", "dose_deviation", allowed=YN),
            col("ETIOL", "Etiology", "text", "etiology", allowed=choices_text(Patient.Etiology.choices)),
            col("EBVSUB", "EBV sub-type", "text", "ebv_subtype", allowed=choices_text(Patient.EBVSubtype.choices)),
            col("RISKGRP", "Risk group", "text", "risk_group", allowed=choices_text(Patient.RiskGroup.choices)),
            col("STATUS", "Status", "text", "status", allowed=choices_text(Patient.Status.choices)),
        ],
        lambda s: Patient.objects.filter(site_id__in=s).select_related("site", "screening").order_by("id"),
    ),
    Form(
        "visits",
        "Visits",
        [
            SUBJ,
            SITE,
            col("VISITID", "Visit record id", "integer", "pk"),
            col("VISITCD", "Visit code", "text", "definition__code"),
            col("VISIT", "Visit name", "text", "name"),
            col("VISITDY", "Planned study day", "integer", "planned_day"),
            col("PLANDTC", "Planned date", "date", "planned_date"),
            col("WINSTDTC", "Window start", "date", "window_start"),
            col("WINENDTC", "Window end", "date", "window_end"),
            col("SVSTDTC", "Date of visit", "date", "visit_date"),
            col("UNSCHED", "Unscheduled", "boolean", "unscheduled", allowed=YN),
            col("OUTWIN", "Out of window", "boolean", "out_of_window", allowed=YN),
            col("NOTDONE", "Visit not done", "boolean", "not_done", allowed=YN),
            col("NDREAS", "Reason not done", "text", "not_done_reason"),
        ],
        lambda s: (
            Visit.objects.filter(patient__site_id__in=s)
            .select_related("patient__site", "definition")
            .order_by("patient_id", "id")
        ),
    ),
    Form(
        "lab_results",
        "Laboratory results and vital signs (long format)",
        [
            SUBJ,
            SITE,
            col("VISITID", "Visit record id", "integer", "panel__visit_id"),
            col("VISIT", "Visit name", "text", "panel__visit__name"),
            col("LBTESTCD", "Test code", "text", "analyte", allowed="; ".join(ANALYTES)),
            Column(
                "LBTEST",
                "Test name",
                "text",
                "analyte",
                derive=lambda code: ANALYTES[code].label if code in ANALYTES else "",
            ),
            col("LBORRES", "Result as reported", "decimal", "value"),
            col("LBORRESU", "Unit as reported", "text", "unit"),
            col("LBORNRLO", "Reference range lower limit", "decimal", "reference_low"),
            col("LBORNRHI", "Reference range upper limit", "decimal", "reference_high"),
            col(
                "LBNRIND",
                "Reference range indicator",
                "text",
                "flag",
                allowed="H=High; L=Low; N=Normal; empty=no range",
            ),
            col("LBDTC", "Sampling date and time (UTC)", "datetime", "sampled_at"),
            # A value recorded without a number: CDISC's "NOT DONE" status, its reason and the eCRF's code.
            Column(
                "LBSTAT",
                "Completion status",
                "text",
                "missing",
                allowed="NOT DONE=no value (see LBMISSCD and LBREASND); empty=a value",
                derive=lambda code: "NOT DONE" if code else "",
            ),
            col("LBMISSCD", "Missing-data code", "text", "missing", allowed=coded(LabResult, "missing")),
            col("LBREASND", "Reason not done", "text", "missing_reason"),
        ],
        lambda s: (
            LabResult.objects.filter(patient__site_id__in=s)
            .select_related("patient__site", "panel__visit")
            .order_by("patient_id", "sampled_at", "analyte")
        ),
    ),
    Form(
        "lab_panels",
        "Laboratory panels: sampling, CNS, imaging, ECG, echocardiogram and infection screening",
        [
            SUBJ,
            SITE,
            col("VISITID", "Visit record id", "integer", "visit_id"),
            col("VISIT", "Visit name", "text", "visit__name"),
            col("LBDTC", "Sampling date and time (UTC)", "datetime", "sampled_at"),
            col("CNSSYM", "CNS symptoms", "boolean", "cns_symptoms", allowed=YN),
            col("CSFRES", "CSF", "text", "csf_result", allowed=coded(LabPanel, "csf_result")),
            col("MRIRES", "Brain MRI", "text", "mri_result", allowed=coded(LabPanel, "mri_result")),
            col("ECGRES", "ECG", "text", "ecg_result", allowed=coded(LabPanel, "ecg_result")),
            col("ECHORES", "Echocardiogram", "text", "echo_result", allowed=coded(LabPanel, "echo_result")),
            col("CMV", "CMV", "text", "cmv", allowed=coded(LabPanel, "cmv")),
            col("ADENO", "Adenovirus", "text", "adenovirus", allowed=coded(LabPanel, "adenovirus")),
            col("TB", "Tuberculosis", "text", "tuberculosis", allowed=coded(LabPanel, "tuberculosis")),
            col("HZV", "Herpes zoster", "text", "herpes_zoster", allowed=coded(LabPanel, "herpes_zoster")),
            col("PCP", "Pneumocystis", "text", "pneumocystis", allowed=coded(LabPanel, "pneumocystis")),
            col("FUNGAL", "Fungal infection", "text", "fungal", allowed=coded(LabPanel, "fungal")),
            col("LBNOTES", "Notes (CSF, MRI, ECG, echo findings)", "text", "notes"),
        ],
        lambda s: (
            LabPanel.objects.filter(patient__site_id__in=s)
            .select_related("patient__site", "visit")
            .order_by("patient_id", "sampled_at", "id")
        ),
    ),
    Form(
        "supportive_care",
        "G-CSF and transfusions",
        [
            SUBJ,
            SITE,
            col("CMSEQ", "Supportive care record id", "integer", "pk"),
            col("CMCAT", "Kind", "text", "kind", allowed=coded(SupportiveCare, "kind")),
            col("CMTRT", "Product", "text", "product", allowed=coded(SupportiveCare, "product")),
            col("CMSTDTC", "Given on", "date", "given_on"),
            col("CMDOSTXT", "Dose / volume", "text", "detail"),
        ],
        lambda s: (
            SupportiveCare.objects.filter(patient__site_id__in=s)
            .select_related("patient__site")
            .order_by("patient_id", "given_on", "id")
        ),
    ),
    Form(
        "doses",
        "Study drug administration",
        [
            SUBJ,
            SITE,
            col("EXDY", "Treatment day", "integer", "treatment_day"),
            col("EXSLOT", "Slot", "text", "slot", allowed=choices_text(DoseAdministration.Slot.choices)),
            col("EXSTAT", "Status", "text", "status", allowed=choices_text(DoseAdministration.Status.choices)),
            col("EXSTDTC", "Administered at (UTC)", "datetime", "administered_at"),
            col("EXDOSE", "Amount", "decimal", "amount_mg", unit="mg"),
            col("EXDOSEXP", "Expected amount", "decimal", "expected_mg", unit="mg"),
            col("EXDEV", "Deviation", "boolean", "deviation", allowed=YN),
            col("EXREAS", "Reason", "text", "reason"),
        ],
        lambda s: (
            DoseAdministration.objects.filter(patient__site_id__in=s)
            .select_related("patient__site")
            .order_by("patient_id", "treatment_day", "slot")
        ),
    ),
    Form(
        "adverse_events",
        "Adverse events (CTCAE v3.0)",
        [
            SUBJ,
            SITE,
            col("AESEQ", "Adverse event record id", "integer", "pk"),
            col("AETERMCD", "CTCAE v3.0 term code", "text", "term__code"),
            col("AETERM", "CTCAE term", "text", "term__term"),
            col("AEOTHSP", "Other, specify", "text", "other_specify"),
            col("AETOXGR", "Grade", "integer", "grade", allowed=choices_text(AdverseEvent.Grade.choices)),
            col("AESTDTC", "Onset date", "date", "onset_date"),
            col("AEENDTC", "Resolution date", "date", "resolution_date"),
            col("AESER", "Serious", "boolean", "serious", allowed=YN),
            col(
                "AEREL",
                "Relationship to ruxolitinib",
                "text",
                "relationship",
                allowed=choices_text(AdverseEvent.Relationship.choices),
            ),
            col("AEACN", "Action taken", "text", "action_taken", allowed=choices_text(AdverseEvent.Action.choices)),
            col("AEOUT", "Outcome", "text", "outcome", allowed=choices_text(AdverseEvent.Outcome.choices)),
        ],
        lambda s: (
            AdverseEvent.objects.filter(patient__site_id__in=s)
            .select_related("patient__site", "term")
            .order_by("patient_id", "onset_date", "id")
        ),
    ),
    Form(
        "responses",
        "Response assessments",
        [
            SUBJ,
            SITE,
            col("RSDY", "Study day", "integer", "study_day"),
            col("RSDTC", "Assessment date", "date", "assessment_date"),
            col("RSCOMP", "Computed response", "text", "computed_status", allowed=choices_text(RESPONSE_CHOICES)),
            col(
                "RSCONF",
                "Investigator's confirmed response",
                "text",
                "confirmed_status",
                allowed=choices_text(RESPONSE_CHOICES),
            ),
            col("RSCONFDT", "Confirmed at (UTC)", "datetime", "confirmed_at"),
            col("RSREVIEW", "Needs review", "boolean", "needs_review", allowed=YN),
        ],
        lambda s: (
            ResponseAssessment.objects.filter(patient__site_id__in=s)
            .select_related("patient__site")
            .order_by("patient_id", "study_day")
        ),
    ),
    Form(
        "treatment_end",
        "End of ruxolitinib",
        [
            SUBJ,
            SITE,
            col("TEOUT", "Outcome", "text", "outcome", allowed=choices_text(TreatmentEnd.Outcome.choices)),
            col("TEREAS", "Reason", "text", "reason", allowed=choices_text(TreatmentEnd.Reason.choices)),
            col("TEREASSP", "Reason detail", "text", "reason_detail"),
            col("TELSTDTC", "Last dose date", "date", "last_dose_date"),
            col("TEDY", "Study day of last dose", "integer", "study_day"),
        ],
        lambda s: (
            TreatmentEnd.objects.filter(patient__site_id__in=s).select_related("patient__site").order_by("patient_id")
        ),
    ),
    Form(
        "subsequent_therapy",
        "Subsequent HLH therapy",
        [
            SUBJ,
            SITE,
            col("STSEQ", "Subsequent therapy record id", "integer", "pk"),
            col("STREG", "Regimen", "text", "regimen", allowed=coded(SubsequentTherapy, "regimen")),
            col("STSTDTC", "Start date", "date", "start_date"),
            col("STETOP", "Etoposide", "boolean", "etoposide", allowed=YN),
            col("STDEXA", "Dexamethasone", "boolean", "dexamethasone", allowed=YN),
            col("STCSA", "Cyclosporine A", "boolean", "cyclosporine", allowed=YN),
            col("STOTH", "Other drugs", "text", "other_drugs"),
            col("STRESP", "Response", "text", "response", allowed=coded(SubsequentTherapy, "response")),
            col("STOUT", "Outcome", "text", "outcome"),
        ],
        lambda s: (
            SubsequentTherapy.objects.filter(patient__site_id__in=s)
            .select_related("patient__site")
            .order_by("patient_id", "start_date", "id")
        ),
    ),
    Form(
        "follow_up",
        "Follow-up",
        [
            SUBJ,
            SITE,
            col("FUDTC", "Assessed on", "date", "assessed_on"),
            col("FUVITAL", "Vital status", "text", "vital_status", allowed=choices_text(FollowUp.VitalStatus.choices)),
            col("FURELAP", "HLH relapse", "boolean", "hlh_relapse", allowed=YN),
            col("FUNOTES", "Notes", "text", "notes"),
        ],
        lambda s: (
            FollowUp.objects.filter(patient__site_id__in=s)
            .select_related("patient__site")
            .order_by("patient_id", "assessed_on")
        ),
    ),
    Form(
        "deaths",
        "Deaths",
        [
            SUBJ,
            SITE,
            col("DTHDTC", "Date of death", "date", "date_of_death"),
            col("DTHCAUS", "Cause", "text", "cause"),
            col("DTHHLH", "Related to HLH", "boolean", "hlh_related", allowed=YN),
        ],
        lambda s: Death.objects.filter(patient__site_id__in=s).select_related("patient__site").order_by("patient_id"),
    ),
]


def form_records(form: Form, *, site_ids: set[int]) -> Iterator[tuple[int, list[str]]]:
    """(primary key, exported values) of every record, read as tuples in chunks so memory stays flat."""
    paths = list(dict.fromkeys(["pk", *(c.path for c in form.columns)]))
    index = [paths.index(c.path) for c in form.columns]
    derive = [c.derive for c in form.columns]
    for row in form.rows(site_ids).values_list(*paths).iterator(chunk_size=CHUNK):
        yield row[0], [iso(d(row[i]) if d else row[i]) for i, d in zip(index, derive, strict=True)]


def form_rows(form: Form, *, site_ids: set[int]) -> Iterator[list[str]]:
    """The header row, then one row per record."""
    yield [c.name for c in form.columns]
    for _, values in form_records(form, site_ids=site_ids):
        yield values


def dictionary_rows() -> Iterator[list[str]]:
    yield ["form", "variable", "label", "type", "unit", "allowed_values"]
    for form in FORMS:
        for c in form.columns:
            yield [form.name, c.name, c.label, c.type, c.unit, c.allowed]


class _Sink(io.RawIOBase):
    """A write-only, unseekable stream whose bytes are drained by the generator after each write."""

    def __init__(self):
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.chunks.append(bytes(b))
        return len(b)

    def drain(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


# UTF-8's byte-order mark: Excel reads a CSV file that starts with it as UTF-8; without it, Excel
# on a Chinese (or any non-UTF-8) Windows reads the bytes in the system code page (GBK) and the
# Chinese or accented text turns to mojibake. Other readers (R, pandas with utf-8-sig) skip it.
EXCEL_BOM = "\ufeff".encode()


def _csv_lines(rows: Iterable[list[str]], *, excel: bool = False) -> Iterator[bytes]:
    """CSV lines of the rows (CRLF, as RFC 4180 and Excel write them); a cell a spreadsheet would
    run as a formula is written as text. `excel`: the file starts with the byte-order mark."""
    if excel:
        yield EXCEL_BOM
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
        if buffer.tell() > 64_000:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def csv_zip_stream(*, site_ids: set[int], excel: bool = False) -> Iterator[bytes]:
    """The zip of every form's CSV and the data dictionary, produced piece by piece.

    `excel`: each CSV starts with UTF-8's byte-order mark, so that Excel opens it as UTF-8;
    otherwise the files are plain UTF-8 (the default, unchanged for scripts).

    zipfile writes to an unseekable stream with data descriptors, so nothing is held in memory
    beyond one buffer of rows.
    """
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        files = [("data_dictionary.csv", dictionary_rows())] + [
            (f"{form.name}.csv", form_rows(form, site_ids=site_ids)) for form in FORMS
        ]
        for name, rows in files:
            with archive.open(name, mode="w", force_zip64=True) as entry:
                for chunk in _csv_lines(rows, excel=excel):
                    entry.write(chunk)
                    yield sink.drain()
            yield sink.drain()
    yield sink.drain()
