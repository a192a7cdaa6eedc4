"""A concurrent edit (409) names what changed as a person reads it, wherever it is shown: the
page, the API's message and the import's row error; the API keeps its structured field data."""

from decimal import Decimal

import pytest

from patients.models import Screening
from patients.services import screening_create, screening_update
from tests.api.conftest import client_for
from tests.conftest import eligible_data
from trial.versioning import ConcurrentEditError

pytestmark = pytest.mark.django_db


def test_the_conflict_lists_changed_fields_by_label_with_readable_values(site_a, clinician, coordinator):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    screening_update(
        screening_id=screening.pk,
        data={"ferritin_ug_l": Decimal("4100")},
        expected_version=1,
        user=clinician,
        reason_for_change="Re-read",
    )
    with pytest.raises(ConcurrentEditError) as refused:
        screening_update(
            screening_id=screening.pk,
            data={"alt_u_l": Decimal("95")},
            expected_version=1,
            user=coordinator,
            reason_for_change="x",
        )
    readable = {c.label: (c.old, c.new) for c in refused.value.readable}
    assert readable["Ferritin (µg/L)"] == ("3200", "4100")
    # The computed eligibility reasons say what changed inside them, not the whole document.
    inside = [label for label in readable if label.startswith("Eligibility detail")]
    assert inside and all("Ferritin" in label for label in inside)
    message = str(refused.value)
    assert "Ferritin (µg/L): 3200 → 4100" in message
    assert "{" not in message and "ferritin_ug_l" not in message
    assert f"changed by {clinician.first_name} ({clinician.username})" in message
    # The structured differences stay as they were: by field name, stored text.
    assert refused.value.changes["ferritin_ug_l"] == ("3200.0", "4100.0")


def test_the_apis_409_message_is_readable_and_its_changes_stay_structured(site_a, clinician):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    api = client_for(clinician)
    url = f"/api/v1/screenings/{screening.pk}/"
    body = {"ferritin_ug_l": "5000", "reason_for_change": "Lab report", "version": 1}
    assert api.patch(url, body, format="json").status_code == 200
    stale = api.patch(url, {**body, "ferritin_ug_l": "6000"}, format="json")
    assert stale.status_code == 409
    answer = stale.json()
    assert "Ferritin (µg/L): 3200 → 5000" in answer["detail"]
    assert "{" not in answer["detail"]
    assert answer["changes"]["ferritin_ug_l"] == {"from": "3200.0", "to": "5000.0"}
    assert Screening.objects.get(pk=screening.pk).ferritin_ug_l == Decimal("5000")
