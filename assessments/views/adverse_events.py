"""Adverse event pages (protocol section 10): the patient's events and pending lab-based
suggestions, entry and correction, accepting or dismissing a suggestion, the CTCAE term search.

Each view validates with a form, calls one service and renders; a patient of another site
is a 404 through patients.selectors, a monitor's attempt to change anything a 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments.forms.adverse_events import AdverseEventEditForm, AdverseEventForm, SuggestionAcceptForm
from assessments.models import AdverseEvent, LabAESuggestion
from assessments.selectors import ctcae_terms_find
from assessments.services import adverse_events as services
from crf.locks import form_lock
from crf.pages import edit_page, form_submit
from patients.selectors import patient_get_for_user

TERM_SEARCH_LIMIT = 30
FORM_TEMPLATE = "assessments/adverse_events/ae_form.html"


# The service names the CTCAE term `term`; the form picks it with `term_search`.
TERM_ALIAS = {"term": "term_search"}


@login_required
@permission_required("assessments.view_adverseevent", raise_exception=True)
def ae_list(request, pk: int):
    patient = patient_get_for_user(user=request.user, pk=pk)
    suggestions = (
        LabAESuggestion.objects.filter(patient=patient)
        .select_related("term", "lab_result", "decided_by", "adverse_event")
        .order_by("lab_result__sampled_at", "id")
    )
    adverse_events = list(patient.adverse_events.select_related("term").order_by("-onset_date", "-id"))
    pending = [s for s in suggestions if s.status == LabAESuggestion.Status.PENDING]
    for suggestion in pending:
        suggestion.shown_explanation = services.suggestion_explanation_shown(suggestion, patient)
    for ae in adverse_events:
        ae.form_lock = form_lock(ae, user=request.user)
    return render(
        request,
        "assessments/adverse_events/ae_list.html",
        {
            "patient": patient,
            "adverse_events": adverse_events,
            "pending": pending,
            "decided": [s for s in suggestions if s.status != LabAESuggestion.Status.PENDING],
            "can_add": request.user.has_perm("assessments.add_adverseevent"),
            "can_edit": request.user.has_perm("assessments.change_adverseevent"),
        },
    )


@login_required
@permission_required("assessments.add_adverseevent", raise_exception=True)
@require_http_methods(["GET", "POST"])
def ae_create(request, pk: int):
    patient = patient_get_for_user(user=request.user, pk=pk)
    form = AdverseEventForm(request.POST or None, patient=patient)
    submission = form_submit(
        request,
        form,
        lambda data: services.adverse_event_record(patient=patient, data=form.ae_data(), user=request.user),
        aliases=TERM_ALIAS,
    )
    if submission.saved:
        ae = submission.result
        messages.success(request, _saved_message(ae, gettext("Adverse event %(term)s grade %(grade)s saved.")))
        return redirect(f"{_list_url(patient)}#ae-{ae.pk}")
    return render(request, FORM_TEMPLATE, {"form": form, "patient": patient, "mode": "create"})


@login_required
@permission_required("assessments.change_adverseevent", raise_exception=True)
@require_http_methods(["GET", "POST"])
def ae_edit(request, pk: int):
    ae = get_object_or_404(AdverseEvent.objects.select_related("term"), pk=pk)
    patient = patient_get_for_user(user=request.user, pk=ae.patient_id)
    form = AdverseEventEditForm(request.POST or None, instance=ae, patient=patient)
    submission = form_submit(
        request,
        form,
        lambda data: services.adverse_event_update(
            ae_id=ae.pk,
            data=form.ae_data(),
            expected_version=data["version"],
            user=request.user,
            reason_for_change=data["reason_for_change"],
        ),
        aliases=TERM_ALIAS,
    )
    if submission.saved:
        messages.success(
            request, _saved_message(submission.result, gettext("Adverse event %(term)s grade %(grade)s updated."))
        )
        return redirect(f"{_list_url(patient)}#ae-{ae.pk}")
    context = {
        "form": form,
        "patient": patient,
        "ae": ae,
        "mode": "edit",
        "form_lock": form_lock(ae, user=request.user),
    }
    return edit_page(request, FORM_TEMPLATE, context, submission)


def _suggestion_for_user(request, pk: int) -> LabAESuggestion:
    suggestion = get_object_or_404(LabAESuggestion.objects.select_related("term", "lab_result"), pk=pk)
    patient_get_for_user(user=request.user, pk=suggestion.patient_id)
    return suggestion


@login_required
@permission_required("assessments.add_adverseevent", raise_exception=True)
@require_http_methods(["GET", "POST"])
def ae_suggestion_accept(request, pk: int):
    """GET shows the event as it will be recorded; POST records it with the clinician's judgement."""
    suggestion = _suggestion_for_user(request, pk)
    patient = patient_get_for_user(user=request.user, pk=suggestion.patient_id)
    if suggestion.status != LabAESuggestion.Status.PENDING:
        already = {
            LabAESuggestion.Status.ACCEPTED: gettext("This suggestion was already accepted."),
            LabAESuggestion.Status.DISMISSED: gettext("This suggestion was already dismissed."),
        }
        messages.info(request, already.get(suggestion.status, gettext("This suggestion was already decided.")))
        return redirect(_list_url(patient))
    onset = services.suggestion_onset_date(suggestion)
    form = SuggestionAcceptForm(request.POST or None, patient=patient, suggestion=suggestion, onset_date=onset)
    submission = form_submit(
        request,
        form,
        lambda data: services.lab_ae_suggestion_accept(
            suggestion_id=suggestion.pk,
            user=request.user,
            data={name: data.get(name) for name in services.ACCEPT_FIELDS},
        ),
        aliases=TERM_ALIAS,
    )
    if submission.saved:
        ae = submission.result
        messages.success(
            request, _saved_message(ae, gettext("Adverse event %(term)s grade %(grade)s recorded from the lab value."))
        )
        return redirect(f"{_list_url(patient)}#ae-{ae.pk}")
    return render(
        request,
        FORM_TEMPLATE,
        {
            "form": form,
            "patient": patient,
            "suggestion": suggestion,
            "suggestion_explanation": services.suggestion_explanation_shown(suggestion, patient),
            "mode": "accept",
        },
    )


@login_required
@permission_required("assessments.change_adverseevent", raise_exception=True)
@require_POST
def ae_suggestion_dismiss(request, pk: int):
    suggestion = _suggestion_for_user(request, pk)
    try:
        services.lab_ae_suggestion_dismiss(
            suggestion_id=suggestion.pk, user=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        text = " ".join(m for errors in exc.message_dict.values() for m in errors)
        messages.error(request, gettext("Not dismissed: %(reason)s") % {"reason": text})
    else:
        messages.success(
            request,
            gettext("Suggestion %(term)s grade %(grade)s dismissed.")
            % {"term": suggestion.term.term, "grade": suggestion.grade},
        )
    return redirect(f"{_list_url_for(suggestion.patient_id)}#suggestions")


@login_required
@permission_required("assessments.view_adverseevent", raise_exception=True)
@require_GET
def ctcae_term_search(request):
    """CTCAE v3.0 terms whose name, category or code contains the query; names starting with it first."""
    terms = ctcae_terms_find(request.GET.get("q", ""), limit=TERM_SEARCH_LIMIT)
    return JsonResponse(
        [{"id": t.pk, "code": t.code, "term": t.term, "category": t.category} for t in terms], safe=False
    )


def _list_url_for(patient_id: int) -> str:
    return reverse("ae_list", args=[patient_id])


def _list_url(patient) -> str:
    return _list_url_for(patient.pk)


def _saved_message(ae: AdverseEvent, sentence: str) -> str:
    text = sentence % {"term": ae.term_label, "grade": ae.grade}
    if ae.serious:
        text += " " + gettext("Serious: the site's coordinators and the trial's monitors have been notified.")
    return text


urlpatterns = [
    path("patients/<int:pk>/adverse-events/", ae_list, name="ae_list"),
    path("patients/<int:pk>/adverse-events/new/", ae_create, name="ae_create"),
    path("adverse-events/<int:pk>/edit/", ae_edit, name="ae_edit"),
    path("adverse-events/suggestions/<int:pk>/accept/", ae_suggestion_accept, name="ae_suggestion_accept"),
    path("adverse-events/suggestions/<int:pk>/dismiss/", ae_suggestion_dismiss, name="ae_suggestion_dismiss"),
    path("ctcae-terms/", ctcae_term_search, name="ctcae_term_search"),
]
