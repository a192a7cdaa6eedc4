"""A refused write stores nothing: every kind of record, every lock, every door.

For each write a user can make (a page, the API, the import), the write is first shown to be
accepted when nothing is locked (in a savepoint that is rolled back), then tried under each
lock that covers it: the form itself, the visit whose window holds it, the patient and the
whole study, each frozen and locked. Each refused attempt must say so and leave every table
of the clinical apps (records, their history, queries, review, notifications) as it was.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from api.importing import ImportFailed, bundle_import
from assessments.models import AdverseEvent, LabAESuggestion, LabPanel, ResponseAssessment, SupportiveCare, Visit
from assessments.services.labs import supportive_care_record
from crf.models import DataLock
from patients.models import Death, DoseAdministration, Patient, Screening, SubsequentTherapy, TreatmentEnd
from patients.services import screening_create
from patients.services.treatment import death_record, subsequent_therapy_record, treatment_end_record
from review.services import lock_release, lock_set
from tests.api.conftest import client_for
from tests.conftest import DAY0, SCREENING_DAY, eligible_data, form_payload

pytestmark = pytest.mark.django_db

CLINICAL_APPS = ("patients", "assessments", "queries", "review", "notifications")
SOURCE = "SRC-LOCK"
D7 = DAY0 + timedelta(days=7)  # the day-7 visit's window is study days 6-8


def _json(value):
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def screening_json(**overrides) -> dict:
    return {k: _json(v) for k, v in eligible_data(**overrides).items()}


def patient_bundle(**parts) -> dict:
    """The world's patient as the import knows it (its source number is the natural key)."""
    return {
        "format": "rux-hlh-bundle/1",
        "patients": [
            {
                "site": "BCH",
                "screening_number": SOURCE,
                "screening": screening_json(),
                "enrollment": {
                    "enrollment_date": SCREENING_DAY.isoformat(),
                    "first_dose_date": DAY0.isoformat(),
                    "weight_kg": "15.0",
                    "prescribed_dose_mg": "5",
                },
                **parts,
            }
        ],
    }


D7_LABS = {
    "visit": "D7",
    "sampled_at": f"{D7}T08:00",
    "cns_symptoms": False,
    "values": [
        {"analyte": "TEMP", "value": "38.1"},
        {"analyte": "NEUT", "value": "0.9"},
        {"analyte": "PLAT", "value": "80"},
        {"analyte": "FIBRINO", "value": "1.4"},
        {"analyte": "FERRITIN", "value": "2400"},
        {"analyte": "ALT", "value": "450"},  # 11 x ULN: a lab-based AE suggestion
    ],
}


def _doses(days) -> list[dict]:
    doses = []
    for day in days:
        date = DAY0 + timedelta(days=day - 1)
        for slot, hour in (("am", "08:00"), ("pm", "20:00")):
            doses.append(
                {
                    "treatment_day": day,
                    "slot": slot,
                    "status": "given",
                    "administered_at": f"{date}T{hour}",
                    "amount_mg": "5",
                }
            )
    return doses


AE_ON_D7 = {
    "term_code": "IN102",
    "grade": 3,
    "onset_date": D7.isoformat(),
    "serious": False,
    "relationship": "possible",
    "action_taken": "none",
    "outcome": "recovering",
}


@dataclass
class World:
    patient: Patient
    clinician: object
    data_manager: object
    ended: bool

    def visit(self, code: str) -> Visit:
        return Visit.objects.get(patient=self.patient, definition__code=code)


def build_world(clinician, data_manager, *, ended: bool = False, dead: bool = False) -> World:
    """A patient imported with day-7 labs, eight days of doses and an AE on day 7, plus G-CSF on
    day 7; `ended` adds the end of treatment on day 28 and HLH-1994, `dead` a death after it."""
    bundle_import(
        bundle=patient_bundle(labs=[D7_LABS], doses=_doses(range(1, 9)), adverse_events=[AE_ON_D7]), user=clinician
    )
    patient = Patient.objects.get()
    supportive_care_record(patient=patient, kind="gcsf", product="", given_on=D7, detail="5 µg/kg", user=clinician)
    if ended:
        last = DAY0 + timedelta(days=27)
        treatment_end_record(
            patient=patient, outcome="completed", reason="", reason_detail="", last_dose_date=last, user=clinician
        )
        subsequent_therapy_record(
            patient=patient,
            regimen="hlh1994",
            etoposide=True,
            dexamethasone=True,
            start_date=last + timedelta(days=1),
            user=clinician,
        )
    if dead:
        death_record(
            patient=patient, date_of_death=DAY0 + timedelta(days=40), cause="Sepsis", hlh_related=False, user=clinician
        )
    return World(patient=Patient.objects.get(), clinician=clinician, data_manager=data_manager, ended=ended)


# Outcomes of one attempt --------------------------------------------------------------------------


@dataclass
class Outcome:
    accepted: bool
    refused: bool  # refused because the data are frozen or locked, and said so
    detail: str


def page_outcome(client: Client, response) -> Outcome:
    text = response.content.decode(errors="replace")
    if response.status_code == 302:
        # Pages that redirect show the outcome as a message on the next page.
        text = client.get(response["Location"]).content.decode(errors="replace")
        error = 'class="alert alert-danger"' in text
        refused = error and "Not saved" in text and ("locked" in text or "frozen" in text)
        return Outcome(accepted=not error, refused=refused, detail=text[-3000:])
    refused = response.status_code in (200, 423) and "Not saved" in text
    return Outcome(accepted=False, refused=refused, detail=f"{response.status_code} {text[-2000:]}")


def api_outcome(response) -> Outcome:
    body = response.content.decode(errors="replace")
    return Outcome(
        accepted=response.status_code in (200, 201),
        refused=response.status_code == 423,
        detail=f"{response.status_code} {body}",
    )


def import_outcome(bundle, user) -> Outcome:
    try:
        bundle_import(bundle=bundle, user=user)
    except ImportFailed as exc:
        messages = " ".join(e["message"] for e in exc.errors)
        return Outcome(accepted=False, refused="Not saved" in messages, detail=messages)
    return Outcome(accepted=True, refused=False, detail="imported")


def page(world: World) -> Client:
    client = Client()
    client.force_login(world.clinician)
    return client


# The writes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    name: str
    scopes: tuple[str, ...]  # the locks that cover it: form, visit, patient, study
    doors: dict[str, Callable[[World], Outcome]]
    record: Callable[[World], object] | None = None  # the form a "form" lock is set on
    visit: str | None = None  # the code of the visit whose lock covers it
    ended: bool = False
    dead: bool = False


def _screening_page(w):
    s = w.patient.screening
    data = form_payload({**eligible_data(weight_kg=Decimal("15.0")), "max_temperature_c": Decimal("39.9")})
    data.update(version=str(s.version), reason_for_change="Chart re-read")
    client = page(w)
    return page_outcome(client, client.post(reverse("screening_edit", args=[s.pk]), data))


def _screening_api(w):
    s = w.patient.screening
    body = {"max_temperature_c": "39.9", "version": s.version, "reason_for_change": "Chart re-read"}
    return api_outcome(client_for(w.clinician).patch(f"/api/v1/screenings/{s.pk}/", body, format="json"))


def _new_screening(w) -> Screening:
    return screening_create(site=w.patient.site, data=eligible_data(initials="NEW"), user=w.clinician)


ENROLL = {
    "enrollment_date": SCREENING_DAY.isoformat(),
    "first_dose_date": DAY0.isoformat(),
    "weight_kg": "15.0",
    "prescribed_dose_mg": "5",
}


def _enroll_page(w):
    # The new screening is made before the lock is set (see Write.record) and found here.
    s = Screening.objects.exclude(pk=w.patient.screening_id).get()
    client = page(w)
    return page_outcome(client, client.post(reverse("screening_enroll", args=[s.pk]), {**ENROLL, "confirm": "on"}))


def _enroll_api(w):
    s = Screening.objects.exclude(pk=w.patient.screening_id).get()
    return api_outcome(client_for(w.clinician).post(f"/api/v1/screenings/{s.pk}/enroll/", ENROLL, format="json"))


def _enroll_import(w):
    bundle = patient_bundle()
    bundle["patients"][0]["screening_number"] = "SRC-OTHER"
    bundle["patients"][0]["screening"] = screening_json(initials="IMP")
    return import_outcome(bundle, w.clinician)


def _not_done_page(w):
    visit = w.visit("D14")
    client = page(w)
    data = {"not_done_reason": "Child transferred for the day", "version": str(visit.version)}
    return page_outcome(client, client.post(reverse("visit_not_done", args=[visit.pk]), data))


def _not_done_api(w):
    visit = w.visit("D14")
    body = {"reason": "Child transferred for the day", "version": visit.version}
    return api_outcome(client_for(w.clinician).post(f"/api/v1/visits/{visit.pk}/not-done/", body, format="json"))


def _unscheduled_page(w):
    client = page(w)
    data = {"visit_date": (DAY0 + timedelta(days=4)).isoformat(), "reason": "New fever"}
    return page_outcome(client, client.post(reverse("visit_unscheduled_add", args=[w.patient.pk]), data))


D14 = DAY0 + timedelta(days=14)


def _labs_new_page(w):
    visit = w.visit("D14")
    client = page(w)
    data = {"visit_date": D14.isoformat(), "sampled_at": f"{D14}T08:00", "v_FERRITIN": "800", "v_TEMP": "37.0"}
    return page_outcome(client, client.post(reverse("lab_panel_edit", args=[visit.pk]), data))


def _labs_new_api(w):
    body = {
        "visit": w.visit("D14").pk,
        "sampled_at": f"{D14}T08:00",
        "values": [{"analyte": "FERRITIN", "value": "800"}, {"analyte": "TEMP", "value": "37.0"}],
    }
    return api_outcome(client_for(w.clinician).post("/api/v1/lab-panels/", body, format="json"))


def _labs_new_import(w):
    labs = {"visit": "D14", "sampled_at": f"{D14}T08:00", "values": [{"analyte": "FERRITIN", "value": "800"}]}
    return import_outcome(patient_bundle(labs=[labs]), w.clinician)


def _labs_change_page(w):
    panel = LabPanel.objects.get(visit=w.visit("D7"))
    client = page(w)
    data = {
        "visit_date": D7.isoformat(),
        "sampled_at": f"{D7}T08:00",
        "v_FERRITIN": "2500",
        "version": str(panel.version),
        "reason_for_change": "Transcription error",
    }
    return page_outcome(client, client.post(reverse("lab_panel_edit", args=[panel.visit_id]), data))


def _labs_change_api(w):
    panel = LabPanel.objects.get(visit=w.visit("D7"))
    body = {
        "values": [{"analyte": "FERRITIN", "value": "2500"}],
        "version": panel.version,
        "reason_for_change": "Transcription error",
    }
    return api_outcome(client_for(w.clinician).patch(f"/api/v1/lab-panels/{panel.pk}/", body, format="json"))


def _care_new_page(w):
    client = page(w)
    data = {"kind": "gcsf", "product": "", "given_on": D7.isoformat(), "detail": "second dose"}
    return page_outcome(client, client.post(reverse("supportive_care", args=[w.patient.pk]), data))


def _care_new_api(w):
    body = {"patient": w.patient.pk, "kind": "transfusion", "product": "platelets", "given_on": D7.isoformat()}
    return api_outcome(client_for(w.clinician).post("/api/v1/supportive-care/", body, format="json"))


def _care_change_api(w):
    care = SupportiveCare.objects.get(patient=w.patient)
    body = {"detail": "10 µg/kg", "version": care.version, "reason_for_change": "Pharmacy record"}
    return api_outcome(client_for(w.clinician).patch(f"/api/v1/supportive-care/{care.pk}/", body, format="json"))


DAY9 = DAY0 + timedelta(days=8)  # treatment day 9 is study day 8, the last day of the day-7 window


def _dose_new_page(w):
    client = page(w)
    data = {"status": "given", "administered_date": DAY9.isoformat(), "administered_time": "08:00", "amount_mg": "5"}
    return page_outcome(client, client.post(reverse("dose_record", args=[w.patient.pk, 9, "am"]), data))


def _dose_new_api(w):
    body = {
        "patient": w.patient.pk,
        "treatment_day": 9,
        "slot": "am",
        "status": "given",
        "administered_at": f"{DAY9}T08:00",
        "amount_mg": "5",
    }
    return api_outcome(client_for(w.clinician).post("/api/v1/doses/", body, format="json"))


def _dose_new_import(w):
    dose = {"treatment_day": 9, "slot": "am", "status": "given", "administered_at": f"{DAY9}T08:00", "amount_mg": "5"}
    return import_outcome(patient_bundle(doses=[dose]), w.clinician)


def _day8_dose(w) -> DoseAdministration:
    return DoseAdministration.objects.get(patient=w.patient, treatment_day=8, slot="am")


def _dose_change_page(w):
    dose = _day8_dose(w)
    client = page(w)
    data = {
        "status": "given",
        "administered_date": D7.isoformat(),
        "administered_time": "08:30",
        "amount_mg": "5",
        "version": str(dose.version),
        "reason_for_change": "Nursing chart",
    }
    return page_outcome(client, client.post(reverse("dose_record", args=[w.patient.pk, 8, "am"]), data))


def _dose_change_api(w):
    dose = _day8_dose(w)
    body = {"administered_at": f"{D7}T08:30", "version": dose.version, "reason_for_change": "Nursing chart"}
    return api_outcome(client_for(w.clinician).patch(f"/api/v1/doses/{dose.pk}/", body, format="json"))


def _ae_form(**overrides) -> dict:
    from assessments.models import CtcaeTerm

    term = CtcaeTerm.objects.get(code="GI110")
    data = {
        "term": str(term.pk),
        "term_search": f"{term.term} (GI110)",
        "other_specify": "",
        "grade": "2",
        "onset_date": D7.isoformat(),
        "resolution_date": "",
        "serious": "false",
        "relationship": "possible",
        "action_taken": "none",
        "outcome": "recovering",
        "description": "",
    }
    data.update(overrides)
    return data


def _ae_new_page(w):
    client = page(w)
    return page_outcome(client, client.post(reverse("ae_create", args=[w.patient.pk]), _ae_form()))


def _ae_new_api(w):
    body = {**AE_ON_D7, "term_code": "GI110", "grade": 2, "patient": w.patient.pk}
    return api_outcome(client_for(w.clinician).post("/api/v1/adverse-events/", body, format="json"))


def _ae_new_import(w):
    return import_outcome(patient_bundle(adverse_events=[{**AE_ON_D7, "term_code": "GI110", "grade": 2}]), w.clinician)


def _the_ae(w) -> AdverseEvent:
    return AdverseEvent.objects.get(patient=w.patient, term__code="IN102")


def _ae_change_page(w):
    ae = _the_ae(w)
    client = page(w)
    from assessments.models import CtcaeTerm

    term = CtcaeTerm.objects.get(code="IN102")
    data = _ae_form(
        term=str(term.pk),
        term_search=f"{term.term} (IN102)",
        grade="3",
        outcome="recovered",
        resolution_date=(D7 + timedelta(days=2)).isoformat(),
        version=str(ae.version),
        reason_for_change="Resolved on day 9",
    )
    return page_outcome(client, client.post(reverse("ae_edit", args=[ae.pk]), data))


def _ae_change_api(w):
    ae = _the_ae(w)
    body = {"outcome": "recovered", "version": ae.version, "reason_for_change": "Resolved"}
    return api_outcome(client_for(w.clinician).patch(f"/api/v1/adverse-events/{ae.pk}/", body, format="json"))


def _day7_response(w) -> ResponseAssessment:
    return ResponseAssessment.objects.get(visit=w.visit("D7"))


def _confirm_page(w):
    a = _day7_response(w)
    client = page(w)
    data = {"status": "nr", "reason": "Clinical judgement: still febrile", "version": str(a.version)}
    return page_outcome(client, client.post(reverse("response_confirm", args=[a.pk]), data))


def _confirm_api(w):
    a = _day7_response(w)
    body = {"status": "nr", "reason": "Clinical judgement: still febrile", "version": a.version}
    return api_outcome(
        client_for(w.clinician).post(f"/api/v1/response-assessments/{a.pk}/confirm/", body, format="json")
    )


def _suggestion(w) -> LabAESuggestion:
    return LabAESuggestion.objects.get(patient=w.patient)


def _dismiss_page(w):
    suggestion = _suggestion(w)
    client = page(w)
    data = {"reason": "Baseline hepatitis, not worse"}
    return page_outcome(client, client.post(reverse("ae_suggestion_dismiss", args=[suggestion.pk]), data))


LAST = DAY0 + timedelta(days=27)


def _end_page(w):
    client = page(w)
    data = {"outcome": "completed", "last_dose_date": LAST.isoformat(), "reason": "", "reason_detail": ""}
    return page_outcome(client, client.post(reverse("treatment_end", args=[w.patient.pk]), data))


def _end_api(w):
    body = {"patient": w.patient.pk, "outcome": "completed", "reason": "", "last_dose_date": LAST.isoformat()}
    return api_outcome(client_for(w.clinician).post("/api/v1/treatment-ends/", body, format="json"))


def _end_import(w):
    end = {"outcome": "completed", "reason": "", "last_dose_date": LAST.isoformat()}
    return import_outcome(patient_bundle(treatment_end=end), w.clinician)


def _end_change_page(w):
    end = TreatmentEnd.objects.get(patient=w.patient)
    client = page(w)
    data = {
        "outcome": "discontinued",
        "last_dose_date": LAST.isoformat(),
        "reason": "toxicity",
        "reason_detail": "",
        "version": str(end.version),
        "reason_for_change": "Stopped for toxicity",
    }
    return page_outcome(client, client.post(reverse("treatment_end", args=[w.patient.pk]), data))


def _end_change_api(w):
    end = TreatmentEnd.objects.get(patient=w.patient)
    body = {"outcome": "discontinued", "reason": "toxicity", "version": end.version, "reason_for_change": "Toxicity"}
    return api_outcome(client_for(w.clinician).patch(f"/api/v1/treatment-ends/{end.pk}/", body, format="json"))


FOLLOW = DAY0 + timedelta(days=56)


def _follow_up_page(w):
    client = page(w)
    data = {"assessed_on": FOLLOW.isoformat(), "vital_status": "alive", "hlh_relapse": "false", "notes": ""}
    return page_outcome(client, client.post(reverse("follow_up_add", args=[w.patient.pk]), data))


def _follow_up_api(w):
    body = {"patient": w.patient.pk, "assessed_on": FOLLOW.isoformat(), "vital_status": "alive", "hlh_relapse": False}
    return api_outcome(client_for(w.clinician).post("/api/v1/follow-ups/", body, format="json"))


def _follow_up_import(w):
    follow = {"assessed_on": FOLLOW.isoformat(), "vital_status": "alive", "hlh_relapse": False}
    return import_outcome(patient_bundle(follow_ups=[follow]), w.clinician)


DIED = DAY0 + timedelta(days=40)


def _death_page(w):
    client = page(w)
    data = {"date_of_death": DIED.isoformat(), "cause": "Sepsis", "hlh_related": "false"}
    return page_outcome(client, client.post(reverse("death_record", args=[w.patient.pk]), data))


def _death_api(w):
    body = {"patient": w.patient.pk, "date_of_death": DIED.isoformat(), "cause": "Sepsis", "hlh_related": False}
    return api_outcome(client_for(w.clinician).post("/api/v1/deaths/", body, format="json"))


def _death_change_page(w):
    death = Death.objects.get(patient=w.patient)
    client = page(w)
    data = {
        "date_of_death": DIED.isoformat(),
        "cause": "Septic shock",
        "hlh_related": "false",
        "version": str(death.version),
        "reason_for_change": "Death certificate",
    }
    return page_outcome(client, client.post(reverse("death_record", args=[w.patient.pk]), data))


def _death_change_api(w):
    death = Death.objects.get(patient=w.patient)
    body = {"cause": "Septic shock", "version": death.version, "reason_for_change": "Death certificate"}
    return api_outcome(client_for(w.clinician).patch(f"/api/v1/deaths/{death.pk}/", body, format="json"))


THERAPY_START = LAST + timedelta(days=1)


def _therapy_new_page(w):
    client = page(w)
    data = {"regimen": "other", "other_drugs": "emapalumab", "start_date": (THERAPY_START + timedelta(5)).isoformat()}
    return page_outcome(client, client.post(reverse("subsequent_therapy_add", args=[w.patient.pk]), data))


def _therapy_new_api(w):
    body = {
        "patient": w.patient.pk,
        "regimen": "other",
        "other_drugs": "emapalumab",
        "start_date": (THERAPY_START + timedelta(5)).isoformat(),
    }
    return api_outcome(client_for(w.clinician).post("/api/v1/subsequent-therapies/", body, format="json"))


def _therapy(w) -> SubsequentTherapy:
    return SubsequentTherapy.objects.get(patient=w.patient)


def _therapy_change_page(w):
    therapy = _therapy(w)
    client = page(w)
    data = {
        "regimen": "hlh1994",
        "etoposide": "on",
        "dexamethasone": "on",
        "start_date": therapy.start_date.isoformat(),
        "response": "cr",
        "outcome": "",
        "other_drugs": "",
        "version": str(therapy.version),
        "reason_for_change": "Day 56 assessment",
    }
    url = reverse("subsequent_therapy_edit", args=[w.patient.pk, therapy.pk])
    return page_outcome(client, client.post(url, data))


def _therapy_change_api(w):
    therapy = _therapy(w)
    body = {"response": "cr", "version": therapy.version, "reason_for_change": "Day 56 assessment"}
    return api_outcome(
        client_for(w.clinician).patch(f"/api/v1/subsequent-therapies/{therapy.pk}/", body, format="json")
    )


NEW = ("visit", "patient", "study")
CHANGE = ("form", "visit", "patient", "study")
OUTCOME_NEW = ("patient", "study")
OUTCOME_CHANGE = ("form", "patient", "study")

WRITES = [
    Write(
        "screening change",
        ("form", "patient", "study"),
        {"page": _screening_page, "api": _screening_api},
        record=lambda w: w.patient.screening,
    ),
    Write(
        "enrollment",
        ("study",),
        {"page": _enroll_page, "api": _enroll_api, "import": _enroll_import},
        record=_new_screening,
    ),
    Write(
        "visit not done",
        CHANGE,
        {"page": _not_done_page, "api": _not_done_api},
        record=lambda w: w.visit("D14"),
        visit="D14",
    ),
    Write("unscheduled visit", OUTCOME_NEW, {"page": _unscheduled_page}),
    Write(
        "new lab panel", NEW, {"page": _labs_new_page, "api": _labs_new_api, "import": _labs_new_import}, visit="D14"
    ),
    Write(
        "lab correction",
        CHANGE,
        {"page": _labs_change_page, "api": _labs_change_api},
        record=lambda w: LabPanel.objects.get(visit=w.visit("D7")),
        visit="D7",
    ),
    Write("new G-CSF or transfusion", NEW, {"page": _care_new_page, "api": _care_new_api}, visit="D7"),
    Write(
        "G-CSF correction",
        CHANGE,
        {"api": _care_change_api},
        record=lambda w: SupportiveCare.objects.get(patient=w.patient),
        visit="D7",
    ),
    Write("new dose", NEW, {"page": _dose_new_page, "api": _dose_new_api, "import": _dose_new_import}, visit="D7"),
    Write(
        "dose correction", CHANGE, {"page": _dose_change_page, "api": _dose_change_api}, record=_day8_dose, visit="D7"
    ),
    Write("new adverse event", NEW, {"page": _ae_new_page, "api": _ae_new_api, "import": _ae_new_import}, visit="D7"),
    Write(
        "adverse event correction", CHANGE, {"page": _ae_change_page, "api": _ae_change_api}, record=_the_ae, visit="D7"
    ),
    Write(
        "response confirmation", CHANGE, {"page": _confirm_page, "api": _confirm_api}, record=_day7_response, visit="D7"
    ),
    Write("AE suggestion dismissed", OUTCOME_CHANGE, {"page": _dismiss_page}, record=_suggestion),
    Write("end of treatment", OUTCOME_NEW, {"page": _end_page, "api": _end_api, "import": _end_import}),
    Write(
        "end of treatment correction",
        OUTCOME_CHANGE,
        {"page": _end_change_page, "api": _end_change_api},
        record=lambda w: TreatmentEnd.objects.get(patient=w.patient),
        ended=True,
    ),
    Write(
        "follow-up",
        OUTCOME_NEW,
        {"page": _follow_up_page, "api": _follow_up_api, "import": _follow_up_import},
        ended=True,
    ),
    Write("new subsequent therapy", OUTCOME_NEW, {"page": _therapy_new_page, "api": _therapy_new_api}, ended=True),
    Write(
        "subsequent therapy correction",
        OUTCOME_CHANGE,
        {"page": _therapy_change_page, "api": _therapy_change_api},
        record=_therapy,
        ended=True,
    ),
    Write("death", OUTCOME_NEW, {"page": _death_page, "api": _death_api}, ended=True),
    Write(
        "death correction",
        OUTCOME_CHANGE,
        {"page": _death_change_page, "api": _death_change_api},
        record=lambda w: Death.objects.get(patient=w.patient),
        ended=True,
        dead=True,
    ),
]


# The database as a whole ------------------------------------------------------------------------


def db_snapshot() -> dict[str, tuple[int, object]]:
    """Row count and highest primary key of every table of the clinical apps (history included):
    a row written, changed (a history row) or deleted moves it. One statement."""
    models = [m for app in CLINICAL_APPS for m in apps.get_app_config(app).get_models()]
    sql = " UNION ALL ".join(
        f"SELECT '{m._meta.label}', count(*), max({m._meta.pk.column}) FROM {m._meta.db_table}"  # noqa: S608
        for m in models
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {label: (count, top) for label, count, top in cursor.fetchall()}


def _lock(world: World, write: Write, scope: str, level: str, record) -> DataLock:
    patient = world.patient
    kwargs = {"trial": patient.site.trial, "level": level, "user": world.data_manager, "reason": "Interim analysis"}
    if scope == "study":
        return lock_set(scope="study", **kwargs)
    if scope == "patient":
        return lock_set(scope="patient", patient=patient, **kwargs)
    if scope == "visit":
        return lock_set(scope="visit", patient=patient, visit=world.visit(write.visit), **kwargs)
    from review.services import form_lock_set

    return form_lock_set(record=record, level=level, user=world.data_manager, reason="Final")


def test_the_table_covers_every_form_of_the_catalogue():
    """Every lockable form of the catalogue has a write refused here (a form added to the
    catalogue without a row fails this test)."""
    from crf.catalogue import FORMS

    covered = {
        "patients.screening": "screening change",
        "patients.patient": "enrollment",
        "assessments.visit": "visit not done",
        "assessments.labpanel": "lab correction",
        "assessments.labresult": "new lab panel",
        "assessments.supportivecare": "G-CSF correction",
        "patients.doseadministration": "dose correction",
        "assessments.adverseevent": "adverse event correction",
        "assessments.labaesuggestion": "AE suggestion dismissed",
        "assessments.responseassessment": "response confirmation",
        "patients.treatmentend": "end of treatment correction",
        "patients.subsequenttherapy": "subsequent therapy correction",
        "patients.followup": "follow-up",
        "patients.death": "death correction",
    }
    names = {w.name for w in WRITES}
    assert {form.label for form in FORMS} == set(covered)
    assert set(covered.values()) <= names


@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
def test_a_refused_write_stores_nothing(write, clinician, data_manager):
    world = build_world(clinician, data_manager, ended=write.ended, dead=write.dead)
    record = write.record(world) if write.record is not None else None
    for door, attempt in write.doors.items():
        # The same write is accepted while nothing is locked (then undone), so a refusal below
        # is the lock's and not bad input.
        with transaction.atomic():
            outcome = attempt(world)
            transaction.set_rollback(True)
        assert outcome.accepted, f"{write.name} by {door} is not accepted unlocked: {outcome.detail}"
        for scope in write.scopes:
            if scope == "form" and record is None:
                continue
            for level in ("freeze", "lock"):
                lock = _lock(world, write, scope, level, record if scope == "form" else None)
                before = db_snapshot()
                outcome = attempt(world)
                after = db_snapshot()
                where = f"{write.name} by {door} under a {level} of the {scope}"
                assert outcome.refused and not outcome.accepted, f"{where} was not refused: {outcome.detail}"
                changed = {label: (before[label], after[label]) for label in before if before[label] != after[label]}
                assert not changed, f"{where} changed the database: {changed}"
                lock_release(lock_id=lock.pk, user=world.data_manager, reason="Released for the next case")
