"""The shape every editing page shares: a valid POST calls one service, and what the service
refuses is shown on the form it came from; a concurrent edit answers 409 with what changed."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import render

from trial.versioning import ConcurrentEditError


def service_errors_to_form(form, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """A service's {field: message} errors on the form's fields (a field the form lacks at the top),
    each keeping its code and parameters."""
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        for error in exc.error_list:
            form.add_error(None, error)
        return
    for field, errors in exc.error_dict.items():
        name = aliases.get(field, field)
        for error in errors:
            form.add_error(name if name in form.fields else None, error)


@dataclass(frozen=True)
class Submission:
    """What a POST came to: saved (with what the service returned), refused, or a conflict."""

    saved: bool = False
    result: object = None
    conflict: ConcurrentEditError | None = None


def form_submit(request, form, save: Callable[[dict], object], *, aliases: dict[str, str] | None = None) -> Submission:
    """Call `save(cleaned_data)` for a valid POST; its ValidationError lands on the form's fields."""
    if request.method != "POST" or not form.is_valid():
        return Submission()
    try:
        result = save(form.cleaned_data)
    except ConcurrentEditError as exc:
        return Submission(conflict=exc)
    except ValidationError as exc:
        service_errors_to_form(form, exc, aliases)
        return Submission()
    return Submission(saved=True, result=result)


def edit_page(request, template: str, context: dict, submission: Submission):
    """The form again: 409 with the changed fields after a conflict, else 200 with the form's errors."""
    conflict = submission.conflict
    return render(request, template, {**context, "conflict": conflict}, status=409 if conflict else 200)


def step_run(request, step: Callable[[], object], *, success: str) -> bool:
    """A one-button step (no form of its own): its refusal or a conflict as a message, else `success`."""
    try:
        step()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    except ConcurrentEditError as exc:
        messages.error(request, str(exc))
        return False
    messages.success(request, success)
    return True
