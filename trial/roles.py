"""The four roles of protocol section 2 as Django groups and the permissions each holds.

A monitor reads clinical data and never changes it; clinicians and coordinators enter it;
data managers read it (locking and export arrive with their own permissions).
"""

from django.contrib.auth.models import Group, Permission

from trial.models import Role

CLINICAL_MODELS = (
    "patients.screening",
    "patients.patient",
    "patients.doseadministration",
    "patients.treatmentend",
    "patients.subsequenttherapy",
    "patients.followup",
    "patients.death",
    "assessments.visit",
    "assessments.labpanel",
    "assessments.supportivecare",
    "assessments.adverseevent",
    "assessments.labaesuggestion",
    "assessments.responseassessment",
)


def _perms(actions: tuple[str, ...], models: tuple[str, ...]) -> set[str]:
    return {f"{m.split('.')[0]}.{a}_{m.split('.')[1]}" for a in actions for m in models}


ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.CLINICIAN: _perms(("view", "add", "change"), CLINICAL_MODELS) | {"patients.enroll_patient"},
    Role.COORDINATOR: _perms(("view", "add", "change"), CLINICAL_MODELS) | {"patients.enroll_patient"},
    Role.MONITOR: _perms(("view",), CLINICAL_MODELS) | {"audit.view_study_audit"},
    Role.DATA_MANAGER: _perms(("view",), CLINICAL_MODELS) | {"audit.view_study_audit"},
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
