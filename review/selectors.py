"""Reads for the lock controls shown on each form's page."""

from dataclasses import dataclass

from django.apps import apps
from django.db import models
from django.urls import reverse

from crf.catalogue import lockable_labels
from review.models import DataLock
from review.services import _scope_of, active_lock

# The forms a data manager can freeze or lock one by one (scope "record").
LOCKABLE = lockable_labels()

# Where each form is shown: the page a lock or unlock returns to.
PAGES = {
    "patients.screening": lambda r: reverse("screening_detail", args=[r.pk]),
    "patients.patient": lambda r: reverse("patient_overview", args=[r.pk]),
    "assessments.labpanel": lambda r: reverse("lab_panel_edit", args=[r.visit_id]),
    "assessments.visit": lambda r: reverse("visit_calendar", args=[r.patient_id]),
    "assessments.adverseevent": lambda r: f"{reverse('ae_list', args=[r.patient_id])}#ae-{r.pk}",
    "assessments.labaesuggestion": lambda r: reverse("ae_list", args=[r.patient_id]),
    "assessments.supportivecare": lambda r: reverse("supportive_care", args=[r.patient_id]),
    "assessments.responseassessment": lambda r: reverse("patient_responses", args=[r.patient_id]),
    "patients.doseadministration": lambda r: reverse("dose_log", args=[r.patient_id]),
}


def lockable_model(label: str) -> type[models.Model] | None:
    if label not in LOCKABLE:
        return None
    return apps.get_model(label)


def record_page_url(record) -> str:
    label = record._meta.label_lower
    if label in PAGES:
        return PAGES[label](record)
    patient_id = _scope_of(record)[0]
    return reverse("treatment_summary", args=[patient_id]) if patient_id else reverse("subject_list")


@dataclass(frozen=True)
class FormLock:
    """What a form's page shows of the locks: the lock that holds the form (any scope), and for
    a data manager the form's own freeze/lock and unlock controls."""

    record: models.Model | None
    lock: DataLock | None
    can_lock: bool

    @property
    def locked(self) -> bool:
        return self.lock is not None

    @property
    def own(self) -> bool:
        """The form itself is locked (not its visit, patient or the study): unlocked here."""
        return self.lock is not None and self.lock.scope == DataLock.Scope.RECORD

    @property
    def action_url(self) -> str:
        if self.record is None or self.record.pk is None:
            return ""
        return reverse("record_lock", args=[self.record._meta.label_lower, self.record.pk])

    @property
    def next_url(self) -> str:
        return record_page_url(self.record) if self.record is not None and self.record.pk else ""


def form_lock(record, *, user) -> FormLock:
    """The lock state of a form for the page showing it (an unsaved record: the locks it would meet)."""
    can_lock = (
        record is not None
        and record.pk is not None
        and record._meta.label_lower in LOCKABLE
        and user.groups.filter(name="data_manager").exists()
    )
    return FormLock(record=record, lock=active_lock(record) if record is not None else None, can_lock=can_lock)
