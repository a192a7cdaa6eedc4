"""The patient's review page: locks, source data verification and signatures."""

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from assessments.models import AdverseEvent, LabPanel, Visit
from crf.catalogue import page_of, target_of
from crf.locks import lockable_model, scope_of
from crf.models import DataLock
from patients.selectors import patient_get_for_user
from queries.selectors import form_name, queries_unresolved_covered
from review import selectors, services
from review.models import Signature
from trial.posted import posted_int, whole_number
from trial.selectors import trial_current, user_sites
from trial.visit_names import visit_name


def _forms(patient) -> list:
    """The forms a monitor verifies: screening, enrollment, each lab panel, each adverse event."""
    records = [patient.screening, patient]
    records += list(LabPanel.objects.filter(patient=patient).select_related("visit"))
    records += list(AdverseEvent.objects.filter(patient=patient).select_related("term"))
    rows = []
    for record in records:
        rows.append(
            {
                "record": record,
                "label": _label(record),
                "target": scope_of(record)[2],
                "sdv": services.sdv_status(record=record),
            }
        )
    return rows


def _label(record) -> str:
    if isinstance(record, LabPanel):
        return _("Labs — %(visit)s") % {"visit": visit_name(record.visit.name)}
    return f"{form_name(record._meta.label_lower)} {record}"


def _confirmed(request) -> bool:
    return request.POST.get(services.CONFIRM_FIELD) == "1"


@login_required
def patient_review(request, pk: int):
    patient = patient_get_for_user(user=request.user, pk=pk)
    error, typed = "", {}
    if request.method == "POST":
        try:
            _act(request, patient)
        except services.ReviewNotAllowed as exc:
            return render(request, "403.html", {"exception": str(exc)}, status=403)
        except ValidationError as exc:
            if services.CONFIRM_FIELD not in getattr(exc, "error_dict", {}):
                messages.error(request, " ".join(exc.messages))
                return redirect("patient_review", pk=patient.pk)
            # Open queries: the page again with what was typed (the reason, the choices; never the
            # password) and the box to tick, so the confirmation is one click away.
            error = " ".join(exc.messages)
            typed = {key: request.POST.get(key, "") for key in ("action", "reason", "visit", "level", "target")}
        else:
            return redirect("patient_review", pk=patient.pk)
    signatures = [(s, services.signature_valid(s)) for s in Signature.objects.filter(patient=patient)]
    user = request.user
    forms = _forms(patient)
    unresolved = queries_unresolved_covered(patient=patient)
    per_target = Counter(q.target for q in unresolved)
    for row in forms:
        row["open_queries"] = per_target.get(row["target"], 0)
    return render(
        request,
        "review/patient.html",
        {
            "patient": patient,
            "active": "review",
            "forms": forms,
            "unresolved": unresolved,
            "error": error,
            "typed": typed,
            "locks": DataLock.objects.filter(patient=patient) | DataLock.objects.filter(scope="study"),
            "signatures": signatures,
            "visits": Visit.objects.filter(patient=patient, visit_date__isnull=False),
            "meaning": services.signature_meaning(user=request.user, scope="casebook", patient=patient),
            "can_sdv": user.has_perm("review.verify_source"),
            "can_lock": user.has_perm("crf.lock_data"),
            "can_sign": user.has_perm("review.sign_records"),
        },
        status=400 if error else 200,
    )


def _chosen_visit(request, patient) -> Visit | None:
    chosen = posted_int(request.POST, "visit", label="Visit", required=False)
    return Visit.objects.filter(patient=patient, pk=chosen).first() if chosen is not None else None


def _act(request, patient) -> None:
    action = request.POST.get("action")
    user = request.user
    if action == "sdv":
        label, _sep, pk = request.POST.get("target", "").partition(":")
        model = lockable_model(label)
        record = model.objects.filter(pk=whole_number(pk, label="Form id")).first() if model is not None else None
        if record is None or scope_of(record)[0] != patient.pk:
            raise ValidationError({"target": _("That form is not this patient's.")})
        if not user.has_perm("review.verify_source"):
            raise services.ReviewNotAllowed(_("Only monitors mark source data verified."))
        services.open_queries_check(
            queries=queries_unresolved_covered(target=scope_of(record)[2]),
            confirmed=_confirmed(request),
            step=_("verified"),
        )
        services.sdv_mark(record=record, user=user)
        messages.success(request, _("%(form)s marked source-verified.") % {"form": _label(record)})
    elif action == "lock":
        visit = _chosen_visit(request, patient)
        scope = DataLock.Scope.VISIT if visit else DataLock.Scope.PATIENT
        if user.has_perm("crf.lock_data"):
            services.lock_reason_check(request.POST.get("reason", ""))  # what is missing first, then the queries
            services.open_queries_check(
                queries=services.lock_open_queries(
                    trial=patient.site.trial,
                    scope=scope,
                    level=request.POST.get("level", "lock"),
                    patient=patient,
                    visit=visit,
                ),
                confirmed=_confirmed(request),
                step=_("locked"),
            )
        services.lock_set(
            trial=patient.site.trial,
            scope=scope,
            level=request.POST.get("level", "lock"),
            user=user,
            reason=request.POST.get("reason", ""),
            patient=patient,
            visit=visit,
        )
        level = request.POST.get("level", "lock")
        done = _("Visit frozen.") if scope == DataLock.Scope.VISIT else _("Patient frozen.")
        if level == DataLock.Level.LOCK:
            done = _("Visit locked.") if scope == DataLock.Scope.VISIT else _("Patient locked.")
        messages.success(request, done)
    elif action == "unlock":
        lock = DataLock.objects.filter(pk=posted_int(request.POST, "lock", label="Lock"), patient=patient).first()
        if lock is None:
            raise ValidationError({"lock": _("That is not a lock of this patient.")})
        services.lock_release(lock_id=lock.pk, user=user, reason=request.POST.get("reason", ""))
        messages.success(request, _("Unlocked; the reason is kept in the lock's history."))
    elif action == "sign":
        visit = _chosen_visit(request, patient)
        if user.has_perm("review.sign_records"):  # before the password: no failed attempt counted
            services.open_queries_check(
                queries=queries_unresolved_covered(patient=patient, visit=visit),
                confirmed=_confirmed(request),
                step=_("signed"),
            )
        services.signature_sign(
            patient=patient,
            user=user,
            password=request.POST.get("password", ""),
            visit=visit,
            request=request,
        )
        messages.success(request, _("Signed."))


@login_required
@require_POST
def record_lock(request, label: str, pk: int):
    """Freeze or lock one form from its page, or unlock it with a reason (data managers)."""
    model = lockable_model(label)
    if model is None:
        raise Http404("No such form.")
    record = get_object_or_404(model, pk=pk)
    patient_id = scope_of(record)[0]
    if patient_id is None:
        raise Http404("No such form.")
    patient_get_for_user(user=request.user, pk=patient_id)  # another site's form is a 404
    back = request.POST.get("next", "")
    if not (back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})):
        back = page_of(record)
    action = request.POST.get("action", "")
    try:
        if action == "lock":
            level = request.POST.get("level", "")
            if request.user.has_perm("crf.lock_data"):
                services.lock_reason_check(request.POST.get("reason", ""))
                services.open_queries_check(
                    queries=services.lock_open_queries(
                        trial=None, scope=DataLock.Scope.RECORD, level=level, target=target_of(record)
                    ),
                    confirmed=_confirmed(request),
                    step=_("locked"),
                )
            lock = services.form_lock_set(
                record=record, level=level, user=request.user, reason=request.POST.get("reason", "")
            )
            done = (
                _("%(form)s locked: it cannot be changed until a data manager unlocks it.")
                if lock.level == DataLock.Level.LOCK
                else _("%(form)s frozen: it cannot be changed until a data manager unlocks it.")
            )
            messages.success(request, done % {"form": _label(record)})
        elif action == "unlock":
            lock = DataLock.objects.filter(
                pk=posted_int(request.POST, "lock", label="Lock"),
                scope=DataLock.Scope.RECORD,
                target=target_of(record),
            ).first()
            if lock is None:
                raise ValidationError({"lock": _("That is not a lock of this form.")})
            services.lock_release(lock_id=lock.pk, user=request.user, reason=request.POST.get("reason", ""))
            messages.success(
                request, _("%(form)s unlocked; the reason is kept in the lock's history.") % {"form": _label(record)}
            )
        else:
            raise ValidationError({"action": _("Choose to lock or to unlock the form.")})
    except services.ReviewNotAllowed as exc:
        return render(request, "403.html", {"exception": str(exc)}, status=403)
    except ValidationError as exc:
        messages.error(request, _("Not done: %(why)s") % {"why": " ".join(exc.messages)})
    return redirect(back)


SEARCH_MAX = 40


@login_required
@permission_required(("patients.view_patient", "assessments.view_visit"), raise_exception=True)
def study_matrix(request):
    """Patients by visits and forms, each cell's status; filters by site, status and subject."""
    notices = []
    sites = list(user_sites(request.user))
    site_id = None
    raw_site = request.GET.get("site", "").strip()
    if raw_site:
        site_id = next((site.pk for site in sites if str(site.pk) == raw_site), None)
        if site_id is None:
            notices.append(_("That site is not one of yours; showing all your sites."))
    status = None
    raw_status = request.GET.get("status", "").strip()
    if raw_status:
        status = next((s for s in selectors.STATUS_ORDER if s.value == raw_status), None)
        if status is None:
            notices.append(_("There is no status “%(status)s”; showing every status.") % {"status": raw_status[:40]})
    query = request.GET.get("q", "").strip()[:SEARCH_MAX]
    matrix = selectors.study_matrix(
        user=request.user,
        trial=trial_current(),
        site_id=site_id,
        query=query,
        status=status,
        page=request.GET.get("page"),
    )
    filters = {
        key: value
        for key, value in (("q", query), ("site", site_id or ""), ("status", status.value if status else ""))
        if value
    }
    return render(
        request,
        "review/matrix.html",
        {
            "matrix": matrix,
            "sites": sites,
            "statuses": selectors.STATUS_ORDER,
            "notices": notices,
            "filters": urlencode(filters),
        },
    )


urlpatterns = [
    path("matrix/", study_matrix, name="study_matrix"),
    path("patients/<int:pk>/review/", patient_review, name="patient_review"),
    path("review/forms/<str:label>/<int:pk>/lock/", record_lock, name="record_lock"),
]
