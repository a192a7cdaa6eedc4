"""Manual data queries: open -> answered (site) -> closed (monitor, data manager) or re-opened."""

import pytest
from django.urls import reverse

from crf.catalogue import target_of
from crf.models import DataQuery
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, user):
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def raise_query(client, monitor, patient):
    login(client, monitor)
    return client.post(
        reverse("patient_queries", args=[patient.pk]),
        {"target": target_of(patient.screening), "field": "ferritin_ug_l", "text": "Ferritin 3200: source says 3020?"},
    )


def test_full_lifecycle_with_conversation(client, monitor, clinician, patient):
    assert raise_query(client, monitor, patient).status_code == 302
    query = DataQuery.objects.get(origin="manual")
    assert (query.status, query.raised_by_role, query.field) == ("open", "monitor", "ferritin_ug_l")
    login(client, clinician)
    client.post(reverse("query_action", args=[query.pk, "answer"]), {"text": "Checked: 3200 is correct."})
    query.refresh_from_db()
    assert query.status == "answered"
    login(client, monitor)
    client.post(reverse("query_action", args=[query.pk, "reopen"]), {"text": "Please attach the lab sheet."})
    query.refresh_from_db()
    assert query.status == "open"
    login(client, clinician)
    client.post(reverse("query_action", args=[query.pk, "answer"]), {"text": "Uploaded to the ISF."})
    login(client, monitor)
    client.post(reverse("query_action", args=[query.pk, "close"]), {"text": "Verified against source."})
    query.refresh_from_db()
    assert query.status == "closed" and query.closed_by == monitor
    assert list(query.messages.values_list("action", flat=True)) == ["raise", "answer", "reopen", "answer", "close"]
    page = client.get(reverse("query_detail", args=[query.pk])).content.decode()
    assert "Verified against source." in page and "Uploaded to the ISF." in page


def test_only_the_raisers_roles_close_and_only_the_site_answers(client, monitor, clinician, coordinator, patient):
    raise_query(client, monitor, patient)
    query = DataQuery.objects.get(origin="manual")
    login(client, coordinator)
    assert client.post(reverse("query_action", args=[query.pk, "close"]), {"text": "fine"}).status_code == 403
    login(client, monitor)
    assert client.post(reverse("query_action", args=[query.pk, "answer"]), {"text": "me"}).status_code == 403
    query.refresh_from_db()
    assert query.status == "open"


def test_the_site_cannot_raise_and_other_sites_see_nothing(client, clinician, clinician_b, monitor, patient):
    assert raise_query(client, clinician, patient).status_code == 403
    raise_query(client, monitor, patient)
    query = DataQuery.objects.get(origin="manual")
    login(client, clinician_b)
    assert client.get(reverse("query_detail", args=[query.pk])).status_code == 404
    assert client.get(reverse("patient_queries", args=[patient.pk])).status_code == 404
    assert patient.subject_number not in client.get(reverse("query_list")).content.decode()


def test_query_list_counts_open_queries_by_site_patient_and_form(client, monitor, patient):
    raise_query(client, monitor, patient)
    page = client.get(reverse("query_list"), {"status": "open"}).content.decode()
    assert f"{patient.subject_number}: 1" in page
    assert "Screening: 1" in page  # the form by its name


def test_a_comment_keeps_the_status_and_a_closed_query_takes_none(client, monitor, clinician, patient):
    raise_query(client, monitor, patient)
    query = DataQuery.objects.get(origin="manual")
    login(client, clinician)
    client.post(reverse("query_action", args=[query.pk, "comment"]), {"text": "Looking into it."})
    query.refresh_from_db()
    assert query.status == "open"
    login(client, monitor)
    client.post(reverse("query_action", args=[query.pk, "close"]), {"text": "Not needed."})
    login(client, clinician)
    client.post(reverse("query_action", args=[query.pk, "comment"]), {"text": "Late."})
    assert list(query.messages.values_list("action", "text")) == [
        ("raise", "Ferritin 3200: source says 3020?"),
        ("comment", "Looking into it."),
        ("close", "Not needed."),
    ]


def test_queries_name_their_record_as_a_reader_would(client, monitor, patient, django_assert_max_num_queries):
    from assessments.models import Visit
    from queries.selectors import target_labels

    raise_query(client, monitor, patient)
    visit = Visit.objects.filter(patient=patient).order_by("planned_day").last()
    screening = patient.screening
    expected = {
        target_of(screening): f"Screening: {screening.screening_number} ({screening.initials})",
        target_of(visit): f"Visit: {patient.subject_number} – {visit.name}",
        "assessments.visit:999999": None,  # deleted: no label, the target is shown
    }
    with django_assert_max_num_queries(2):  # one per kind of record
        labels = target_labels(expected)
    assert labels == {k: v for k, v in expected.items() if v is not None}
    for url in (reverse("patient_queries", args=[patient.pk]), reverse("query_list")):
        assert expected[target_of(screening)] in client.get(url).content.decode()
    query = DataQuery.objects.get(origin="manual")
    assert (
        f"Query on {expected[target_of(screening)]}"
        in client.get(reverse("query_detail", args=[query.pk])).content.decode()
    )
