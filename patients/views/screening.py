"""Pages for screening, enrollment and the patient overview. Each validates with a form,
calls one service and renders; scoping to the user's sites goes through the selectors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crf.locks import RecordLocked, form_lock
from crf.pages import edit_page, form_submit, service_errors_to_form
from patients import selectors, services
from patients.forms import EnrollmentForm, ScreeningEditForm, ScreeningForm
from patients.models import Eligibility, Patient, Screening
from patients.rules.dosing import dose_band_for_weight
from trial.posted import posted_int
from trial.selectors import reference_rows_memo, user_sites

PAGE_SIZE = 25


@login_required
def home(request):
    return redirect("subject_list")


@login_required
def subject_list(request):
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    rows = selectors.subject_list(user=request.user, query=query, status=status)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    statuses = [
        (Screening.Status.SCREENING, _("Screening")),
        (Screening.Status.SCREEN_FAILURE, _("Screen failure")),
        *Patient.Status.choices,
    ]
    return render(
        request, "patients/subject_list.html", {"page": page, "query": query, "status": status, "statuses": statuses}
    )


@login_required
def screening_log(request):
    rows = selectors.subject_list(user=request.user).order_by("site__code", "screening_number")
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    with reference_rows_memo():  # a rebuilt row reads its site's ranges once for the page, not once per row
        for screening in page:
            screening.shown_detail = services.eligibility_shown(screening)
    return render(request, "patients/screening_log.html", {"page": page})


def _site_for_new_screening(request):
    sites = list(user_sites(request.user))
    chosen = posted_int(
        request.POST if request.POST.get("site") else request.GET, "site", label=_("Site"), required=False
    )
    if chosen is not None:
        return get_object_or_404(user_sites(request.user), pk=chosen), sites
    return (sites[0] if sites else None), sites


@login_required
@permission_required("patients.add_screening", raise_exception=True)
@require_http_methods(["GET", "POST"])
def screening_create(request):
    site, sites = _site_for_new_screening(request)
    if site is None:
        messages.error(request, _("You are not a member of any site; ask a data manager to add you to one."))
        return redirect("subject_list")
    form = ScreeningForm(request.POST or None, site=site)
    if request.method == "POST" and form.is_valid():
        screening = services.screening_create(site=site, data=form.cleaned_data, user=request.user)
        messages.success(
            request,
            _("Screening %(number)s saved: %(eligibility)s.")
            % {"number": screening.screening_number, "eligibility": screening.get_eligibility_display()},
        )
        return redirect("screening_detail", pk=screening.pk)
    return render(request, "patients/screening_form.html", {"form": form, "site": site, "sites": sites})


@login_required
def screening_detail(request, pk: int):
    screening = selectors.screening_get_for_user(user=request.user, pk=pk)
    lock = form_lock(screening, user=request.user)
    return render(
        request,
        "patients/screening_detail.html",
        {
            "screening": screening,
            "detail": services.eligibility_shown(screening),
            "patient": getattr(screening, "patient", None),
            "can_enroll": request.user.has_perm("patients.enroll_patient"),
            "can_edit": request.user.has_perm("patients.change_screening"),
            "form_lock": lock,
        },
    )


@login_required
@permission_required("patients.change_screening", raise_exception=True)
@require_http_methods(["GET", "POST"])
def screening_edit(request, pk: int):
    screening = selectors.screening_get_for_user(user=request.user, pk=pk)
    form = ScreeningEditForm(request.POST or None, instance=screening, site=screening.site)
    submission = form_submit(
        request,
        form,
        lambda data: services.screening_update(
            screening_id=screening.pk,
            data={k: v for k, v in data.items() if k not in {"version", "reason_for_change"}},
            expected_version=data["version"],
            user=request.user,
            reason_for_change=data["reason_for_change"],
        ),
    )
    if submission.saved:
        messages.success(request, _("Screening updated; eligibility recomputed."))
        return redirect("screening_detail", pk=screening.pk)
    context = {
        "form": form,
        "site": screening.site,
        "screening": screening,
        "form_lock": form_lock(screening, user=request.user),
    }
    return edit_page(request, "patients/screening_form.html", context, submission)


@login_required
@permission_required("patients.enroll_patient", raise_exception=True)
@require_http_methods(["GET", "POST"])
def screening_enroll(request, pk: int):
    screening = selectors.screening_get_for_user(user=request.user, pk=pk)
    if hasattr(screening, "patient"):
        return redirect("patient_overview", pk=screening.patient.pk)
    initial = {"enrollment_weight_kg": screening.weight_kg, "enrollment_date": screening.screening_date}
    if screening.weight_kg:
        band = dose_band_for_weight(float(screening.weight_kg), selectors.dose_bands(screening.site))
        initial["prescribed_dose_mg"] = band.dose_mg
    else:
        band = None
    form = EnrollmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_enroll(
                screening_id=screening.pk,
                enrollment_date=form.cleaned_data["enrollment_date"],
                first_dose_date=form.cleaned_data["first_dose_date"],
                enrollment_weight_kg=form.cleaned_data["enrollment_weight_kg"],
                prescribed_dose_mg=form.cleaned_data["prescribed_dose_mg"],
                user=request.user,
            )
        except services.EnrollmentRefused as exc:
            form.add_error(None, str(exc))
        except RecordLocked:
            raise  # a locked study is the 423 page (review.middleware), not a field of this form
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            messages.success(request, _("Enrolled as %(number)s.") % {"number": patient.subject_number})
            return redirect("patient_overview", pk=patient.pk)
    return render(
        request,
        "patients/enroll.html",
        {
            "form": form,
            "screening": screening,
            "detail": services.eligibility_shown(screening),
            "band": band,
            # The form is offered only for an eligible child; the service refuses any other anyway.
            "may_enroll": screening.eligibility == Eligibility.ELIGIBLE,
        },
    )


@login_required
def patient_overview(request, pk: int):
    patient = selectors.patient_get_for_user(user=request.user, pk=pk)
    return render(
        request,
        "patients/patient_overview.html",
        {
            "patient": patient,
            "screening": patient.screening,
            "eligibility": services.eligibility_shown(patient.screening),
            "derived": services.derived_shown(patient),
            "visits": patient.visits.all(),
        },
    )
