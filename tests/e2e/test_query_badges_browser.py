"""The site opens an adverse event a monitor queried and finds each badge beside the field it
is on: a date beside its label, the grade (a group of radio buttons) beside its legend."""

import pytest

from assessments.services.adverse_events import adverse_event_record
from crf.catalogue import target_of
from queries.services import query_raise
from tests.conftest import PASSWORD, enroll_child
from tests.services.test_adverse_events import ae_data

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.e2e]


def test_a_query_on_a_radio_group_sits_beside_its_legend(live_server, page, site_a, clinician, monitor):
    patient = enroll_child(site_a, clinician)
    ae = adverse_event_record(patient=patient, data=ae_data(), user=clinician)
    for field in ("grade", "onset_date"):
        query_raise(patient=patient, target=target_of(ae), field=field, text="Per the chart?", user=monitor)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", clinician.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/adverse-events/{ae.pk}/edit/")
    assert page.locator('#div_id_grade legend [data-placed] [data-query-status="open"]').count() == 1
    assert page.locator('label[for="id_onset_date"] [data-placed] [data-query-status="open"]').count() == 1
