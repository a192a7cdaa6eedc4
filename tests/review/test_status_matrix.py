"""The study status matrix: each cell's status and its precedence, the site's day, a fixed
number of statements for any number of patients, and site scoping of the page."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import Visit
from assessments.services.labs import Measurement, lab_panel_save
from assessments.services.visits import visit_not_done_record
from crf import catalogue
from crf.edit_checks import target_of
from crf.versions import history_digest, history_digests
from patients.services import death_record, treatment_end_record
from queries.services import query_raise
from review.selectors import CellStatus, matrix_columns, matrix_rows, study_matrix
from review.services import form_lock_set, lock_set, sdv_mark, signature_sign
from tests.conftest import DAY0, PASSWORD, enroll_child, make_user
from trial.models import Role

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Asia/Shanghai")  # the BCH site's zone
# 12:00 in Beijing on day 7: the day-7 window (days 6 to 8) is open, the daily visits of
# days 1 to 6 have passed.
NOW = datetime.combine(DAY0 + timedelta(days=7), time(12), tzinfo=ZONE).astimezone(UTC)
TODAY = DAY0 + timedelta(days=7)

DAILY = {"TEMP": ("38.5", "°C"), "HGB": ("95", "g/L"), "NEUT": ("1.2", "10^9/L"), "PLAT": ("120", "10^9/L")}

L, Q, S, V = CellStatus.LOCKED, CellStatus.QUERY, CellStatus.SIGNED, CellStatus.VERIFIED
W, INC, C, N = CellStatus.OUT_OF_WINDOW, CellStatus.INCOMPLETE, CellStatus.COMPLETE, CellStatus.NOT_STARTED


@pytest.fixture
def dm(site_a):
    return make_user("dm_matrix", Role.DATA_MANAGER, site_a)


def visit_of(patient, code: str) -> Visit:
    return Visit.objects.get(patient=patient, definition__code=code)


def labs(patient, user, code: str, *, day: int, values=DAILY):
    """The lab panel of a visit, sampled at 08:00 on study day `day` (its visit date)."""
    when = datetime.combine(DAY0 + timedelta(days=day), time(8), tzinfo=ZONE)
    return lab_panel_save(
        visit=visit_of(patient, code),
        sampled_at=when,
        values={c: Measurement(Decimal(v), unit, when) for c, (v, unit) in values.items()},
        panel_data={},
        user=user,
        today=TODAY,
    ).panel


def cells(patient, *, now=NOW) -> dict[str, object]:
    definitions, columns = matrix_columns(trial=patient.site.trial)
    (row,) = matrix_rows(patients=[patient], definitions=definitions, columns=columns, now=now)
    return {cell.column.key: cell for cell in row.cells}


def status_of(patient, key: str, *, now=NOW):
    return cells(patient, now=now)[key].status


def test_each_status_and_its_precedence(site_a, clinician, monitor, dm, trial):
    """One patient per case; the cell looked at and its status written by hand."""
    made = {}

    p = made["nothing entered, window open"] = enroll_child(site_a, clinician)
    p = made["labs with values missing"] = enroll_child(site_a, clinician)
    labs(p, clinician, "D7", day=7, values={"FERRITIN": ("2400", "µg/L")})
    p = made["daily labs all there"] = enroll_child(site_a, clinician)
    labs(p, clinician, "D1", day=1)
    p = made["visit recorded as not done"] = enroll_child(site_a, clinician)
    visit = visit_of(p, "D1")
    visit_not_done_record(visit_id=visit.pk, reason="Child transferred", expected_version=visit.version, user=clinician)
    p = made["done a day late and incomplete"] = enroll_child(site_a, clinician)
    labs(p, clinician, "D3", day=4)  # day 3 has no window: late; its HLH markers are missing too
    p = made["a query on the panel"] = enroll_child(site_a, clinician)
    panel = labs(p, clinician, "D1", day=1)
    query_raise(patient=p, target=target_of(panel), field="", text="Source shows 96 g/L", user=monitor)
    p = made["verified"] = enroll_child(site_a, clinician)
    sdv_mark(record=labs(p, clinician, "D1", day=1), user=monitor)
    p = made["verified, then corrected"] = enroll_child(site_a, clinician)
    panel = labs(p, clinician, "D1", day=1)
    sdv_mark(record=panel, user=monitor)
    lab_panel_save(
        visit=visit_of(p, "D1"),
        sampled_at=panel.sampled_at,
        values={
            c: Measurement(Decimal(v), unit, panel.sampled_at)
            for c, (v, unit) in {**DAILY, "HGB": ("96", "g/L")}.items()
        },
        panel_data={},
        user=clinician,
        expected_version=panel.version,
        reason_for_change="Transcription error",
        today=TODAY,
    )
    p = made["verified and signed"] = enroll_child(site_a, clinician)
    sdv_mark(record=labs(p, clinician, "D1", day=1), user=monitor)
    signature_sign(patient=p, user=clinician, password=PASSWORD, visit=visit_of(p, "D1"))
    p = made["signed, then changed"] = enroll_child(site_a, clinician)
    panel = labs(p, clinician, "D1", day=1)
    signature_sign(patient=p, user=clinician, password=PASSWORD, visit=visit_of(p, "D1"))
    lab_panel_save(
        visit=visit_of(p, "D1"),
        sampled_at=panel.sampled_at,
        values={
            c: Measurement(Decimal(v), unit, panel.sampled_at)
            for c, (v, unit) in {**DAILY, "PLAT": ("121", "10^9/L")}.items()
        },
        panel_data={},
        user=clinician,
        expected_version=panel.version,
        reason_for_change="Late correction",
        today=TODAY,
    )
    p = made["signed with a query open"] = enroll_child(site_a, clinician)
    panel = labs(p, clinician, "D1", day=1)
    signature_sign(patient=p, user=clinician, password=PASSWORD, visit=visit_of(p, "D1"))
    query_raise(patient=p, target=target_of(panel), field="", text="Check platelets", user=monitor)
    p = made["visit locked, query still open"] = enroll_child(site_a, clinician)
    panel = labs(p, clinician, "D1", day=1)
    query_raise(patient=p, target=target_of(panel), field="", text="Check", user=monitor)
    lock_set(trial=trial, scope="visit", level="lock", user=dm, reason="Clean", patient=p, visit=visit_of(p, "D1"))
    p = made["the panel frozen on its own page"] = enroll_child(site_a, clinician)
    form_lock_set(record=labs(p, clinician, "D1", day=1), level="freeze", user=dm, reason="Interim")

    looked_at = {
        "nothing entered, window open": ("D7", N),
        "labs with values missing": ("D7", INC),
        "daily labs all there": ("D1", C),
        "visit recorded as not done": ("D1", C),
        "done a day late and incomplete": ("D3", Q),  # the out-of-window edit check raised its query
        "a query on the panel": ("D1", Q),
        "verified": ("D1", V),
        "verified, then corrected": ("D1", C),
        "verified and signed": ("D1", S),
        "signed, then changed": ("D1", C),
        "signed with a query open": ("D1", Q),
        "visit locked, query still open": ("D1", L),
        "the panel frozen on its own page": ("D1", L),
    }
    found = {name: status_of(made[name], key) for name, (key, _) in looked_at.items()}
    assert found == {name: expected for name, (_, expected) in looked_at.items()}

    # Every status that holds is kept, in precedence order, for the cell's title.
    locked = cells(made["visit locked, query still open"])["D1"]
    assert locked.flags == (L, Q, C)
    late = cells(made["done a day late and incomplete"])["D3"]
    assert late.flags == (Q, W, INC)
    # A daily visit whose day passed without data is out of window; one still ahead is not started.
    first = cells(made["nothing entered, window open"])
    assert (first["D2"].status, first["D14"].status, first["FU182"].status) == (W, N, N)


def test_the_patients_own_forms(site_a, clinician, monitor, trial):
    quiet = enroll_child(site_a, clinician)
    ended = enroll_child(site_a, clinician)
    treatment_end_record(
        patient=ended, outcome="discontinued", reason="toxicity", last_dose_date=DAY0 + timedelta(3), user=clinician
    )
    death_record(patient=ended, date_of_death=DAY0 + timedelta(days=5), cause="Sepsis", user=clinician)
    sdv_mark(record=ended.screening, user=monitor)
    query_raise(patient=ended, target=target_of(ended), field="", text="Check weight", user=monitor)

    first = cells(quiet)
    assert [first[k].status for k in ("patients.screening", "patients.patient", "patients.treatmentend")] == [C, C, N]
    assert first["patients.death"].status is None  # no death is no missing form
    second = cells(ended)
    assert [second[k].status for k in ("patients.screening", "patients.patient", "patients.treatmentend")] == [V, Q, C]
    assert second["patients.death"].status is C
    assert second["patients.screening"].url == reverse("screening_detail", args=[ended.screening.pk])
    assert second["patients.death"].url == reverse("treatment_summary", args=[ended.pk])
    assert first["D7"].url == reverse("lab_panel_edit", args=[visit_of(quiet, "D7").pk])


def test_out_of_window_is_judged_on_the_sites_day(site_a, clinician, monitor):
    """Day 2 has no window. At 20:00 UTC on day 2 it is already day 3 in Beijing: missed; at
    15:00 UTC (23:00 in Beijing) day 2 is still today. The server's (UTC) date is day 2 both times."""
    patient = enroll_child(site_a, clinician)
    day2 = DAY0 + timedelta(days=2)
    late_evening = datetime.combine(day2, time(15), tzinfo=UTC)
    after_midnight = datetime.combine(day2, time(20), tzinfo=UTC)
    assert status_of(patient, "D2", now=late_evening) is N
    assert status_of(patient, "D2", now=after_midnight) is W


def test_the_digests_of_many_equal_each_ones_digest(site_a, clinician):
    patients = [enroll_child(site_a, clinician) for _ in range(3)]
    labs(patients[0], clinician, "D1", day=1)
    labs(patients[1], clinician, "D7", day=7, values={"FERRITIN": ("2400", "µg/L")})
    forms = catalogue.signed_forms()
    visits = [visit_of(p, code) for p in patients for code in ("D1", "D7")]
    assert history_digests(forms=forms, visit_ids=[v.pk for v in visits]) == {
        v.pk: history_digest(forms=forms, patient_id=v.patient_id, visit_id=v.pk) for v in visits
    }
    assert history_digests(forms=forms, patient_ids=[p.pk for p in patients]) == {
        p.pk: history_digest(forms=forms, patient_id=p.pk) for p in patients
    }


def _busy_patients(count: int, *, site, clinician, monitor, dm, trial):
    """Patients with a bit of everything: labs, a query, a verification, a signature, a lock."""
    for number in range(count):
        patient = enroll_child(site, clinician)
        panel = labs(patient, clinician, "D1", day=1)
        labs(patient, clinician, "D7", day=7, values={"FERRITIN": ("2400", "µg/L")})
        query_raise(patient=patient, target=target_of(panel), field="", text="Check", user=monitor)
        sdv_mark(record=patient.screening, user=monitor)
        signature_sign(patient=patient, user=clinician, password=PASSWORD, visit=visit_of(patient, "D1"))
        if number % 2:
            signature_sign(patient=patient, user=clinician, password=PASSWORD)
            lock_set(
                trial=trial,
                scope="visit",
                level="freeze",
                user=dm,
                reason="x",
                patient=patient,
                visit=visit_of(patient, "D7"),
            )


def _statements(user, trial, **filters) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        matrix = study_matrix(user=user, trial=trial, now=NOW, **filters)
        rows = list(matrix.page)
    return len(captured), len(rows)


def test_the_matrix_takes_as_many_statements_for_30_patients_as_for_3(site_a, clinician, monitor, dm, trial):
    _busy_patients(3, site=site_a, clinician=clinician, monitor=monitor, dm=dm, trial=trial)
    few, few_rows = _statements(monitor, trial)
    few_q, few_q_rows = _statements(monitor, trial, status=CellStatus.QUERY)
    _busy_patients(27, site=site_a, clinician=clinician, monitor=monitor, dm=dm, trial=trial)
    many, many_rows = _statements(monitor, trial)
    many_q, many_q_rows = _statements(monitor, trial, status=CellStatus.QUERY)
    assert (few_rows, many_rows, few_q_rows, many_q_rows) == (3, 30, 3, 30)
    assert many == few
    assert many_q == few_q


# The page


def test_another_sites_user_sees_only_their_sites_patients(client, site_a, site_b, clinician, clinician_b):
    mine = enroll_child(site_b, clinician_b)
    theirs = enroll_child(site_a, clinician)
    client.force_login(clinician_b)
    response = client.get(reverse("study_matrix"))
    assert response.status_code == 200
    text = response.content.decode()
    assert mine.subject_number in text
    assert theirs.subject_number not in text
    # Asking for the other site by its id shows nothing of it, and says why.
    response = client.get(reverse("study_matrix"), {"site": site_a.pk})
    text = response.content.decode()
    assert theirs.subject_number not in text and mine.subject_number in text
    assert "That site is not one of yours" in text


def test_junk_filters_are_ignored_with_a_message(client, site_a, clinician, monitor):
    patient = enroll_child(site_a, clinician)
    client.force_login(monitor)
    response = client.get(reverse("study_matrix"), {"site": "'; drop", "status": "lost", "page": "x9", "q": "B" * 500})
    assert response.status_code == 200
    text = response.content.decode()
    assert "There is no status “lost”" in text and "That site is not one of yours" in text
    assert patient.subject_number not in text  # the search (cut to 40 characters) matches no one
    response = client.get(reverse("study_matrix"), {"q": patient.subject_number[-3:], "page": "999"})
    assert patient.subject_number in response.content.decode()


def test_a_status_filter_keeps_the_rows_having_it_and_marks_its_cells(client, site_a, clinician, monitor):
    queried = enroll_child(site_a, clinician)
    panel = labs(queried, clinician, "D1", day=1)
    query_raise(patient=queried, target=target_of(panel), field="", text="Check", user=monitor)
    quiet = enroll_child(site_a, clinician)
    client.force_login(monitor)
    text = client.get(reverse("study_matrix"), {"status": "query"}).content.decode()
    assert queried.subject_number in text and quiet.subject_number not in text
    assert text.count("mx-match") == 1
    assert f'href="{reverse("lab_panel_edit", args=[panel.visit_id])}"' in text


def test_the_site_filter_shows_one_of_the_users_sites(client, site_a, site_b, clinician, clinician_b):
    both = make_user("mon_ab", Role.MONITOR, site_a, site_b)
    at_a, at_b = enroll_child(site_a, clinician), enroll_child(site_b, clinician_b)
    client.force_login(both)
    text = client.get(reverse("study_matrix")).content.decode()
    assert at_a.subject_number in text and at_b.subject_number in text
    text = client.get(reverse("study_matrix"), {"site": site_b.pk}).content.decode()
    assert at_b.subject_number in text and at_a.subject_number not in text


def test_pages_go_by_subject_number_and_keep_the_filters(client, site_a, clinician, monitor, monkeypatch):
    monkeypatch.setattr("review.selectors.PAGE_SIZE", 2)
    patients = [enroll_child(site_a, clinician) for _ in range(3)]
    numbers = sorted(p.subject_number for p in patients)
    client.force_login(monitor)
    first = client.get(reverse("study_matrix"), {"site": site_a.pk, "status": "out_of_window"})
    assert [row.patient.subject_number for row in first.context["matrix"].page] == numbers[:2]
    assert f'href="?site={site_a.pk}&amp;status=out_of_window&amp;page=2"' in first.content.decode()
    second = client.get(reverse("study_matrix"), {"site": site_a.pk, "status": "out_of_window", "page": 2})
    assert [row.patient.subject_number for row in second.context["matrix"].page] == numbers[2:]
