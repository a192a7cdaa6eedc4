"""Resources every form and list needs: follow-up corrections, the CTCAE term search, a batch of
doses in one request, the report by site and /report.json with an API token."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse

from patients.models import DoseAdministration, FollowUp
from tests.api.conftest import client_for
from tests.conftest import DAY0, enroll_child

pytestmark = pytest.mark.django_db


def _follow_up(api, patient, day: int = 10, **overrides):
    body = {"patient": patient.pk, "assessed_on": str(DAY0 + timedelta(days=day)), "vital_status": "alive"}
    response = api.post("/api/v1/follow-ups/", {**body, **overrides}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


# Follow-ups: PATCH like every other form (the version loaded and a reason for change).


def test_a_follow_up_is_corrected_with_its_version_and_a_reason(api, patient, clinician):
    created = _follow_up(api, patient, notes="seen in clinic")
    url = f"/api/v1/follow-ups/{created['id']}/"
    changed = api.patch(
        url,
        {"version": 1, "hlh_relapse": True, "notes": "relapse on review", "reason_for_change": "Source: clinic letter"},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["hlh_relapse"], changed.json()["notes"], changed.json()["version"]) == (
        True,
        "relapse on review",
        2,
    )
    assert changed["ETag"] == '"2"'
    newest = FollowUp.objects.get(pk=created["id"]).history.order_by("-history_date").first()
    assert (newest.history_change_reason, newest.history_user) == ("Source: clinic letter", clinician)


def test_a_follow_up_correction_needs_the_reason_and_the_current_version(api, patient):
    created = _follow_up(api, patient)
    url = f"/api/v1/follow-ups/{created['id']}/"
    no_reason = api.patch(url, {"version": 1, "notes": "x"}, format="json")
    assert no_reason.status_code == 400
    assert list(no_reason.json()) == ["reason_for_change"]
    assert api.patch(url, {"notes": "x", "reason_for_change": "r"}, format="json").json() == {
        "version": ["Send the version you loaded (field 'version' or the If-Match header)."]
    }
    assert api.patch(url, {"version": 1, "notes": "first", "reason_for_change": "r"}, format="json").status_code == 200
    stale = api.patch(url, {"version": 1, "notes": "second", "reason_for_change": "r"}, format="json")
    assert stale.status_code == 409
    assert FollowUp.objects.get(pk=created["id"]).notes == "first"


def test_a_follow_up_date_moves_only_to_a_day_without_another_contact(api, patient):
    first = _follow_up(api, patient, day=10)
    _follow_up(api, patient, day=20)
    url = f"/api/v1/follow-ups/{first['id']}/"
    taken = str(DAY0 + timedelta(days=20))
    clash = api.patch(url, {"version": 1, "assessed_on": taken, "reason_for_change": "typo"}, format="json")
    assert clash.status_code == 400
    assert clash.json() == {"assessed_on": [f"A follow-up on {taken} is already recorded."]}
    free = str(DAY0 + timedelta(days=12))
    moved = api.patch(url, {"version": 1, "assessed_on": free, "reason_for_change": "typo"}, format="json")
    assert moved.status_code == 200, moved.json()
    assert str(FollowUp.objects.get(pk=first["id"]).assessed_on) == free
    # A death is corrected on its own record, not through a follow-up's PATCH.
    death = api.patch(url, {"version": 2, "date_of_death": free, "reason_for_change": "r"}, format="json")
    assert death.status_code == 400 and "date_of_death" in death.json()


def test_a_monitor_cannot_correct_a_follow_up(api, api_monitor, patient):
    created = _follow_up(api, patient)
    response = api_monitor.patch(
        f"/api/v1/follow-ups/{created['id']}/", {"version": 1, "notes": "x", "reason_for_change": "r"}, format="json"
    )
    assert response.status_code == 403
    assert FollowUp.objects.get(pk=created["id"]).notes == ""


# The CTCAE v3.0 term list, searched as the adverse-event page searches it.


def test_ctcae_terms_are_found_by_code_name_and_category(api, client, clinician):
    # assessments/data/ctcae_v3_terms.csv: BLOOD/BONE MARROW, BL110, Neutrophils.
    by_code = api.get("/api/v1/ctcae-terms/", {"search": "bl110"}).json()
    assert by_code[0] == {
        "id": by_code[0]["id"],
        "code": "BL110",
        "term": "Neutrophils",
        "category": "BLOOD/BONE MARROW",
    }
    names = api.get("/api/v1/ctcae-terms/", {"search": "neutrophil"}).json()
    assert names[0]["term"] == "Neutrophils"  # a name starting with the words before one containing them
    assert all("neutrophil" in t["term"].lower() or "neutrophil" in t["category"].lower() for t in names)
    category = api.get("/api/v1/ctcae-terms/", {"search": "BONE MARROW"}).json()
    assert "BL110" in {t["code"] for t in category}
    client.force_login(clinician)
    page = client.get(reverse("ctcae_term_search"), {"q": "neutrophil"}).json()
    assert [t["code"] for t in page] == [t["code"] for t in names]  # one search behind both doors


def test_ctcae_search_names_its_parameter_when_empty(api, client):
    assert api.get("/api/v1/ctcae-terms/").json() == {
        "search": ["Give part of a term, a category or a code to search for."]
    }
    assert client.get("/api/v1/ctcae-terms/?search=anemia").status_code in (401, 403)


# A batch of doses: all or none.


def _dose(day: int, slot: str = "am", **overrides) -> dict:
    hour = 8 if slot == "am" else 20
    body = {
        "treatment_day": day,
        "slot": slot,
        "status": "given",
        "administered_at": f"{DAY0 + timedelta(days=day - 1)}T{hour:02d}:00",
        "amount_mg": "5",
    }
    return {**body, **overrides}


def test_a_batch_of_doses_is_recorded_in_one_request(api, patient):
    doses = [_dose(1), _dose(1, "pm"), _dose(2)]
    response = api.post("/api/v1/doses/batch/", {"patient": patient.pk, "doses": doses}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [(d["treatment_day"], d["slot"]) for d in body["created"]] == [(1, "am"), (1, "pm"), (2, "am")]
    assert body["already_recorded"] == 0
    assert DoseAdministration.objects.filter(patient=patient).count() == 3
    again = api.post("/api/v1/doses/batch/", {"patient": patient.pk, "doses": doses[:1]}, format="json")
    assert (again.status_code, again.json()["created"], again.json()["already_recorded"]) == (201, [], 1)


def test_a_batch_with_one_bad_dose_stores_none_and_names_it_by_position(api, patient):
    doses = [_dose(1), _dose(1, "pm", amount_mg="abc"), _dose(2, status="missed")]
    response = api.post("/api/v1/doses/batch/", {"patient": patient.pk, "doses": doses}, format="json")
    assert response.status_code == 400
    errors = response.json()["doses"]
    assert len(errors) == 3 and errors[0] == {} and list(errors[1]) == ["amount_mg"] and errors[2] == {}
    # Typed right but refused by the protocol's rules (a missed dose needs its reason): still none kept.
    refused = api.post(
        "/api/v1/doses/batch/", {"patient": patient.pk, "doses": [_dose(1), _dose(2, status="missed")]}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["doses"][0] == {} and "reason" in refused.json()["doses"][1]
    assert not DoseAdministration.objects.filter(patient=patient).exists()


def test_a_batch_is_bounded_and_is_a_list(api, patient):
    too_many = [_dose(day, slot) for day in range(1, 29) for slot in ("am", "pm")] + [_dose(1)]
    response = api.post("/api/v1/doses/batch/", {"patient": patient.pk, "doses": too_many}, format="json")
    assert response.json() == {"doses": ["At most 56 doses in one batch (sent 57)."]}
    assert api.post("/api/v1/doses/batch/", {"patient": patient.pk, "doses": {}}, format="json").json() == {
        "doses": ["Send the doses as a list of dose objects."]
    }
    assert not DoseAdministration.objects.exists()


def test_a_monitor_cannot_post_a_batch(api_monitor, patient):
    response = api_monitor.post("/api/v1/doses/batch/", {"patient": patient.pk, "doses": [_dose(1)]}, format="json")
    assert response.status_code == 403
    assert not DoseAdministration.objects.exists()


# The report by site, and /report.json for an API token as for a browser.


@pytest.fixture
def _empty_cache():
    cache.clear()


def test_the_report_is_given_for_one_of_your_sites(site_a, site_b, clinician, trial, _empty_cache):
    from trial.models import SiteMembership

    SiteMembership.objects.create(user=clinician, site=site_b)
    enroll_child(site_a, clinician)
    enroll_child(site_a, clinician)
    enroll_child(site_b, clinician)
    api = client_for(clinician)
    both = api.get("/api/v1/report/").json()
    only_b = api.get("/api/v1/report/", {"site": site_b.code}).json()
    assert (both["enrollment"]["enrolled"], only_b["enrollment"]["enrolled"]) == (3, 1)
    assert only_b["sites"] == [site_b.code]
    wrong = api.get("/api/v1/report/", {"site": "NOPE"})
    assert wrong.status_code == 400 and list(wrong.json()) == ["site"]


def test_report_json_answers_an_api_token_and_sends_a_browser_to_sign_in(api, client, patient, _empty_cache):
    with_token = api.get("/report.json")
    assert with_token.status_code == 200
    assert with_token["Content-Type"].startswith("application/json")
    assert with_token.json()["enrollment"]["enrolled"] == 1
    assert with_token.json() == api.get("/api/v1/report/").json()
    anonymous = client.get("/report.json")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    bad_token = client.get("/report.json", HTTP_AUTHORIZATION="Token not-a-token")
    assert bad_token.status_code == 401


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("alanine", "ME105"),
        ("transaminase", "ME105"),
        ("ALT elevation", "ME105"),
        ("SGPT", "ME105"),
        ("sgot", "ME107"),
        ("thrombocytopenia", "BL111"),
        ("anaemia", "BL104"),
        ("neutropenia", "BL110"),
        ("sepsis", "IN333"),
        ("jaundice", "ME109"),
        ("ME114", "ME114"),
    ],
)
def test_ctcae_terms_are_found_by_common_words(api, client, clinician, query, code):
    # assessments/data/ctcae_v3_synonyms.csv: the words clinicians type for the official terms.
    found = [t["code"] for t in api.get("/api/v1/ctcae-terms/", {"search": query}).json()]
    assert code in found
    client.force_login(clinician)
    assert [t["code"] for t in client.get(reverse("ctcae_term_search"), {"q": query}).json()] == found


def test_a_synonym_finds_both_terms_it_names_and_no_other(api):
    found = {t["code"] for t in api.get("/api/v1/ctcae-terms/", {"search": "transaminase"}).json()}
    assert found == {"ME105", "ME107"}
    # The term's name stays the official CTCAE v3.0 one.
    assert api.get("/api/v1/ctcae-terms/", {"search": "alanine"}).json()[0]["term"] == "ALT, SGPT"


def test_a_category_word_finds_its_terms(api):
    found = api.get("/api/v1/ctcae-terms/", {"search": "metabolic laboratory"}).json()
    assert found and {t["category"] for t in found} == {"METABOLIC/LABORATORY"}


def test_every_synonym_names_a_ctcae_term():
    import csv
    from pathlib import Path

    data = Path(__file__).resolve().parents[2] / "assessments" / "data"
    codes = {r["code"] for r in csv.DictReader((data / "ctcae_v3_terms.csv").open(encoding="utf-8"))}
    rows = list(csv.DictReader((data / "ctcae_v3_synonyms.csv").open(encoding="utf-8")))
    assert len(rows) > 100
    assert [r for r in rows if r["code"] not in codes or not r["synonym"].strip()] == []
