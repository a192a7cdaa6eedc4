"""Configuration that changes clinical meaning keeps its history, with who, when, old, new and
the reason asked for by the admin, and the study trail shows it."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.forms import MultiWidget
from django.urls import reverse

from audit.models import AuthEvent
from patients.services import screening_create
from tests.conftest import PASSWORD, eligible_data
from trial.history import BASELINE_REASON
from trial.models import DoseBand, ReferenceRange, Role, Site, SiteMembership, Trial, VisitDefinition

pytestmark = pytest.mark.django_db

CONFIGURATION = [Trial, Site, DoseBand, ReferenceRange, VisitDefinition, SiteMembership, User]


@pytest.fixture
def admin_client(client, db):
    admin = User.objects.create_superuser("trial_admin", "admin@example.org", PASSWORD)
    client.force_login(admin)
    return client


def posted(response) -> dict:
    """The admin change form as a browser would post it back, inlines included."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for bound in form:
            value = bound.value()
            if isinstance(bound.field.widget, MultiWidget) and value is not None:  # a date and a time
                for i, part in enumerate(bound.field.widget.decompress(value)):
                    data[f"{bound.html_name}_{i}"] = str(part)
            elif value is True:
                data[bound.html_name] = "on"
            elif value is False or value is None:
                continue
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [str(getattr(v, "pk", v)) for v in value]
            else:
                data[bound.html_name] = str(getattr(value, "pk", value))
    return data


def study_trail_page(client, user) -> str:
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)
    return client.get(reverse("audit_study")).content.decode()


@pytest.mark.parametrize("model", CONFIGURATION, ids=lambda m: m._meta.label)
def test_configuration_keeps_history_with_the_authors_roles(model):
    fields = {f.name for f in model.history.model._meta.fields}
    assert {"history_user", "history_change_reason", "history_user_roles"} <= fields


def test_the_seeded_configuration_is_the_first_row_of_its_history(trial):
    ferritin = ReferenceRange.objects.get(trial=trial, site=None, analyte="FERRITIN", age_min_days=None)
    assert [(r.history_type, r.upper, r.history_change_reason) for r in ferritin.history.all()] == [
        ("~", Decimal("500.000"), "Pediatric age-banded reference ranges with their sources"),  # its source named
        ("+", Decimal("500.000"), BASELINE_REASON),
    ]
    band = ReferenceRange.objects.get(trial=trial, site=None, analyte="FERRITIN", age_min_days=183)
    assert [(r.history_type, r.upper) for r in band.history.all()] == [("+", Decimal("140.000"))]


def test_a_changed_threshold_needs_a_reason_and_the_study_trail_shows_old_new_who_and_why(admin_client, trial, monitor):
    ferritin = ReferenceRange.objects.get(trial=trial, site=None, analyte="FERRITIN", age_min_days=None)
    url = reverse("admin:trial_referencerange_change", args=[ferritin.pk])
    data = posted(admin_client.get(url)) | {"upper": "450"}
    refused = admin_client.post(url, data)
    assert refused.status_code == 200 and "Give the reason for this change." in refused.content.decode()
    assert ReferenceRange.objects.get(pk=ferritin.pk).upper == Decimal("500")

    saved = admin_client.post(url, data | {"reason_for_change": "New analyser, manufacturer's range"})
    assert saved.status_code == 302
    latest = ferritin.history.order_by("-history_date").first()
    assert (latest.upper, latest.history_user.username, latest.history_user_roles) == (
        Decimal("450.000"),
        "trial_admin",
        "administrator",
    )
    assert latest.history_change_reason == "New analyser, manufacturer's range"

    page = study_trail_page(admin_client, monitor)
    assert "Reference range" in page and "Ferritin" in page
    assert "Upper limit (H above):</span> 500 → <strong>450</strong>" in page
    assert "New analyser, manufacturer&#x27;s range" in page and "trial_admin" in page


def test_a_dose_band_changed_on_the_trial_page_keeps_the_pages_reason(admin_client, trial, monitor):
    band = DoseBand.objects.get(trial=trial, max_weight_kg=Decimal("10"))
    url = reverse("admin:trial_trial_change", args=[trial.pk])
    data = posted(admin_client.get(url))
    row = next(k for k, v in data.items() if k.startswith("dose_bands-") and k.endswith("-id") and v == str(band.pk))
    data[row.removesuffix("-id") + "-dose_mg"] = "3"
    assert admin_client.post(url, data | {"reason_for_change": "Protocol amendment 2"}).status_code == 302
    latest = band.history.order_by("-history_date").first()
    assert (latest.dose_mg, latest.history_change_reason) == (Decimal("3.00"), "Protocol amendment 2")
    assert "Dose band" in study_trail_page(admin_client, monitor)


def test_deactivating_an_account_and_changing_its_roles_is_one_change_with_its_reason(admin_client, clinician, monitor):
    before = clinician.history.count()
    url = reverse("admin:auth_user_change", args=[clinician.pk])
    data = posted(admin_client.get(url))
    data.pop("is_active")
    data["groups"] = [str(Group.objects.get(name=Role.MONITOR).pk)]
    data["reason_for_change"] = "Left the ward; now monitors"
    assert admin_client.post(url, data).status_code == 302

    rows = list(clinician.history.order_by("history_date", "history_id"))
    assert len(rows) == before + 1
    assert (rows[-2].is_active, rows[-2].roles) == (True, "clinician")
    assert (rows[-1].is_active, rows[-1].roles, rows[-1].history_change_reason) == (
        False,
        "monitor",
        "Left the ward; now monitors",
    )
    assert rows[-1].history_user.username == "trial_admin"
    assert AuthEvent.objects.filter(kind="role_change", username="clin_a", detail="Roles added: monitor").exists()

    page = study_trail_page(admin_client, monitor)
    assert "User account" in page
    assert "Active:</span> Yes → <strong>No</strong>" in page
    assert "Roles:</span> Clinician / investigator → <strong>Monitor</strong>" in page


def test_a_role_given_outside_the_admin_is_kept_in_the_accounts_history(clinician):
    clinician.groups.add(Group.objects.get(name=Role.DATA_MANAGER))
    assert list(clinician.history.order_by("history_date", "history_id").values_list("roles", flat=True)) == [
        "",
        "clinician",
        "clinician,data_manager",
    ]


def test_subject_counters_and_sign_ins_write_no_configuration_history(client, site_a, clinician):
    site_rows, account_rows = site_a.history.count(), clinician.history.count()
    screening_create(site=site_a, data=eligible_data(), user=clinician)
    assert client.login(username=clinician.username, password=PASSWORD)
    assert (site_a.history.count(), clinician.history.count()) == (site_rows, account_rows)


def test_another_sites_configuration_is_not_in_a_monitors_trail(admin_client, site_b, clinician_b, monitor):
    rng = ReferenceRange.objects.create(trial=site_b.trial, site=site_b, analyte="ALT", unit="U/L", upper=35)
    rng.upper, rng._change_reason = 30, "SCH range"
    rng.save()
    clinician_b.is_active, clinician_b._change_reason = False, "Left SCH"
    clinician_b.save()
    page = study_trail_page(admin_client, monitor)
    assert "SCH range" not in page and "Left SCH" not in page


def test_an_account_of_another_site_has_no_history_page_for_a_monitor(admin_client, clinician, clinician_b, monitor):
    admin_client.logout()
    assert admin_client.login(username=monitor.username, password=PASSWORD)
    assert admin_client.get(reverse("audit_record", args=["auth.user", clinician.pk])).status_code == 200
    assert admin_client.get(reverse("audit_record", args=["auth.user", clinician_b.pk])).status_code == 404
