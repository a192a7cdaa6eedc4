"""The study status matrix: the user's patients by the visits of the schedule and the patient's
own forms, each cell with one status.

A cell's status is the first of these that holds (STATUS_ORDER):

1. locked: a freeze or lock of the study, the patient, the visit or one of the cell's forms
   holds it. Nothing more can happen to it, so it says so above everything else;
2. query open: a query on one of its forms is open or answered (not closed yet). It is the
   work still outstanding, and a signature or verification must not hide it;
3. signed: an investigator's signature of the visit (or of the casebook) still holds;
4. verified: the monitor's source data verification of its lab panel (for the screening and
   the enrollment: of the form) holds at the current version;
5. out of window: the visit was done outside its window, or its window closed on the site's
   day without a visit date or a "not done";
6. incomplete: the visit has a date but core values of the lab groups the schedule expects
   are missing (the visit calendar's own rule);
7. complete: nothing missing (a visit recorded as not done expects nothing);
8. not started: no data yet.

Every other status that holds is kept beside it (`Cell.flags`), for the cell's title.

Everything is read with a fixed number of statements whatever the number of patients: each
kind of record for all the patients at once, never one query per cell.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from functools import partial

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from assessments.models import LabResult, Visit
from assessments.rules.expectations import missing_expected
from assessments.rules.schedule import VisitStatus, visit_status
from assessments.selectors import related_or_none, visit_expected_groups
from crf import catalogue
from crf.models import DataLock, DataQuery
from crf.versions import history_digests
from patients.models import Patient
from patients.selectors import patients_visible_to
from review.models import Signature, SourceVerification
from trial import clock
from trial.models import VisitDefinition
from trial.visit_names import visit_name


class CellStatus(str, Enum):
    LOCKED = "locked"
    QUERY = "query"
    SIGNED = "signed"
    VERIFIED = "verified"
    OUT_OF_WINDOW = "out_of_window"
    INCOMPLETE = "incomplete"
    COMPLETE = "complete"
    NOT_STARTED = "not_started"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self][0])

    @property
    def letter(self) -> str:
        return str(STATUS_LABELS[self][1])

    @property
    def meaning(self) -> str:
        return str(STATUS_LABELS[self][2])


STATUS_ORDER: tuple[CellStatus, ...] = tuple(CellStatus)  # highest precedence first

# (label, the letter shown in the cell beside its colour, what it means)
STATUS_LABELS = {
    CellStatus.LOCKED: (_("Locked"), "L", _("Frozen or locked: nothing changes until a data manager unlocks it.")),
    CellStatus.QUERY: (_("Query open"), "Q", _("A query on the form is open or answered, not closed.")),
    CellStatus.SIGNED: (_("Signed"), "S", _("The investigator's signature of the visit or casebook holds.")),
    CellStatus.VERIFIED: (_("Verified"), "V", _("Source data verified at the current version.")),
    CellStatus.OUT_OF_WINDOW: (
        _("Out of window"),
        "W",
        _("Done outside its window, or the window closed without the visit."),
    ),
    CellStatus.INCOMPLETE: (_("Incomplete"), "I", _("Done, but expected lab values are missing.")),
    CellStatus.COMPLETE: (_("Complete"), "C", _("Entered with nothing expected missing.")),
    CellStatus.NOT_STARTED: (_("Not started"), "–", _("Nothing entered yet.")),
}

PAGE_SIZE = 50

# The patient's own forms, after the visits: (catalogue label, column title, always expected).
PATIENT_FORMS: tuple[tuple[str, str, bool], ...] = (
    ("patients.screening", _("Screening"), True),
    ("patients.patient", _("Enrollment"), True),
    ("patients.treatmentend", _("End of treatment"), True),
    ("patients.death", _("Death"), False),  # no death recorded is no missing form: an empty cell
)


@dataclass(frozen=True)
class Column:
    key: str  # a visit definition's code, or a form's catalogue label
    title: str  # the header: "Day 7"
    name: str  # in full: "Day 7 (efficacy)"
    subtitle: str = ""  # the window: "±1"


@dataclass(frozen=True)
class Cell:
    column: Column
    status: CellStatus | None  # None: nothing expected here (no such visit, no death)
    link: Callable[[], str] | None = None  # the form's page, built only for the rows shown
    flags: tuple[CellStatus, ...] = ()  # every status that holds, in precedence order
    note: str = ""

    @property
    def url(self) -> str:
        return self.link() if self.link is not None else ""

    @property
    def title(self) -> str:
        if self.status is None:
            return self.note
        parts = [f"{self.column.name}: {', '.join(flag.label for flag in self.flags)}"]
        return "; ".join([*parts, self.note] if self.note else parts)


@dataclass(frozen=True)
class MatrixRow:
    patient: Patient
    cells: tuple[Cell, ...]

    @property
    def statuses(self) -> set[CellStatus]:
        return {cell.status for cell in self.cells if cell.status is not None}


@dataclass
class _Review:
    """The review state of a set of patients, read once: locks, open queries, SDV, signatures."""

    locks: list[DataLock]
    open_targets: set[str]
    verified_versions: dict[str, int]  # target -> the version its latest verification was made at
    signed_visits: set[int]
    signed_patients: set[int]
    by_patient: dict[int, list[DataLock]] = field(default_factory=dict)

    def locked(self, *, patient_id: int, visit_id: int | None, targets: list[str]) -> bool:
        return any(
            lock.scope == DataLock.Scope.STUDY
            or (lock.scope == DataLock.Scope.PATIENT and lock.patient_id == patient_id)
            or (lock.scope == DataLock.Scope.VISIT and visit_id is not None and lock.visit_id == visit_id)
            or (lock.scope == DataLock.Scope.RECORD and lock.target in targets)
            for lock in self.by_patient.get(patient_id, []) + self.by_patient.get(0, [])
        )

    def verified(self, record) -> bool:
        version = self.verified_versions.get(catalogue.target_of(record))
        return version is not None and version == record.version


def _review_load(patient_ids) -> _Review:
    locks = list(
        DataLock.objects.filter(released_at__isnull=True).filter(
            Q(scope=DataLock.Scope.STUDY) | Q(patient_id__in=patient_ids) | Q(visit__patient_id__in=patient_ids)
        )
    )
    visit_patient = dict(
        Visit.objects.filter(pk__in=[lock.visit_id for lock in locks if lock.visit_id]).values_list("id", "patient_id")
    )
    by_patient: dict[int, list[DataLock]] = defaultdict(list)
    for lock in locks:
        owner = 0 if lock.scope == DataLock.Scope.STUDY else lock.patient_id or visit_patient.get(lock.visit_id, -1)
        by_patient[owner].append(lock)
    open_targets = set(
        DataQuery.objects.filter(patient_id__in=patient_ids)
        .exclude(status=DataQuery.Status.CLOSED)
        .values_list("target", flat=True)
    )
    verified_versions: dict[str, int] = {}
    rows = SourceVerification.objects.filter(patient_id__in=patient_ids).order_by("target", "-verified_at", "-id")
    for target, version in rows.values_list("target", "record_version"):
        verified_versions.setdefault(target, version)  # the latest verification of each form
    signatures = list(
        Signature.objects.filter(patient_id__in=patient_ids).values_list("scope", "patient_id", "visit_id", "digest")
    )
    signed_visits, signed_patients = _valid_signatures(signatures)
    return _Review(
        locks=locks,
        open_targets=open_targets,
        verified_versions=verified_versions,
        signed_visits=signed_visits,
        signed_patients=signed_patients,
        by_patient=dict(by_patient),
    )


def _valid_signatures(signatures) -> tuple[set[int], set[int]]:
    """The visits and the patients (casebooks) whose signature still holds: its digest is the
    digest of what it covers now (review.services.signature_valid, for all at once)."""
    visit_ids = {visit_id for scope, _, visit_id, _ in signatures if scope == Signature.Scope.VISIT and visit_id}
    patient_ids = {patient_id for scope, patient_id, _, _ in signatures if scope == Signature.Scope.CASEBOOK}
    forms = catalogue.signed_forms()
    now_visits = history_digests(forms=forms, visit_ids=visit_ids) if visit_ids else {}
    now_patients = history_digests(forms=forms, patient_ids=patient_ids) if patient_ids else {}
    signed_visits, signed_patients = set(), set()
    for scope, patient_id, visit_id, digest in signatures:
        if scope == Signature.Scope.VISIT and visit_id and now_visits.get(visit_id) == digest:
            signed_visits.add(visit_id)
        elif scope == Signature.Scope.CASEBOOK and now_patients.get(patient_id) == digest:
            signed_patients.add(patient_id)
    return signed_visits, signed_patients


def _window(definition: VisitDefinition) -> str:
    before, after = definition.window_before, definition.window_after
    if before == after == 0:
        return ""
    return f"±{before}" if before == after else f"−{before}/+{after}"


def matrix_columns(*, trial) -> tuple[list[VisitDefinition], list[Column]]:
    """The planned visits of the schedule (the visit calendar's order), then the patient's forms."""
    definitions = list(VisitDefinition.objects.filter(trial=trial).order_by("order", "day", "id"))
    columns = [
        Column(key=d.code, title=str(_("Day %(day)d")) % {"day": d.day}, name=visit_name(d.name), subtitle=_window(d))
        for d in definitions
    ]
    columns += [Column(key=label, title=str(title), name=str(title)) for label, title, _expected in PATIENT_FORMS]
    return definitions, columns


def _visit_cell(column: Column, visit: Visit | None, *, entered: set[str], today: date, review: _Review) -> Cell:
    if visit is None:
        return Cell(column=column, status=None, note=str(_("No such visit planned for this patient.")))
    panel = related_or_none(visit, "lab_panel")
    records = [visit, panel, related_or_none(visit, "response_assessment"), related_or_none(visit, "follow_up")]
    targets = [catalogue.target_of(record) for record in records if record is not None]
    where = visit_status(
        today=today,
        window_start=visit.window_start,
        window_end=visit.window_end,
        planned_date=visit.planned_date,
        visit_date=visit.visit_date,
        not_done=visit.not_done,
    )
    missing = (
        missing_expected(groups=visit_expected_groups(visit), entered=entered) if where is VisitStatus.DONE else ()
    )
    flags = set()
    if review.locked(patient_id=visit.patient_id, visit_id=visit.pk, targets=targets):
        flags.add(CellStatus.LOCKED)
    if review.open_targets.intersection(targets):
        flags.add(CellStatus.QUERY)
    if visit.pk in review.signed_visits or visit.patient_id in review.signed_patients:
        flags.add(CellStatus.SIGNED)
    if panel is not None and review.verified(panel):
        flags.add(CellStatus.VERIFIED)
    if visit.out_of_window or where is VisitStatus.MISSED:
        flags.add(CellStatus.OUT_OF_WINDOW)
    if where is VisitStatus.DONE:
        flags.add(CellStatus.INCOMPLETE if missing else CellStatus.COMPLETE)
    elif where is VisitStatus.NOT_DONE:
        flags.add(CellStatus.COMPLETE)
    else:
        flags.add(CellStatus.NOT_STARTED)
    if where is VisitStatus.NOT_DONE:
        note = str(_("Visit not done: %(reason)s")) % {"reason": visit.not_done_reason or "—"}
    elif missing:
        note = str(_("%(count)d expected value(s) missing")) % {"count": len(missing)}
    elif visit.window_note:
        note = visit.window_note
    else:
        note = ""
    ordered = tuple(status for status in STATUS_ORDER if status in flags)
    return Cell(
        column=column,
        status=ordered[0],
        link=partial(reverse, "lab_panel_edit", args=[visit.pk]),
        flags=ordered,
        note=note,
    )


def _form_cell(column: Column, patient: Patient, *, label: str, expected: bool, review: _Review) -> Cell:
    record = {
        "patients.screening": patient.screening,
        "patients.patient": patient,
        "patients.treatmentend": related_or_none(patient, "treatment_end"),
        "patients.death": related_or_none(patient, "death"),
    }[label]
    form = catalogue.BY_LABEL[label]
    if record is None:
        if not expected:
            return Cell(column=column, status=None, note=str(_("None recorded.")))
        link = partial(reverse, "treatment_summary", args=[patient.pk])
        ordered = (CellStatus.NOT_STARTED,)
        if review.locked(patient_id=patient.pk, visit_id=None, targets=[]):
            ordered = (CellStatus.LOCKED, CellStatus.NOT_STARTED)
        return Cell(column=column, status=ordered[0], link=link, flags=ordered)
    target = catalogue.target_of(record)
    flags = {CellStatus.COMPLETE}
    if review.locked(patient_id=patient.pk, visit_id=None, targets=[target]):
        flags.add(CellStatus.LOCKED)
    if target in review.open_targets:
        flags.add(CellStatus.QUERY)
    if patient.pk in review.signed_patients and form.signed:
        flags.add(CellStatus.SIGNED)
    if form.verified and review.verified(record):
        flags.add(CellStatus.VERIFIED)
    ordered = tuple(status for status in STATUS_ORDER if status in flags)
    return Cell(column=column, status=ordered[0], link=partial(form.page, record), flags=ordered)


# What a cell reads of a visit and the forms hanging on it (the rest of their columns stays unread).
VISIT_COLUMNS = (
    *("id", "version", "patient_id", "definition_id", "planned_date", "window_start", "window_end"),
    *("visit_date", "out_of_window", "window_note", "not_done", "not_done_reason"),
    *("definition__kind", "definition__full_hlh_panel", "definition__response_assessment"),
    *("lab_panel__id", "lab_panel__version", "response_assessment__id", "follow_up__id"),
)


def matrix_rows(*, patients: list[Patient], definitions, columns, now: datetime | None = None) -> list[MatrixRow]:
    """One row per patient, in the order given; a fixed number of statements for any number."""
    at = now or clock.now()
    ids = [patient.pk for patient in patients]
    visits = (
        Visit.objects.filter(patient_id__in=ids, definition__isnull=False)
        .select_related("definition", "lab_panel", "response_assessment", "follow_up")
        .only(*VISIT_COLUMNS)
        .order_by()
    )
    by_patient: dict[int, dict[int, Visit]] = defaultdict(dict)
    for visit in visits:
        by_patient[visit.patient_id][visit.definition_id] = visit
    entered: dict[int, set[str]] = defaultdict(set)
    for panel_id, analyte in LabResult.objects.filter(patient_id__in=ids).values_list("panel_id", "analyte"):
        entered[panel_id].add(analyte)
    review = _review_load(ids)
    todays = {}
    rows = []
    visit_columns = dict(zip([d.pk for d in definitions], columns, strict=False))
    form_columns = columns[len(definitions) :]
    for patient in patients:
        if patient.site_id not in todays:
            todays[patient.site_id] = clock.site_today(patient.site, at=at)
        cells = []
        for definition_id, column in visit_columns.items():
            visit = by_patient[patient.pk].get(definition_id)
            panel = related_or_none(visit, "lab_panel") if visit is not None else None
            cells.append(
                _visit_cell(
                    column,
                    visit,
                    entered=entered[panel.pk] if panel is not None else set(),
                    today=todays[patient.site_id],
                    review=review,
                )
            )
        for column, (label, _title, expected) in zip(form_columns, PATIENT_FORMS, strict=True):
            cells.append(_form_cell(column, patient, label=label, expected=expected, review=review))
        rows.append(MatrixRow(patient=patient, cells=tuple(cells)))
    return rows


def matrix_patients(*, user, site_id: int | None = None, query: str = "") -> QuerySet[Patient]:
    """The user's enrolled patients (their sites only), optionally of one site or matching a
    subject number, by subject number."""
    rows = patients_visible_to(user).select_related("treatment_end", "death")
    if site_id is not None:
        rows = rows.filter(site_id=site_id)
    if query:
        rows = rows.filter(subject_number__icontains=query)
    return rows.order_by("subject_number")


@dataclass(frozen=True)
class Matrix:
    columns: list[Column]
    page: object  # a Paginator page of MatrixRow
    status: CellStatus | None
    site_id: int | None
    query: str


def study_matrix(
    *,
    user,
    trial,
    site_id: int | None = None,
    query: str = "",
    status: CellStatus | None = None,
    page: str | int | None = None,
    now: datetime | None = None,
) -> Matrix:
    """A page of the matrix. Without a status, the page of patients is read and its cells
    computed; with one, the cells of every matching patient are (still a fixed number of
    statements) and only the rows having that status are paged."""
    definitions, columns = matrix_columns(trial=trial)
    patients = matrix_patients(user=user, site_id=site_id, query=query)
    if status is None:
        page_of_patients = Paginator(patients, PAGE_SIZE).get_page(page)
        page_of_patients.object_list = matrix_rows(
            patients=list(page_of_patients.object_list), definitions=definitions, columns=columns, now=now
        )
        return Matrix(columns=columns, page=page_of_patients, status=None, site_id=site_id, query=query)
    rows = matrix_rows(patients=list(patients), definitions=definitions, columns=columns, now=now)
    having = [row for row in rows if status in row.statuses]
    return Matrix(
        columns=columns,
        page=Paginator(having, PAGE_SIZE).get_page(page),
        status=status,
        site_id=site_id,
        query=query,
    )
