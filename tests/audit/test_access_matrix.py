"""Who may open and who may write every URL of the eCRF: role x site x URL.

Each row of TABLE is one URL pattern of config.urls (walked recursively, the API included)
and says the status each actor gets, in the order of ACTORS:

    anonymous, and the clinician, coordinator, monitor and data manager of the patient's
    site, and a clinician of another site.

`get` is checked for every row; `write` (a POST, or a PATCH for an API record) with an
empty or minimal body for every URL that changes anything: 403 for a role that may not,
404 for another site's record, a redirect to the sign-in page (pages) or 401 (API) for
anonymous, and never a 500. A URL pattern without a row fails the test, so a new page or
endpoint cannot ship without saying who may use it.

Statuses: a number, or "L" for a redirect to the sign-in page.
The objects the URLs name are built once for the module, inside a transaction rolled back
at its end; each case runs in a savepoint of its own.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token

from tests.conftest import DAY0, eligible_data, enroll_child, make_user
from trial.models import Role, Site, Trial

ACTORS = ("anonymous", "clinician", "coordinator", "monitor", "data_manager", "other_site")
ZONE = ZoneInfo("Asia/Shanghai")
TODAY = DAY0 + timedelta(days=30)

# URL patterns with no row, and why.
EXCLUDED = {
    "admin/": "Django admin internals: staff only, and clinical records are read-only there "
    "(tests/review/test_form_locks.py covers the admin's refusals).",
}
# Static files and uploaded media are served by WhiteNoise and the web server, not config.urls.


@dataclass(frozen=True)
class Row:
    url: object  # world -> path
    get: str  # expected status per actor, in ACTORS order
    write: str | None = None  # expected status of the write per actor
    method: str = "post"
    body: dict | None = None
    api: bool = False
    hidden_from_other: bool = False  # a list: the other site's user must not see site A's data


def page(url, get, write=None, **kw) -> Row:
    return Row(url=url, get=get, write=write, **kw)


def api(url, get, write=None, **kw) -> Row:
    return Row(url=url, get=get, write=write, api=True, **kw)


# Shorthands for the usual rows (anonymous, clinician, coordinator, monitor, data manager, other site).
READ = "L 200 200 200 200 404"  # a page of a patient: every role of the site reads it
EDIT = "L 200 200 403 403 404"  # a form: clinicians and coordinators enter, monitors and data managers may not
POST_ONLY = "L 405 405 403 403 405"  # a write-only URL opened with GET (role checked first)
ALL = "L 200 200 200 200 200"  # a list every signed-in user opens (scoped to their sites)
API_READ = "401 200 200 200 200 404"
API_LIST = "401 200 200 200 200 200"
API_CREATE = "401 400 400 403 403 400"  # an empty body: named field errors; the other site has no patient to name
API_CHANGE = "401 400 400 403 403 404"  # PATCH without a version


def r(name, *args, **kwargs):
    return lambda w: reverse(name, args=[a(w) if callable(a) else a for a in args], kwargs=kwargs or None)


TABLE: dict[str, Row] = {
    # Sign-in and out
    "login/": page(lambda w: reverse("login"), "200 200 200 200 200 200", "200 200 200 200 200 200"),
    "logout/": page(lambda w: reverse("logout"), "405 405 405 405 405 405", "302 302 302 302 302 302"),
    # The language switch: anyone, signed in or not (a POST without a language is refused).
    "language/": page(lambda w: reverse("language_switch"), "405 405 405 405 405 405", "400 400 400 400 400 400"),
    # The user's own second factor: set up by anyone signed in (an empty code re-shows the form
    # with its error); the code page sends a user without an authenticator to set one up.
    "account/two-factor/": page(r("two_factor"), ALL, ALL),
    "account/two-factor/verify/": page(r("two_factor_verify"), "L 302 302 302 302 302", "L 302 302 302 302 302"),
    # Screening, enrollment, patients
    "": page(r("home"), "L 302 302 302 302 302"),
    "patients/": page(r("subject_list"), ALL, hidden_from_other=True),
    "patients/<int:pk>/": page(r("patient_overview", lambda w: w.patient.pk), READ),
    "screening/new/": page(r("screening_create"), "L 200 200 403 403 200", "L 200 200 403 403 200"),
    "screening/log/": page(r("screening_log"), ALL, hidden_from_other=True),
    "screening/<int:pk>/": page(r("screening_detail", lambda w: w.screening.pk), READ),
    "screening/<int:pk>/edit/": page(r("screening_edit", lambda w: w.screening.pk), EDIT, EDIT),
    "screening/<int:pk>/enroll/": page(r("screening_enroll", lambda w: w.screening.pk), EDIT, EDIT),
    # Study drug and outcome
    "patients/<int:pk>/doses/": page(r("dose_log", lambda w: w.patient.pk), READ),
    "patients/<int:pk>/doses/<int:day>/<str:slot>/": page(
        r("dose_record", lambda w: w.patient.pk, 2, "am"), EDIT, EDIT
    ),
    "patients/<int:pk>/treatment/": page(r("treatment_summary", lambda w: w.patient.pk), READ),
    "patients/<int:pk>/treatment-end/": page(r("treatment_end", lambda w: w.patient.pk), EDIT, EDIT),
    "patients/<int:pk>/subsequent-therapy/new/": page(r("subsequent_therapy_add", lambda w: w.patient.pk), EDIT, EDIT),
    "patients/<int:pk>/subsequent-therapy/<int:therapy_pk>/edit/": page(
        r("subsequent_therapy_edit", lambda w: w.patient.pk, lambda w: w.therapy.pk), EDIT, EDIT
    ),
    "patients/<int:pk>/follow-up/new/": page(r("follow_up_add", lambda w: w.patient.pk), EDIT, EDIT),
    "patients/<int:pk>/death/": page(r("death_record", lambda w: w.patient.pk), EDIT, EDIT),
    # Visits, labs, supportive care, responses
    "patients/<int:pk>/visits/": page(r("visit_calendar", lambda w: w.patient.pk), READ),
    "patients/<int:pk>/visits/unscheduled/": page(
        r("visit_unscheduled_add", lambda w: w.patient.pk), POST_ONLY, "L 302 302 403 403 404"
    ),
    "visits/<int:pk>/not-done/": page(r("visit_not_done", lambda w: w.visit.pk), POST_ONLY, "L 302 302 403 403 404"),
    "worklist/": page(r("worklist"), ALL, hidden_from_other=True),
    "visits/<int:pk>/labs/": page(r("lab_panel_edit", lambda w: w.visit.pk), READ, EDIT),
    "patients/<int:pk>/supportive-care/": page(r("supportive_care", lambda w: w.patient.pk), READ, EDIT),
    "patients/<int:pk>/responses/": page(r("patient_responses", lambda w: w.patient.pk), READ),
    "responses/<int:pk>/confirm/": page(
        r("response_confirm", lambda w: w.response.pk), POST_ONLY, "L 302 302 403 403 404"
    ),
    # Adverse events
    "patients/<int:pk>/adverse-events/": page(r("ae_list", lambda w: w.patient.pk), READ),
    "patients/<int:pk>/adverse-events/new/": page(r("ae_create", lambda w: w.patient.pk), EDIT, EDIT),
    "adverse-events/<int:pk>/edit/": page(r("ae_edit", lambda w: w.ae.pk), EDIT, EDIT),
    "adverse-events/suggestions/<int:pk>/accept/": page(
        r("ae_suggestion_accept", lambda w: w.suggestion.pk), EDIT, EDIT
    ),
    "adverse-events/suggestions/<int:pk>/dismiss/": page(
        r("ae_suggestion_dismiss", lambda w: w.suggestion.pk), POST_ONLY, "L 302 302 403 403 404"
    ),
    "ctcae-terms/": page(lambda w: reverse("ctcae_term_search") + "?q=neutro", ALL),
    # Study report
    "report/": page(r("study_report"), ALL, hidden_from_other=True),
    "report.json": page(r("study_report_json"), ALL, hidden_from_other=True),
    "report/plots/<slug:name>.png": page(r("study_report_plot", "km"), ALL),
    "patients/<int:pk>/trajectories/": page(r("patient_trajectories", lambda w: w.patient.pk), READ),
    "patients/<int:pk>/trajectories/<slug:code>.png": page(
        r("patient_trajectory_plot", lambda w: w.patient.pk, "FERRITIN"), READ
    ),
    # Notifications
    "notifications/": page(r("notification_list"), ALL, "L 302 302 302 302 302"),
    # PDFs and exports
    "patients/<int:pk>/documents/": page(r("patient_documents", lambda w: w.patient.pk), READ),
    "patients/<int:pk>/documents/generate/": page(
        r("document_generate", lambda w: w.patient.pk), "L 405 405 405 405 405", "L 302 302 302 302 404"
    ),
    "documents/<int:pk>/status/": page(r("document_status", lambda w: w.document.pk), READ),
    "documents/<int:pk>/download/": page(r("document_download", lambda w: w.document.pk), READ),
    "exports/": page(r("exports_home"), ALL),
    "exports/blank-book/": page(r("blank_book_generate"), "L 405 405 405 405 405", "L 302 302 302 302 302"),
    "exports/study-report/": page(r("study_report_generate"), "L 405 405 405 405 405", "L 302 302 302 302 302"),
    "exports/csv.zip": page(r("csv_zip_download"), "L 403 403 200 200 403"),
    "exports/odm.xml": page(r("odm_download"), "L 403 403 200 200 403"),
    # Audit trail
    "audit/": page(r("audit_study"), "L 403 403 200 200 403"),
    "audit/security/": page(r("audit_security"), "L 403 403 200 200 403"),
    "audit/<str:label>/<int:pk>/": page(r("audit_record", "patients.patient", lambda w: w.patient.pk), READ),
    "patients/<int:pk>/audit/": page(r("audit_patient", lambda w: w.patient.pk), READ),
    # Queries: monitors and data managers raise and close them, the site answers
    "queries/": page(r("query_list"), ALL, hidden_from_other=True),
    "queries/export.csv": page(r("query_export"), ALL, hidden_from_other=True),
    "queries/<int:pk>/": page(r("query_detail", lambda w: w.query.pk), READ),
    "queries/<int:pk>/<str:action>/": page(
        r("query_action", lambda w: w.query.pk, "answer"), "L 405 405 405 405 405", "L 400 400 403 403 404"
    ),
    "patients/<int:pk>/queries/": page(
        r("patient_queries", lambda w: w.patient.pk), READ, "L 403 403 400 400 404", body={"text": ""}
    ),
    # Review: source data verification, signatures, locks
    "patients/<int:pk>/review/": page(
        r("patient_review", lambda w: w.patient.pk), READ, "L 403 403 403 302 404", body={"action": "lock"}
    ),
    "matrix/": page(r("study_matrix"), ALL, hidden_from_other=True),
    "review/forms/<str:label>/<int:pk>/lock/": page(
        r("record_lock", "assessments.labpanel", lambda w: w.panel.pk),
        "L 405 405 405 405 405",  # the role is checked on the POST
        "L 403 403 403 302 404",
        body={"action": "lock", "level": "lock", "reason": "Final"},
    ),
    # REST API
    # The schema and its documentation pages: signed-in users only (the pages send a browser to sign in).
    "api/v1/schema/": api(lambda w: reverse("api_schema"), API_LIST),
    "api/v1/docs/": page(lambda w: reverse("api_docs"), ALL),
    "api/v1/redoc/": page(lambda w: reverse("api_redoc"), ALL),
    "api/v1/auth/token/": api(lambda w: reverse("api_token"), "405 405 405 405 405 405", "400 400 400 400 400 400"),
    "api/v1/sites/": api(lambda w: reverse("api_sites"), API_LIST, hidden_from_other=True),
    "api/v1/analytes/": api(lambda w: reverse("api_analytes"), API_LIST),
    "api/v1/ctcae-terms/": api(lambda w: reverse("api_ctcae_terms") + "?search=neutro", API_LIST),
    "api/v1/^screenings/$": api(r("screening-list"), API_LIST, API_CREATE, hidden_from_other=True),
    "api/v1/^screenings/(?P<pk>[^/.]+)/$": api(
        r("screening-detail", lambda w: w.screening.pk), API_READ, API_CHANGE, method="patch"
    ),
    "api/v1/^screenings/(?P<pk>[^/.]+)/enroll/$": api(
        r("screening-enroll", lambda w: w.screening.pk), "401 405 405 405 405 405", "401 400 400 403 403 404"
    ),
    "api/v1/^patients/$": api(r("patient-list"), API_LIST, hidden_from_other=True),
    "api/v1/^patients/(?P<pk>[^/.]+)/$": api(r("patient-detail", lambda w: w.patient.pk), API_READ),
    "api/v1/^visits/$": api(r("visit-list"), API_LIST, API_CREATE, hidden_from_other=True),
    "api/v1/^visits/(?P<pk>[^/.]+)/$": api(r("visit-detail", lambda w: w.visit.pk), API_READ),
    "api/v1/^visits/(?P<pk>[^/.]+)/not-done/$": api(
        r("visit-not-done", lambda w: w.visit.pk), "401 405 405 405 405 405", "401 400 400 403 403 404"
    ),
    "api/v1/^lab-panels/$": api(r("labpanel-list"), API_LIST, API_CREATE, hidden_from_other=True),
    "api/v1/^lab-panels/(?P<pk>[^/.]+)/$": api(
        r("labpanel-detail", lambda w: w.panel.pk), API_READ, API_CHANGE, method="patch"
    ),
    "api/v1/^response-assessments/$": api(r("responseassessment-list"), API_LIST, hidden_from_other=True),
    "api/v1/^response-assessments/(?P<pk>[^/.]+)/$": api(
        r("responseassessment-detail", lambda w: w.response.pk), API_READ
    ),
    "api/v1/^response-assessments/(?P<pk>[^/.]+)/confirm/$": api(
        r("responseassessment-confirm", lambda w: w.response.pk),
        "401 405 405 405 405 405",
        "401 400 400 403 403 404",
    ),
    "api/v1/^adverse-events/$": api(r("adverseevent-list"), API_LIST, API_CREATE, hidden_from_other=True),
    "api/v1/^adverse-events/(?P<pk>[^/.]+)/$": api(
        r("adverseevent-detail", lambda w: w.ae.pk), API_READ, API_CHANGE, method="patch"
    ),
    "api/v1/^doses/$": api(r("dose-list"), API_LIST, API_CREATE, hidden_from_other=True),
    "api/v1/^doses/batch/$": api(r("dose-batch"), "401 405 405 405 405 405", API_CREATE),
    "api/v1/^doses/(?P<pk>[^/.]+)/$": api(r("dose-detail", lambda w: w.dose.pk), API_READ, API_CHANGE, method="patch"),
    "api/v1/^treatment-ends/$": api(r("treatmentend-list"), API_LIST, API_CREATE, hidden_from_other=True),
    "api/v1/^treatment-ends/(?P<pk>[^/.]+)/$": api(
        r("treatmentend-detail", lambda w: w.end.pk), API_READ, API_CHANGE, method="patch"
    ),
    "api/v1/^follow-ups/$": api(r("followup-list"), API_LIST, API_CREATE, hidden_from_other=True),
    "api/v1/^follow-ups/(?P<pk>[^/.]+)/$": api(
        r("followup-detail", lambda w: w.follow_up.pk), API_READ, API_CHANGE, method="patch"
    ),
    "api/v1/report/": api(lambda w: reverse("api_report"), API_LIST, hidden_from_other=True),
    "api/v1/^supportive-care/$": api(r("supportivecare-list"), API_LIST, API_CREATE, hidden_from_other=True),
    "api/v1/^supportive-care/(?P<pk>[^/.]+)/$": api(
        r("supportivecare-detail", lambda w: w.support.pk), API_READ, API_CHANGE, method="patch"
    ),
    "api/v1/^subsequent-therapies/$": api(r("subsequenttherapy-list"), API_LIST, API_CREATE, hidden_from_other=True),
    "api/v1/^subsequent-therapies/(?P<pk>[^/.]+)/$": api(
        r("subsequenttherapy-detail", lambda w: w.therapy.pk), API_READ, API_CHANGE, method="patch"
    ),
    "api/v1/^deaths/$": api(r("death-list"), API_LIST, API_CREATE, hidden_from_other=True),
    "api/v1/^deaths/(?P<pk>[^/.]+)/$": api(
        r("death-detail", lambda w: w.death.pk), API_READ, API_CHANGE, method="patch"
    ),
    # Queries: monitors and data managers raise, close and re-open them; the site answers.
    "api/v1/^queries/$": api(r("dataquery-list"), API_LIST, "401 403 403 400 400 403", hidden_from_other=True),
    "api/v1/^queries/(?P<pk>[^/.]+)/$": api(r("dataquery-detail", lambda w: w.query.pk), API_READ),
    "api/v1/^queries/(?P<pk>[^/.]+)/answer/$": api(
        r("dataquery-answer", lambda w: w.query.pk), "401 405 405 405 405 405", "401 400 400 403 403 404"
    ),
    "api/v1/^queries/(?P<pk>[^/.]+)/close/$": api(
        r("dataquery-close", lambda w: w.query.pk), "401 405 405 405 405 405", "401 403 403 400 400 404"
    ),
    "api/v1/^queries/(?P<pk>[^/.]+)/reopen/$": api(
        r("dataquery-reopen", lambda w: w.query.pk), "401 405 405 405 405 405", "401 403 403 400 400 404"
    ),
    "api/v1/^queries/(?P<pk>[^/.]+)/messages/$": api(
        r("dataquery-messages", lambda w: w.query.pk), "401 405 405 405 405 405", "401 400 400 400 400 404"
    ),
    # A bulk import is the importer's own: only they poll it.
    "api/v1/^imports/$": api(r("import-list"), "401 405 405 405 405 405", "401 202 202 403 403 202"),
    "api/v1/^imports/(?P<pk>[^/.]+)/$": api(r("import-detail", lambda w: w.import_job.pk), "401 200 404 404 404 404"),
}

# Every router URL also answers with a format suffix (…/screenings.json): the same view and checks.
FORMAT_SUFFIX = r"\.(?P<format>[a-z0-9]+)/?$"
for _route, _row in list(TABLE.items()):
    if _route.startswith("api/v1/^") and _route.endswith("/$"):
        TABLE[_route.removesuffix("/$") + FORMAT_SUFFIX] = Row(
            url=lambda w, base=_row.url: base(w).rstrip("/") + ".json",
            get=_row.get,
            api=True,
            hidden_from_other=_row.hidden_from_other,
        )


def url_routes() -> set[str]:
    """The route of every URL pattern of config.urls, includes walked recursively."""
    routes: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if route in EXCLUDED:
                    continue
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route not in EXCLUDED:
                routes.add(route)

    walk(get_resolver().url_patterns, "")
    return routes


def test_every_url_pattern_has_a_row_and_every_row_a_pattern():
    routes = url_routes()
    assert sorted(routes - TABLE.keys()) == [], "URL patterns without a row in the access table"
    assert sorted(TABLE.keys() - routes) == [], "rows of the access table without a URL pattern"
    assert all(len(row.get.split()) == len(ACTORS) for row in TABLE.values())
    assert all(row.write is None or len(row.write.split()) == len(ACTORS) for row in TABLE.values())


def _id(route: str) -> str:
    return route.replace("api/v1/^", "api/").replace("(?P<pk>[^/.]+)", "<pk>").replace(FORMAT_SUFFIX, ".<format>")


CASES = [
    pytest.param(route, method, actor, expected, id=f"{_id(route)}|{method}|{actor}")
    for route, row in TABLE.items()
    for method, statuses in (("get", row.get), (row.method, row.write))
    if statuses is not None
    for actor, expected in zip(ACTORS, statuses.split(), strict=True)
]


# The objects the URLs name, built once for the module


@dataclass
class World:
    users: dict
    tokens: dict
    patient: object
    screening: object  # screened and eligible, not enrolled
    visit: object
    panel: object
    response: object
    ae: object
    suggestion: object
    dose: object
    end: object
    therapy: object
    follow_up: object
    support: object
    death: object
    query: object
    document: object
    import_job: object


def _build(media_root: Path) -> World:
    from api.models import ImportJob
    from assessments.models import CtcaeTerm, LabAESuggestion, ResponseAssessment, Visit
    from assessments.services.adverse_events import adverse_event_record
    from assessments.services.labs import Measurement, lab_panel_save, supportive_care_record
    from assessments.services.responses import response_assess_patient
    from crf.catalogue import target_of
    from exports.models import GeneratedDocument
    from patients.models import SubsequentTherapy
    from patients.services import (
        death_record,
        dose_record,
        follow_up_record,
        screening_create,
        subsequent_therapy_record,
        treatment_end_record,
    )
    from queries.services import query_raise

    trial = Trial.objects.get(registry_id="ChiCTR2000029977")
    site_a = Site.objects.get(trial=trial, code="BCH")
    site_b = Site.objects.create(trial=trial, code="SCH", name="Second Children's Hospital", time_zone="Asia/Shanghai")
    users = {
        "clinician": make_user("clin_a", Role.CLINICIAN, site_a),
        "coordinator": make_user("coord_a", Role.COORDINATOR, site_a),
        "monitor": make_user("mon_a", Role.MONITOR, site_a),
        "data_manager": make_user("dm_a", Role.DATA_MANAGER, site_a),
        "other_site": make_user("clin_b", Role.CLINICIAN, site_b),
    }
    clinician = users["clinician"]
    patient = enroll_child(site_a, clinician)
    screening = screening_create(site=site_a, data=eligible_data(initials="QRS"), user=clinician)

    visit = Visit.objects.get(patient=patient, definition__code="D7")
    when = datetime.combine(DAY0 + timedelta(days=7), time(8), tzinfo=ZONE)
    panel = lab_panel_save(
        visit=visit,
        sampled_at=when,
        values={
            "FERRITIN": Measurement(Decimal("2400"), "µg/L", when),
            "PLAT": Measurement(Decimal("15"), "10^9/L", when),
        },
        panel_data={},
        user=clinician,
        today=TODAY,
    ).panel
    response_assess_patient(patient_id=patient.pk, today=TODAY)
    response = ResponseAssessment.objects.filter(patient=patient).order_by("study_day").first()
    term = CtcaeTerm.objects.get(code="IN102")
    ae = adverse_event_record(
        patient=patient,
        data={
            "term": term,
            "grade": 3,
            "onset_date": DAY0 + timedelta(days=3),
            "relationship": "possible",
            "action_taken": "none",
            "outcome": "recovering",
        },
        user=clinician,
    )
    suggestion = LabAESuggestion.objects.filter(patient=patient, status="pending").first()
    if suggestion is None:
        result = panel.results.get(analyte="PLAT")
        suggestion = LabAESuggestion.objects.create(
            patient=patient, lab_result=result, term=term, grade=4, explanation="Platelets 15 x 10^9/L"
        )
    dose = dose_record(
        patient=patient,
        treatment_day=1,
        slot="am",
        status="given",
        administered_at=datetime.combine(DAY0, time(8), tzinfo=ZONE),
        amount_mg=Decimal("5"),
        reason="",
        user=clinician,
    )
    end = treatment_end_record(
        patient=patient, outcome="discontinued", reason="toxicity", last_dose_date=DAY0 + timedelta(3), user=clinician
    )
    therapy = subsequent_therapy_record(
        patient=patient,
        regimen=SubsequentTherapy.Regimen.HLH_1994,
        start_date=DAY0 + timedelta(4),
        etoposide=True,
        dexamethasone=True,
        user=clinician,
    )
    follow_up = follow_up_record(
        patient=patient, assessed_on=DAY0 + timedelta(days=29), vital_status="alive", user=clinician
    )
    support = supportive_care_record(
        patient=patient,
        kind="gcsf",
        product="",
        given_on=DAY0 + timedelta(days=2),
        detail="",
        user=clinician,
        today=TODAY,
    )
    death = death_record(patient=patient, date_of_death=DAY0 + timedelta(days=40), cause="Sepsis", user=clinician)
    query = query_raise(
        patient=patient, target=target_of(patient), field="", text="Check weight", user=users["monitor"]
    )

    relative = "exports/casebook-matrix.pdf"
    (media_root / "exports").mkdir(parents=True, exist_ok=True)
    (media_root / relative).write_bytes(b"%PDF-1.4\n%matrix\n")
    document = GeneratedDocument.objects.create(
        kind=GeneratedDocument.Kind.CASEBOOK,
        patient=patient,
        requested_by=clinician,
        status=GeneratedDocument.Status.DONE,
        progress=100,
        file_path=relative,
        sha256="0" * 64,
        data_version="matrix",
    )
    import_job = ImportJob.objects.create(bundle={}, created_by=clinician)
    tokens = {actor: Token.objects.create(user=user).key for actor, user in users.items()}
    return World(
        users=users,
        tokens=tokens,
        patient=patient,
        screening=screening,
        visit=visit,
        panel=panel,
        response=response,
        ae=ae,
        suggestion=suggestion,
        dose=dose,
        end=end,
        therapy=therapy,
        follow_up=follow_up,
        support=support,
        death=death,
        query=query,
        document=document,
        import_job=import_job,
    )


@pytest.fixture(scope="module")
def media_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, media_root):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build(media_root)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _media(settings, media_root):
    settings.MEDIA_ROOT = media_root


def _client(world: World, actor: str, *, api_row: bool) -> Client:
    client = Client(raise_request_exception=False)
    if actor == "anonymous":
        return client
    if api_row:
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {world.tokens[actor]}"
    else:
        client.force_login(world.users[actor])
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "method", "actor", "expected"), CASES)
def test_access(world, route, method, actor, expected):
    row = TABLE[route]
    url = row.url(world)
    client = _client(world, actor, api_row=row.api)
    if method == "get":
        response = client.get(url)
    elif row.api:
        response = getattr(client, method)(url, row.body or {}, content_type="application/json")
    else:
        response = getattr(client, method)(url, row.body or {})
    assert response.status_code < 500, f"{method.upper()} {url} as {actor}: server error"
    if expected == "L":
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), (
            f"{method.upper()} {url} as {actor}: {response.status_code}, expected a redirect to sign in"
        )
    else:
        assert response.status_code == int(expected), (
            f"{method.upper()} {url} as {actor}: {response.status_code}, expected {expected}"
        )
    if actor == "other_site" and row.hidden_from_other and response.status_code == 200 and method == "get":
        _assert_nothing_of_site_a(response, world, api_row=row.api)


def _assert_nothing_of_site_a(response, world: World, *, api_row: bool) -> None:
    text = response.content.decode()
    secrets = (world.patient.subject_number, world.patient.screening.screening_number, world.screening.screening_number)
    for secret in secrets:
        assert secret not in text, f"another site's user sees {secret}"
    if api_row:
        assert '"BCH' not in text, "another site's user sees site A (its code or subject numbers)"
        data = response.json()
        if isinstance(data, dict) and "count" in data:
            assert data["count"] == 0, "another site's user lists site A's records"


@pytest.mark.django_db
def test_the_admin_is_for_staff_only(client, world):
    """The excluded admin: signed-in trial users without staff status are sent to its sign-in."""
    for actor in ("clinician", "data_manager"):
        client.force_login(world.users[actor])
        response = client.get("/admin/patients/screening/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_a_deleted_records_trail_stays_at_its_site(client, world):
    """A removed lab value's history is the site's: another site's monitor may not read it."""
    result = world.panel.results.get(analyte="PLAT")
    result.ae_suggestions.all().delete()
    pk = result.pk
    result.delete()
    url = reverse("audit_record", args=["assessments.labresult", pk])
    monitor_b = make_user("mon_b", Role.MONITOR, Site.objects.get(code="SCH"))
    client.force_login(monitor_b)
    assert client.get(url).status_code == 404
    client.force_login(world.users["monitor"])
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_the_security_log_shows_the_readers_sites_only(client, world):
    monitor_b = make_user("mon_b", Role.MONITOR, Site.objects.get(code="SCH"))
    client.force_login(world.users["clinician"])  # a sign-in of site A's clinician
    client.force_login(monitor_b)
    page = client.get(reverse("audit_security")).content.decode()
    assert "mon_b" in page and "clin_a" not in page
    client.force_login(world.users["monitor"])
    assert "clin_a" in client.get(reverse("audit_security")).content.decode()
