"""What every page shows in its header: the trial and the user's roles."""

from trial.selectors import trial_current, user_roles


def study(request) -> dict:
    user = getattr(request, "user", None)
    return {
        "study_trial": trial_current(),
        "user_role_labels": user_roles(user) if user is not None and user.is_authenticated else [],
    }
