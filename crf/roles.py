"""The four roles of protocol section 2 as Django groups and the permissions each holds.

A monitor reads clinical data and never changes it, verifies it against source, and raises and
closes queries; clinicians and coordinators enter it and answer queries, and clinicians sign as
investigators; data managers read it, lock it, raise and close queries and export it. Pages,
the API and the services ask `user.has_perm`, never the role's name.
"""

from django.contrib.auth.models import Group, Permission

from crf.catalogue import FORMS
from trial.models import Role

# Every form of the catalogue but the lab values, which are read and written with their panel.
CLINICAL_MODELS = tuple(form.label for form in FORMS if form.part_of is None)


def _perms(actions: tuple[str, ...], models: tuple[str, ...]) -> set[str]:
    return {f"{m.split('.')[0]}.{a}_{m.split('.')[1]}" for a in actions for m in models}


ENTER = _perms(("view", "add", "change"), CLINICAL_MODELS) | {"patients.enroll_patient", "crf.answer_query"}
REVIEW = _perms(("view",), CLINICAL_MODELS) | {"audit.view_study_audit", "crf.raise_query", "crf.close_query"}
REVIEW |= {"exports.export_data"}
# Section 10: a serious AE alerts the site's coordinators and monitors; a day-3 non-response,
# progression or relapse alerts the clinicians and coordinators who treat.
SAE_ALERT = "notifications.receive_sae_alert"
RESPONSE_ALERT = "notifications.receive_response_alert"

ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.CLINICIAN: ENTER | {"review.sign_records", RESPONSE_ALERT},
    Role.COORDINATOR: ENTER | {RESPONSE_ALERT, SAE_ALERT},
    Role.MONITOR: REVIEW | {"review.verify_source", SAE_ALERT},
    Role.DATA_MANAGER: REVIEW | {"crf.lock_data"},
}


def roles_sync() -> None:
    """Make each role's group hold exactly its permissions (run after every migrate)."""
    for role, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = []
        for code in codes:
            app_label, codename = code.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                wanted.append(perm)
        group.permissions.set(wanted)
