"""Pages for the study drug, the end of treatment, subsequent therapy, follow-up and death.

Each validates with a form, calls one service and renders. A service's ValidationError is
shown on the form it came from; a concurrent edit answers 409 with what changed.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from crf.catalogue import fields_of
from crf.locks import form_lock
from crf.pages import edit_page, form_submit, service_errors_to_form
from patients import selectors, services
from patients.forms import (
    DeathEditForm,
    DeathForm,
    DoseEditForm,
    DoseForm,
    FollowUpForm,
    SubsequentTherapyEditForm,
    SubsequentTherapyForm,
    TreatmentEndEditForm,
    TreatmentEndForm,
)
from patients.models import Death, DoseAdministration, Patient, SubsequentTherapy, TreatmentEnd
from patients.rules.treatment import ScheduledDose, dose_label, slots_for, treatment_day_date
from trial import clock
from trial.versioning import ConcurrentEditError

DOSE_PERMS = ("patients.add_doseadministration", "patients.change_doseadministration")
END_PERMS = ("patients.add_treatmentend", "patients.change_treatmentend")
THERAPY_PERMS = ("patients.add_subsequenttherapy", "patients.change_subsequenttherapy")
FOLLOW_UP_PERMS = ("patients.add_followup",)
DEATH_PERMS = ("patients.add_death", "patients.change_death")
OUTCOME_VIEW_PERMS = (
    "patients.view_doseadministration",
    "patients.view_treatmentend",
    "patients.view_subsequenttherapy",
    "patients.view_followup",
    "patients.view_death",
)


# The catalogue's fields of each form, as its page's form cleans them and its service takes them.
END_FIELDS = fields_of("patients.treatmentend")
THERAPY_FIELDS = fields_of("patients.subsequenttherapy")
FOLLOW_UP_FIELDS = fields_of("patients.followup")
DEATH_FIELDS = fields_of("patients.death")


def _fields(cleaned: dict, names) -> dict:
    return {name: cleaned[name] for name in names}


def _correction(cleaned: dict, record) -> dict:
    """A saved record is changed from the version the user loaded, with a reason for change."""
    if record is None:
        return {}
    return {"expected_version": cleaned["version"], "reason_for_change": cleaned["reason_for_change"]}


# The dose grid
#
# The dose log and the dose form are live forms: never stored, so that the browser's Back
# button fetches them again instead of showing a "Given now" that was already used.


@never_cache
@login_required
@permission_required("patients.view_doseadministration", raise_exception=True)
def dose_log(request, pk: int):
    patient = selectors.patient_get_for_user(user=request.user, pk=pk)
    grid = selectors.dose_grid(patient=patient, now=clock.now())
    return render(
        request,
        "patients/treatment/dose_log.html",
        {
            "patient": patient,
            "grid": grid,
            "treatment_end": TreatmentEnd.objects.filter(patient=patient).first(),
            "can_record": request.user.has_perms(DOSE_PERMS),
        },
    )


def _scheduled_or_404(patient: Patient, day: int, slot: str) -> ScheduledDose:
    trial = patient.site.trial
    if not 1 <= day <= trial.treatment_days or slot not in slots_for(trial.doses_per_day):
        raise Http404(_("No such scheduled dose."))
    return ScheduledDose(day, slot, treatment_day_date(patient.first_dose_date, day))


def _dose_log_url(patient: Patient, day: int) -> str:
    return f"{reverse('dose_log', args=[patient.pk])}#day-{day}"


DOSE_ERROR_ALIASES = {"administered_at": "administered_time", "slot": "status"}


def _dose_form_page(request, *, patient, form, record, scheduled, label, conflict=None):
    return render(
        request,
        "patients/treatment/dose_form.html",
        {
            "patient": patient,
            "form": form,
            "record": record,
            "scheduled": scheduled,
            "label": label,
            "conflict": conflict,
        },
        status=409 if conflict else 200,
    )


def _dose_given_now(request, patient: Patient, scheduled: ScheduledDose, label: str):
    """The bedside shortcut: one click records the prescribed dose given now, for the slot it was shown for.

    The button posts its slot and that it saw the slot empty; a repeated or stale click
    changes nothing and says so. A dose too soon after the previous one is not recorded:
    the dose form opens with the refusal and the confirmation to tick.
    """
    day, slot = scheduled.treatment_day, scheduled.slot
    posted = request.POST.get("dose")
    if posted is not None and posted != f"{day}-{slot}":
        messages.error(
            request,
            _("This button was for another dose (%(posted)s), not the %(dose)s; nothing changed.")
            % {"posted": posted, "dose": label},
        )
        return redirect(_dose_log_url(patient, day))
    try:
        dose = services.dose_given_now(
            patient=patient, treatment_day=day, slot=slot, user=request.user, expect_empty=True
        )
    except services.DoseAlreadyRecorded as exc:
        messages.warning(request, " ".join(exc.messages))
    except ValidationError as exc:
        if not services.needs_interval_confirmation(exc):
            messages.error(request, " ".join(exc.messages))
            return redirect(_dose_log_url(patient, day))
        now = timezone.localtime(clock.now(), clock.zone_of(patient.site))
        data = {
            "status": DoseAdministration.Status.GIVEN,
            "administered_date": now.date().isoformat(),
            "administered_time": now.strftime("%H:%M"),
            "amount_mg": str(patient.prescribed_dose_mg),
            "seen": "empty",
        }
        form = DoseForm(data, patient=patient, scheduled=scheduled)
        form.is_valid()
        service_errors_to_form(form, exc, DOSE_ERROR_ALIASES)
        form.asks_interval_confirmation = True
        return _dose_form_page(request, patient=patient, form=form, record=None, scheduled=scheduled, label=label)
    else:
        local = timezone.localtime(dose.administered_at, clock.zone_of(patient.site))
        # The note is the rule's explanation, which names the deviation itself.
        note = f" {dose.deviation_note}" if dose.deviation else ""
        messages.success(
            request,
            _("The %(dose)s was recorded as given at %(time)s, %(amount)s mg.")
            % {"dose": label, "time": f"{local:%H:%M}", "amount": f"{dose.amount_mg.normalize():f}"}
            + note,
        )
    return redirect(_dose_log_url(patient, day))


@never_cache
@login_required
@permission_required(DOSE_PERMS, raise_exception=True)
@require_http_methods(["GET", "POST"])
def dose_record(request, pk: int, day: int, slot: str):
    patient = selectors.patient_get_for_user(user=request.user, pk=pk)
    scheduled = _scheduled_or_404(patient, day, slot)
    label = dose_label(slot, day)
    if request.method == "POST" and "given_now" in request.POST:
        return _dose_given_now(request, patient, scheduled, label)

    record = DoseAdministration.objects.filter(patient=patient, treatment_day=day, slot=slot).first()
    if request.method == "POST" and record is not None and request.POST.get("seen") == "empty":
        # A new dose's form posted after the slot was recorded (Back button, a second tab).
        messages.warning(request, " ".join(services.DoseAlreadyRecorded(record, patient=patient).messages))
        return redirect(_dose_log_url(patient, day))
    form_class = DoseEditForm if record else DoseForm
    zone = clock.zone_of(patient.site)
    if record:
        local = timezone.localtime(record.administered_at, zone) if record.administered_at else None
        initial = {
            "status": record.status,
            "administered_date": local.date() if local else scheduled.date,
            "administered_time": local.strftime("%H:%M") if local else None,
            "amount_mg": record.amount_mg if record.amount_mg is not None else patient.prescribed_dose_mg,
            "reason": record.reason,
            "version": record.version,
        }
    else:
        now_local = timezone.localtime(clock.now(), zone)
        initial = {
            "status": DoseAdministration.Status.GIVEN,
            "administered_date": scheduled.date,
            "administered_time": now_local.strftime("%H:%M") if now_local.date() == scheduled.date else None,
            "amount_mg": patient.prescribed_dose_mg,
        }
    form = form_class(request.POST or None, patient=patient, scheduled=scheduled, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dose = services.dose_record(
                patient=patient,
                treatment_day=day,
                slot=slot,
                status=data["status"],
                administered_at=data["administered_at"],
                amount_mg=data["amount_mg"] if data["status"] == DoseAdministration.Status.GIVEN else None,
                reason=data["reason"],
                user=request.user,
                expected_version=data.get("version") if record else None,
                reason_for_change=data.get("reason_for_change"),
                expect_empty=record is None,
                confirm_short_interval=data["confirm_short_interval"],
            )
        except services.DoseAlreadyRecorded as exc:
            messages.warning(request, " ".join(exc.messages))
            return redirect(_dose_log_url(patient, day))
        except ConcurrentEditError as exc:
            conflict = exc
        except ValidationError as exc:
            service_errors_to_form(form, exc, DOSE_ERROR_ALIASES)
            if services.needs_interval_confirmation(exc):
                form.asks_interval_confirmation = True
        else:
            note = ""
            if dose.short_interval:
                note = " " + _("Short interval confirmed; the dose is flagged and queried.")
                note += f" {dose.short_interval_note}"
            messages.success(request, _("The %(dose)s was saved.") % {"dose": label} + note)
            return redirect(_dose_log_url(patient, day))
    return _dose_form_page(
        request, patient=patient, form=form, record=record, scheduled=scheduled, label=label, conflict=conflict
    )


# End of treatment, subsequent therapy, follow-up, death


@login_required
@permission_required(OUTCOME_VIEW_PERMS, raise_exception=True)
def treatment_summary(request, pk: int):
    patient = selectors.patient_get_for_user(user=request.user, pk=pk)
    end = TreatmentEnd.objects.filter(patient=patient).first()
    death = Death.objects.filter(patient=patient).first()
    return render(
        request,
        "patients/treatment/summary.html",
        {
            "patient": patient,
            "counts": selectors.patient_dose_counts(patient),
            "treatment_end": end,
            "end_lock": form_lock(end or TreatmentEnd(patient=patient), user=request.user),
            "completion": selectors.treatment_completion(patient),
            "therapies": patient.subsequent_therapies.all(),
            "follow_ups": patient.follow_ups.select_related("visit").order_by("assessed_on"),
            "death": death,
            "death_lock": form_lock(death or Death(patient=patient), user=request.user),
            "last_day": treatment_day_date(patient.first_dose_date, patient.site.trial.treatment_days),
        },
    )


@login_required
@permission_required(END_PERMS, raise_exception=True)
@require_http_methods(["GET", "POST"])
def treatment_end(request, pk: int):
    patient = selectors.patient_get_for_user(user=request.user, pk=pk)
    record = TreatmentEnd.objects.filter(patient=patient).first()
    form_class = TreatmentEndEditForm if record else TreatmentEndForm
    form = form_class(request.POST or None, instance=record, site=patient.site)
    submission = form_submit(
        request,
        form,
        lambda data: services.treatment_end_record(
            patient=patient, user=request.user, **_fields(data, END_FIELDS), **_correction(data, record)
        ),
    )
    if submission.saved:
        patient.refresh_from_db()
        messages.success(
            request,
            _("End of treatment saved; the patient is now %(status)s.") % {"status": patient.get_status_display()},
        )
        return redirect("treatment_summary", pk=patient.pk)
    trial = patient.site.trial
    context = {
        "patient": patient,
        "form": form,
        "record": record,
        "form_lock": form_lock(record or TreatmentEnd(patient=patient), user=request.user),
        "counts": selectors.patient_dose_counts(patient),
        "last_day": treatment_day_date(patient.first_dose_date, trial.treatment_days),
        "treatment_days": trial.treatment_days,
    }
    return edit_page(request, "patients/treatment/treatment_end.html", context, submission)


@login_required
@permission_required(THERAPY_PERMS, raise_exception=True)
@require_http_methods(["GET", "POST"])
def subsequent_therapy_add(request, pk: int):
    patient = selectors.patient_get_for_user(user=request.user, pk=pk)
    end = TreatmentEnd.objects.filter(patient=patient).first()
    initial = {"regimen": SubsequentTherapy.Regimen.HLH_1994, "etoposide": True, "dexamethasone": True}
    if end:
        initial["start_date"] = end.last_dose_date
    form = SubsequentTherapyForm(request.POST or None, site=patient.site, initial=initial)
    submission = form_submit(
        request,
        form,
        lambda data: services.subsequent_therapy_record(
            patient=patient, user=request.user, **_fields(data, THERAPY_FIELDS)
        ),
    )
    if submission.saved:
        messages.success(request, _("Subsequent therapy saved."))
        return redirect("treatment_summary", pk=patient.pk)
    context = {"patient": patient, "form": form, "therapy": None, "treatment_end": end}
    return edit_page(request, "patients/treatment/therapy_form.html", context, submission)


@login_required
@permission_required(THERAPY_PERMS, raise_exception=True)
@require_http_methods(["GET", "POST"])
def subsequent_therapy_edit(request, pk: int, therapy_pk: int):
    patient = selectors.patient_get_for_user(user=request.user, pk=pk)
    therapy = get_object_or_404(SubsequentTherapy, pk=therapy_pk, patient=patient)
    form = SubsequentTherapyEditForm(request.POST or None, instance=therapy, site=patient.site)
    submission = form_submit(
        request,
        form,
        lambda data: services.subsequent_therapy_update(
            therapy=therapy, user=request.user, **_fields(data, THERAPY_FIELDS), **_correction(data, therapy)
        ),
    )
    if submission.saved:
        messages.success(request, _("Subsequent therapy updated."))
        return redirect("treatment_summary", pk=patient.pk)
    context = {
        "patient": patient,
        "form": form,
        "therapy": therapy,
        "treatment_end": TreatmentEnd.objects.filter(patient=patient).first(),
    }
    return edit_page(request, "patients/treatment/therapy_form.html", context, submission)


def _follow_up_save(form, patient: Patient, user):
    def save(data: dict):
        death = {} if form.death_known else {"date_of_death": data["date_of_death"], "death_cause": data["death_cause"]}
        return services.follow_up_record(
            patient=patient,
            user=user,
            **_fields(data, FOLLOW_UP_FIELDS),
            visit=data["visit"],
            date_of_death=death.get("date_of_death"),
            death_cause=death.get("death_cause", ""),
            death_hlh_related=data["death_hlh_related"],
        )

    return save


@login_required
@permission_required(FOLLOW_UP_PERMS, raise_exception=True)
@require_http_methods(["GET", "POST"])
def follow_up_add(request, pk: int):
    patient = selectors.patient_get_for_user(user=request.user, pk=pk)
    form = FollowUpForm(request.POST or None, patient=patient)
    submission = form_submit(request, form, _follow_up_save(form, patient, request.user))
    if submission.saved:
        patient.refresh_from_db()
        messages.success(
            request, _("Follow-up saved; the patient is %(status)s.") % {"status": patient.get_status_display()}
        )
        return redirect("treatment_summary", pk=patient.pk)
    # The earlier contacts, for their open queries at the top of the form.
    context = {"patient": patient, "form": form, "follow_ups": patient.follow_ups.order_by("assessed_on")}
    return edit_page(request, "patients/treatment/follow_up_form.html", context, submission)


@login_required
@permission_required(DEATH_PERMS, raise_exception=True)
@require_http_methods(["GET", "POST"])
def death_record(request, pk: int):
    patient = selectors.patient_get_for_user(user=request.user, pk=pk)
    record = Death.objects.filter(patient=patient).first()
    form_class = DeathEditForm if record else DeathForm
    form = form_class(request.POST or None, instance=record, site=patient.site)
    submission = form_submit(
        request,
        form,
        lambda data: services.death_record(
            patient=patient, user=request.user, **_fields(data, DEATH_FIELDS), **_correction(data, record)
        ),
    )
    if submission.saved:
        messages.success(request, _("Death recorded; the patient is off study."))
        return redirect("treatment_summary", pk=patient.pk)
    context = {
        "patient": patient,
        "form": form,
        "record": record,
        "form_lock": form_lock(record or Death(patient=patient), user=request.user),
    }
    return edit_page(request, "patients/treatment/death_form.html", context, submission)


urlpatterns = [
    path("patients/<int:pk>/doses/", dose_log, name="dose_log"),
    path("patients/<int:pk>/doses/<int:day>/<str:slot>/", dose_record, name="dose_record"),
    path("patients/<int:pk>/treatment/", treatment_summary, name="treatment_summary"),
    path("patients/<int:pk>/treatment-end/", treatment_end, name="treatment_end"),
    path("patients/<int:pk>/subsequent-therapy/new/", subsequent_therapy_add, name="subsequent_therapy_add"),
    path(
        "patients/<int:pk>/subsequent-therapy/<int:therapy_pk>/edit/",
        subsequent_therapy_edit,
        name="subsequent_therapy_edit",
    ),
    path("patients/<int:pk>/follow-up/new/", follow_up_add, name="follow_up_add"),
    path("patients/<int:pk>/death/", death_record, name="death_record"),
]
