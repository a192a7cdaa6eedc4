"""Each history row keeps its author's roles as they were when the change was made."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from simple_history.models import registered_models
from simple_history.utils import bulk_create_with_history

from assessments.models import SupportiveCare
from audit.selectors import patient_trail, record_trail
from crf.writes import record_save
from patients.models import Screening
from patients.services import screening_create, screening_update
from tests.conftest import DAY0, PASSWORD, eligible_data
from trial.models import Role

pytestmark = pytest.mark.django_db


def test_every_historical_model_stores_the_authors_roles():
    missing = [
        model._meta.label
        for model in registered_models.values()
        if "history_user_roles" not in {f.name for f in model.history.model._meta.fields}
    ]
    assert missing == []


def test_a_change_made_as_coordinator_still_shows_coordinator_after_the_role_changes(
    client, site_a, clinician, coordinator
):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    screening_update(
        screening_id=screening.pk,
        data={"ferritin_ug_l": Decimal("3400")},
        expected_version=1,
        user=coordinator,
        reason_for_change="Lab report re-read",
    )
    # The coordinator becomes a monitor; the change they made stays the coordinator's.
    coordinator.groups.set([Group.objects.get(name=Role.MONITOR)])
    rows = Screening.history.filter(id=screening.pk).order_by("history_date")
    assert [(r.history_user.username, r.history_user_roles) for r in rows] == [
        ("clin_a", "clinician"),
        ("coord_a", "coordinator"),
    ]
    latest = record_trail(model=Screening, pk=screening.pk)[0]
    assert (latest.user, latest.roles) == ("Coord_A (coord_a)", "Study coordinator")

    assert client.login(username=clinician.username, password=PASSWORD)
    page = client.get(reverse("audit_record", args=["patients.screening", screening.pk])).content.decode()
    assert "Study coordinator" in page and "Monitor" not in page


def test_several_roles_are_stored_sorted_and_a_system_change_has_none(site_a, clinician, patient):
    clinician.groups.add(Group.objects.get(name=Role.DATA_MANAGER))
    record = SupportiveCare(patient=patient, kind="gcsf", given_on=DAY0)
    record_save(record=record, user=clinician, reason="Entered", created=True)
    record = SupportiveCare.objects.get(pk=record.pk)
    record.detail = "5 µg/kg"
    record_save(record=record, user=None, reason="Corrected by import")
    rows = SupportiveCare.history.filter(id=record.pk).order_by("history_date")
    assert [r.history_user_roles for r in rows] == ["clinician,data_manager", ""]
    entries = {e.reason: e for e in patient_trail(patient=patient) if e.model == "assessments.supportivecare"}
    assert entries["Entered"].roles == "Clinician / investigator, Data manager"
    assert entries["Corrected by import"].roles == "system"


def test_bulk_created_history_rows_store_each_authors_roles(patient, clinician, coordinator):
    by_default = [SupportiveCare(patient=patient, kind="gcsf", given_on=DAY0 + timedelta(days=d)) for d in (1, 2)]
    bulk_create_with_history(by_default, SupportiveCare, default_user=coordinator)
    own_author = SupportiveCare(patient=patient, kind="gcsf", given_on=DAY0 + timedelta(days=3))
    own_author._history_user = clinician
    nobody = SupportiveCare(patient=patient, kind="gcsf", given_on=DAY0 + timedelta(days=4))
    bulk_create_with_history([own_author, nobody], SupportiveCare)
    stored = dict(SupportiveCare.history.values_list("given_on", "history_user_roles"))
    assert stored == {
        DAY0 + timedelta(days=1): "coordinator",
        DAY0 + timedelta(days=2): "coordinator",
        DAY0 + timedelta(days=3): "clinician",
        DAY0 + timedelta(days=4): "",
    }
    # A caller may still give the value itself.
    extra = SupportiveCare.objects.create(patient=patient, kind="gcsf", given_on=DAY0 + timedelta(days=5))
    SupportiveCare.history.bulk_history_create(
        [extra], default_user=clinician, custom_historical_attrs={"history_user_roles": "monitor"}
    )
    assert SupportiveCare.history.filter(id=extra.pk, history_user=clinician).get().history_user_roles == "monitor"


def test_the_services_bulk_paths_store_the_authors_roles(patient, coordinator):
    """Enrollment plans the visit calendar in bulk; a lab panel's values are written in bulk."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from assessments.models import LabResult, Visit
    from assessments.services.labs import Measurement, lab_panel_save

    planned = Visit.history.filter(patient_id=patient.pk, history_change_reason="Planned at enrollment")
    assert planned.exists() and set(planned.values_list("history_user_roles", flat=True)) == {"clinician"}
    when = datetime.combine(DAY0 + timedelta(days=7), time(8), tzinfo=ZoneInfo("Asia/Shanghai"))
    lab_panel_save(
        visit=Visit.objects.get(patient=patient, definition__code="D7"),
        sampled_at=when,
        values={
            "FERRITIN": Measurement(Decimal("2400"), "µg/L", when),
            "HGB": Measurement(Decimal("90"), "g/L", when),
        },
        panel_data={},
        user=coordinator,
        today=DAY0 + timedelta(days=30),
    )
    assert set(LabResult.history.values_list("history_user_roles", flat=True)) == {"coordinator"}


def test_the_roles_are_read_once_per_user_object_and_again_after_a_change(clinician, django_assert_num_queries):
    from django.contrib.auth.models import Group

    from trial.history import roles_stamp

    with django_assert_num_queries(1):
        assert roles_stamp(clinician) == "clinician"
        assert roles_stamp(clinician) == "clinician"  # the same user object: read once
    clinician.groups.add(Group.objects.get(name=Role.DATA_MANAGER))
    assert roles_stamp(clinician) == "clinician,data_manager"
