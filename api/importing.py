"""Bulk import of a trial's existing data from one JSON bundle (format: docs/import.md).

A CSV bundle (a ZIP of CSV files) is read into this JSON bundle by api/csv_bundle.py first.

Everything is validated, and written through the same services as the pages, inside one
transaction (a patient's doses go through the dose service's batch entry, doses_record_new,
which applies dose_record's checks to each and writes them in one statement): if any record
fails, the transaction is rolled back and nothing is written, and the error list names every
failing record by its path in the bundle
("patients[3].labs[2].values[0].value") with the form's or the service's message.

Importing the same bundle again creates nothing: each record is found by its natural key
(site code + source screening number, the visit code, the dose's day and slot, ...) first.
After a successful import the response assessments of the imported patients are computed.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction

from api import inputs
from api.errors import coded_errors
from api.models import ImportKey
from api.serializers import (
    AdverseEventWriteSerializer,
    DoseWriteSerializer,
    EnrollSerializer,
    FollowUpWriteSerializer,
    LabPanelWriteSerializer,
    ScreeningWriteSerializer,
    TreatmentEndWriteSerializer,
)
from assessments.models import AdverseEvent, LabPanel, Visit
from assessments.services.adverse_events import adverse_event_record
from assessments.services.labs import lab_panel_save
from assessments.services.responses import response_assess_patient
from patients.models import FollowUp, Patient, Screening, TreatmentEnd
from patients.services import (
    EnrollmentRefused,
    doses_record_new,
    follow_up_record,
    patient_enroll,
    screening_create,
    treatment_end_record,
)
from trial.clock import site_today
from trial.models import Site
from trial.selectors import reference_rows_memo, user_site_ids
from trial.versioning import ConcurrentEditError

FORMAT = "rux-hlh-bundle/1"
PATIENT_PARTS = ("labs", "doses", "adverse_events", "follow_ups")
PATIENT_KEYS = {"site", "screening_number", "screening", "enrollment", "treatment_end", *PATIENT_PARTS}
SCREENING_KEYS = {"site", "screening_number", "screening"}
MAX_SOURCE_NUMBER = 100  # kept with the site code in ImportKey.key (200 characters)


class ImportFailed(Exception):
    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__(f"{len(errors)} error(s); nothing was imported.")


class _Rollback(Exception):
    pass


@dataclass
class ImportResult:
    created: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    patient_ids: list[int] = field(default_factory=list)
    subject_numbers: dict[str, str] = field(default_factory=dict)

    def count(self, kind: str, created: bool) -> None:
        target = self.created if created else self.skipped
        target[kind] = target.get(kind, 0) + 1

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "skipped_existing": self.skipped,
            "patients": len(self.patient_ids),
            "subject_numbers": self.subject_numbers,
        }


def bundle_size(bundle) -> int:
    """The number of records, for progress: each screening, enrollment and patient part."""
    if not isinstance(bundle, dict):
        return 0
    total = len(bundle.get("screenings") or []) if isinstance(bundle.get("screenings"), list) else 0
    for patient in bundle.get("patients") or [] if isinstance(bundle.get("patients"), list) else []:
        total += 2
        if isinstance(patient, dict):
            total += sum(len(patient.get(p) or []) for p in PATIENT_PARTS if isinstance(patient.get(p), list))
            total += 1 if patient.get("treatment_end") else 0
    return total


class Importer:
    def __init__(
        self,
        *,
        user,
        progress: Callable[[int, int], None] | None = None,
        today: date | None = None,
        check_only: bool = False,
    ):
        self.user = user
        self.check_only = check_only
        self.progress = progress or (lambda done, total: None)
        self.today = today
        self.errors: list[dict] = []
        self.result = ImportResult()
        self.done = 0
        self.total = 0
        self.sites: dict[str, Site] = {}
        self.pending_doses: list[tuple[str, dict]] = []
        self.visits_of: tuple[int | None, dict[str, Visit]] = (None, {})

    # Errors and progress

    def error(self, row: str, exc_or_messages, field_name: str | None = None, *, code: str = "invalid") -> None:
        """One error of the report: {row, field, code, message}, the code as the API's (docs/api.md)."""
        if isinstance(exc_or_messages, ValidationError):
            for name, error_code, message, _params in coded_errors(exc_or_messages):
                name = None if name in ("__all__", "non_field_errors") else name
                self.errors.append({"row": row, "field": name or field_name, "code": error_code, "message": message})
            return
        self.errors.append({"row": row, "field": field_name, "code": code, "message": str(exc_or_messages)})

    def step(self) -> None:
        self.done += 1
        self.progress(self.done, self.total)

    def attempt(self, row: str, func, *args, **kwargs):
        """Run one write in a savepoint; an error is recorded with its row and the write undone."""
        try:
            with transaction.atomic():
                return func(*args, **kwargs)
        except ValidationError as exc:
            self.error(row, exc)
        except EnrollmentRefused as exc:
            self.error(row, str(exc), code="enrollment_refused")
        except ConcurrentEditError as exc:
            self.error(row, str(exc), code="conflict")
        return None

    # Entry point

    def run(self, bundle) -> ImportResult:
        if not isinstance(bundle, dict):
            raise ImportFailed(
                [{"row": "", "field": None, "code": "not_an_object", "message": "The bundle is a JSON object."}]
            )
        if bundle.get("format") != FORMAT:
            raise ImportFailed(
                [
                    {
                        "row": "",
                        "field": "format",
                        "code": "unknown_format",
                        "message": f"Unknown bundle format; expected '{FORMAT}'.",
                    }
                ]
            )
        extra = set(bundle) - {"format", "screenings", "patients", "description"}
        for name in sorted(extra):
            self.errors.append({"row": "", "field": name, "code": "unknown_field", "message": f"Unknown key '{name}'."})
        for name in ("screenings", "patients"):
            if not isinstance(bundle.get(name, []), list):
                self.errors.append({"row": name, "field": None, "code": "not_a_list", "message": "A list of records."})
        if self.errors:
            raise ImportFailed(self.errors)
        self.total = bundle_size(bundle)
        allowed = user_site_ids(self.user)
        self.sites = {s.code: s for s in Site.objects.filter(id__in=allowed)}
        try:
            with transaction.atomic(), reference_rows_memo():
                for index, record in enumerate(bundle.get("screenings") or []):
                    self.screening_import(f"screenings[{index}]", record, SCREENING_KEYS)
                    self.step()
                for index, record in enumerate(bundle.get("patients") or []):
                    self.patient_import(f"patients[{index}]", record)
                if self.errors or self.check_only:
                    raise _Rollback
        except _Rollback:
            if self.errors:
                raise ImportFailed(self.errors) from None
            return self.result  # checked only: nothing was written
        for patient_id in self.result.patient_ids:
            response_assess_patient(patient_id=patient_id, today=self.today)
        return self.result

    # Records

    def screening_import(self, row: str, record, keys: set[str]) -> Screening | None:
        if not isinstance(record, dict):
            self.error(row, "Each record is a JSON object.", code="not_an_object")
            return None
        for name in sorted(set(record) - keys):
            self.error(row, f"Unknown key '{name}'.", name, code="unknown_field")
        code, number = record.get("site"), record.get("screening_number")
        site = self.sites.get(code) if isinstance(code, str) else None
        if site is None:
            self.error(row, f"Unknown site {code!r} or not one of your sites.", "site", code="unknown_site")
            return None
        if not isinstance(number, str) or not number.strip():
            self.error(
                row,
                "Give the source screening number (the natural key of the record).",
                "screening_number",
                code="required",
            )
            return None
        if len(number.strip()) > MAX_SOURCE_NUMBER:
            self.error(
                row,
                f"The source screening number is at most {MAX_SOURCE_NUMBER} characters.",
                "screening_number",
                code="max_length",
            )
            return None
        natural = f"{site.code}/{number.strip()}"
        existing = ImportKey.objects.filter(kind="screening", key=natural).first()
        if existing is not None:
            self.result.count("screenings", created=False)
            return Screening.objects.select_related("site").get(pk=existing.object_id)
        data = record.get("screening")
        if not isinstance(data, dict):
            self.error(row, "The screening CRF fields as an object.", "screening", code="not_an_object")
            return None
        try:
            cleaned = ScreeningWriteSerializer.clean(data, site=site)
        except ValidationError as exc:
            self.error(f"{row}.screening", exc)
            return None
        screening = self.attempt(row, screening_create, site=site, data=cleaned, user=self.user)
        if screening is not None:
            ImportKey.objects.create(kind="screening", key=natural, object_id=screening.pk)
            self.result.count("screenings", created=True)
        return screening

    def patient_import(self, row: str, record) -> None:
        screening = self.screening_import(row, record, PATIENT_KEYS)
        self.step()
        patient = None
        if screening is not None:
            patient = Patient.objects.filter(screening=screening).select_related("site", "screening").first()
            if patient is not None:
                self.result.count("enrollments", created=False)
            else:
                patient = self.enroll(f"{row}.enrollment", screening, record.get("enrollment"))
        self.step()
        if patient is None:
            # The parts cannot be written without the patient; they are still checked where possible.
            for part in PATIENT_PARTS:
                for _ in record.get(part) or [] if isinstance(record, dict) else []:
                    self.step()
            return
        self.result.patient_ids.append(patient.pk)
        self.result.subject_numbers[f"{screening.site.code}/{record['screening_number']}"] = patient.subject_number
        zone = ZoneInfo(patient.site.time_zone)
        for part, handler in (
            ("labs", self.lab_import),
            ("doses", self.dose_import),
            ("adverse_events", self.ae_import),
        ):
            items = record.get(part) or []
            if not isinstance(items, list):
                self.error(f"{row}.{part}", "A list of records.", code="not_a_list")
                continue
            for index, item in enumerate(items):
                path = f"{row}.{part}[{index}]"
                if not isinstance(item, dict):
                    self.error(path, "Each record is a JSON object.", code="not_an_object")
                else:
                    handler(path, patient, item, zone)
                self.step()
            if part == "doses":
                self.doses_flush(patient)
        if record.get("treatment_end"):
            self.treatment_end_import(f"{row}.treatment_end", patient, record["treatment_end"])
            self.step()
        items = record.get("follow_ups") or []
        for index, item in enumerate(items if isinstance(items, list) else []):
            self.follow_up_import(f"{row}.follow_ups[{index}]", patient, item)
            self.step()

    def enroll(self, row: str, screening: Screening, data) -> Patient | None:
        if not isinstance(data, dict):
            self.error(
                row,
                "The enrollment (enrollment_date, first_dose_date, enrollment_weight_kg, prescribed_dose_mg).",
                code="not_an_object",
            )
            return None
        try:
            with inputs.errors_as_sent(data, inputs.FORMER_ENROLL_NAMES):
                cleaned = EnrollSerializer.clean(data, screening=screening)
        except ValidationError as exc:
            self.error(row, exc)
            return None
        patient = self.attempt(row, self.patient_enroll_as_sent, data, screening_id=screening.pk, **cleaned)
        if patient is not None:
            self.result.count("enrollments", created=True)
        return patient

    def patient_enroll_as_sent(self, sent: dict, **values) -> Patient:
        with inputs.errors_as_sent(sent, inputs.FORMER_ENROLL_NAMES):
            return patient_enroll(user=self.user, today=self.today, **values)

    def lab_import(self, row: str, patient: Patient, item: dict, zone: ZoneInfo) -> None:
        code = item.get("visit")
        if self.visits_of[0] != patient.pk:
            visits = Visit.objects.filter(patient=patient, definition__isnull=False).select_related("definition")
            self.visits_of = (patient.pk, {v.definition.code: v for v in visits})
        visit = self.visits_of[1].get(code) if isinstance(code, str) else None
        if visit is None:
            self.error(
                row,
                f"Unknown visit code {code!r}; use BASE, D1-D7, D14, D21, D28 or FU56-FU182.",
                "visit",
                code="unknown_visit",
            )
            return
        payload = {k: v for k, v in item.items() if k != "visit"}
        try:
            cleaned = LabPanelWriteSerializer.clean(payload, zone=zone)
        except ValidationError as exc:
            self.error(row, exc)
            return
        if LabPanel.objects.filter(visit=visit).exists():
            self.result.count("lab_panels", created=False)
            return
        outcome = self.attempt(
            row,
            lab_panel_save,
            visit=visit,
            sampled_at=cleaned["sampled_at"],
            values=cleaned["values"],
            panel_data=cleaned["panel_data"],
            visit_date=cleaned["visit_date"],
            user=self.user,
            today=self.today or site_today(patient.site),
        )
        if outcome is not None:
            self.result.count("lab_panels", created=True)

    def dose_import(self, row: str, patient: Patient, item: dict, zone: ZoneInfo) -> None:
        """Parse one dose; the patient's doses are checked and written together (doses_flush)."""
        try:
            dose = DoseWriteSerializer.clean(item, zone=zone)
        except ValidationError as exc:
            self.error(row, exc)
            return
        self.pending_doses.append((row, dose))

    def doses_flush(self, patient: Patient) -> None:
        pending, self.pending_doses = self.pending_doses, []
        if not pending:
            return
        try:
            with transaction.atomic():
                outcome = doses_record_new(patient=patient, doses=[item for _, item in pending], user=self.user)
        except ValidationError as exc:  # a lock on the patient or the study
            self.error(pending[0][0], exc)
            return
        for index, exc in sorted(outcome.errors.items()):
            self.error(pending[index][0], exc)
        for _ in outcome.created:
            self.result.count("doses", created=True)
        for _ in range(outcome.existing):
            self.result.count("doses", created=False)

    def ae_import(self, row: str, patient: Patient, item: dict, zone: ZoneInfo) -> None:
        try:
            data = AdverseEventWriteSerializer.clean(item)
        except ValidationError as exc:
            self.error(row, exc)
            return
        try:  # an impossible onset date is not looked up; the service names it below
            same = AdverseEvent.objects.filter(
                patient=patient,
                term=data.get("term"),
                onset_date=data.get("onset_date") if isinstance(data.get("onset_date"), date) else None,
                grade=data.get("grade") if isinstance(data.get("grade"), int) else -1,
            )
            if not data.get("term"):
                same = same.filter(other_specify=(data.get("other_specify") or "").strip())
            if same.exists():
                self.result.count("adverse_events", created=False)
                return
        except (ValueError, ValidationError):
            pass
        ae = self.attempt(row, adverse_event_record, patient=patient, data=data, user=self.user)
        if ae is not None:
            self.result.count("adverse_events", created=True)

    def treatment_end_import(self, row: str, patient: Patient, item) -> None:
        if TreatmentEnd.objects.filter(patient=patient).exists():
            self.result.count("treatment_ends", created=False)
            return
        try:
            data = TreatmentEndWriteSerializer.clean(item)
        except ValidationError as exc:
            self.error(row, exc)
            return
        end = self.attempt(row, treatment_end_record, patient=patient, user=self.user, **data)
        if end is not None:
            self.result.count("treatment_ends", created=True)

    def follow_up_import(self, row: str, patient: Patient, item) -> None:
        try:
            data = FollowUpWriteSerializer.clean(item)
        except ValidationError as exc:
            self.error(row, exc)
            return
        if FollowUp.objects.filter(patient=patient, assessed_on=data["assessed_on"]).exists():
            self.result.count("follow_ups", created=False)
            return
        follow_up = self.attempt(row, follow_up_record, patient=patient, user=self.user, **data)
        if follow_up is not None:
            self.result.count("follow_ups", created=True)


def bundle_import(*, bundle, user, progress=None, today: date | None = None, check_only: bool = False) -> ImportResult:
    """Validate and write a whole bundle, or raise ImportFailed with every error and write nothing.

    check_only: validate everything the same way, then write nothing (the counts say what would be).
    """
    return Importer(user=user, progress=progress, today=today, check_only=check_only).run(bundle)
