"""Notifications and their e-mails in the recipient's language: their choice, else their site's
default language, else English; never the language of whoever's request raised them."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.utils import translation

from accounts.language import preference_set, recipient_language
from assessments.models import CtcaeTerm
from assessments.services.adverse_events import adverse_event_record
from notifications.models import Notification
from tests.conftest import DAY0, make_user
from trial.models import Role

pytestmark = pytest.mark.django_db


def sae_data() -> dict:
    return {
        "term": CtcaeTerm.objects.get(code="IN102"),  # Febrile neutropenia
        "other_specify": "",
        "grade": 4,
        "onset_date": DAY0 + timedelta(days=4),
        "resolution_date": None,
        "serious": True,
        "sae_life_threatening": True,
        "relationship": "possible",
        "action_taken": "interrupted",
        "outcome": "recovering",
        "description": "",
    }


@pytest.mark.parametrize(
    ("preference", "site_default", "expected"),
    [
        ("zh-hans", "en", "zh-hans"),  # the user's own choice first
        ("en", "zh-hans", "en"),
        ("", "zh-hans", "zh-hans"),  # no choice: the site's default language
        ("", "en", "en"),
    ],
)
def test_recipient_language_is_the_choice_else_the_sites_else_english(site_a, preference, site_default, expected):
    site_a.default_language = site_default
    site_a.save()
    user = make_user("reader", Role.MONITOR, site_a)
    if preference:
        preference_set(user=user, language=preference)
    assert recipient_language(user) == expected


def test_a_user_without_a_site_or_choice_reads_english(db):
    from django.contrib.auth.models import User

    assert recipient_language(User.objects.create_user(username="nobody", password="x")) == "en"


def test_a_chinese_clinician_and_an_english_monitor_each_read_the_same_sae_in_their_language(
    site_a, patient, coordinator, django_capture_on_commit_callbacks
):
    clinician = make_user("clin_zh", Role.CLINICIAN, site_a)
    # A clinician is told of SAEs when given the alert permission (notifications.receive_sae_alert).
    clinician.user_permissions.add(Permission.objects.get(codename="receive_sae_alert"))
    preference_set(user=clinician, language="zh-hans")
    monitor = make_user("mon_en", Role.MONITOR, site_a)
    preference_set(user=monitor, language="en")
    for user in (clinician, monitor):
        user.email = f"{user.username}@example.org"
        user.save()
    # Reported by someone reading Chinese: the monitor's copy is English all the same.
    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
        ae = adverse_event_record(patient=patient, data=sae_data(), user=coordinator)
    notes = {n.recipient.username: n for n in Notification.objects.filter(source_key=f"sae:{ae.pk}")}
    chinese, english = notes["clin_zh"], notes["mon_en"]
    subject = patient.subject_number
    assert chinese.title == f"严重不良事件：{subject}，Febrile neutropenia 4级"
    assert "CTCAE 4级" in chinese.body and "危及生命" in chinese.body and "与芦可替尼的相关性：可能" in chinese.body
    assert english.title == f"Serious adverse event: {subject}, Febrile neutropenia grade 4"
    assert "Seriousness: Life-threatening." in english.body
    assert "Relationship to ruxolitinib: Possible; action taken: Interrupted" in english.body
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in english.title + english.body)
    # The e-mails too, down to the link's line.
    mails = {m.to[0]: m for m in mail.outbox}
    assert mails["clin_zh@example.org"].subject == chinese.title
    assert "在eCRF中打开：" in mails["clin_zh@example.org"].body
    assert mails["mon_en@example.org"].subject == english.title
    assert "Open in the eCRF: " in mails["mon_en@example.org"].body
