"""Data query pages: the study's query list with counts, ageing and a CSV export, a query's
conversation, and raising one on a field picked from the record's form."""

import csv
from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crf.models import DataQuery
from patients.selectors import patient_get_for_user
from queries.selectors import (
    form_name,
    queries_older_than,
    queries_visible,
    query_assignees,
    query_targets,
    target_fields,
    with_target_labels,
)
from queries.services import (
    ANSWER,
    CLOSE,
    RAISE,
    QueryNotAllowed,
    query_answer,
    query_assign,
    query_can_assign,
    query_can_raise,
    query_close,
    query_comment,
    query_raise,
    query_reopen,
)
from trial.clock import site_zone_label, zone_of
from trial.posted import whole_number
from trial.spreadsheet import spreadsheet_safe

LIST_LIMIT = 500
AGE_LIMIT = 3650  # days: ten years, longer than the trial


def _filters(request) -> tuple[dict, list[str]]:
    """The list's filters as sent, and a message for each one that cannot be used."""
    values = {key: request.GET.get(key, "").strip() for key in ("status", "origin", "subject", "older_than")}
    problems = []
    if values["status"] and values["status"] not in DataQuery.Status.values:
        problems.append(_("Status: choose open, answered or closed."))
        values["status"] = ""
    if values["origin"] and values["origin"] not in DataQuery.Origin.values:
        problems.append(_("Origin: choose edit checks or manual."))
        values["origin"] = ""
    values["days"] = None
    if values["older_than"]:
        try:
            values["days"] = whole_number(
                values["older_than"], label=_("Open for more than (days)"), minimum=0, maximum=AGE_LIMIT
            )
        except ValidationError as exc:
            problems.append(" ".join(exc.messages))
    return values, problems


def _filtered(request, values: dict):
    rows = queries_visible(request.user).select_related("assignee", "raised_by")
    if values["status"]:
        rows = rows.filter(status=values["status"])
    if values["origin"]:
        rows = rows.filter(origin=values["origin"])
    if values["subject"]:
        rows = rows.filter(patient__subject_number__icontains=values["subject"])
    if values["days"] is not None:
        rows = queries_older_than(rows, days=values["days"])
    return with_target_labels(rows.order_by("-created_at", "-id")[:LIST_LIMIT])


@login_required
def query_list(request):
    values, problems = _filters(request)
    for problem in problems:
        messages.error(request, problem)
    rows = _filtered(request, values)
    open_rows = [q for q in rows if q.status != DataQuery.Status.CLOSED]
    # Lists, not Counters: a template's `counter.items` would look up the key "items" first.
    counts = {
        _("Open by site"): sorted(Counter(q.patient.site.code for q in open_rows).items()),
        _("Open by patient"): sorted(Counter(q.patient.subject_number for q in open_rows).items()),
        _("Open by form"): sorted(Counter(form_name(q.target.split(":")[0]) for q in open_rows).items()),
    }
    return render(
        request,
        "queries/list.html",
        {
            "rows": rows,
            "counts": counts,
            "status": values["status"],
            "origin": values["origin"],
            "subject": values["subject"],
            "older_than": values["older_than"],
            "statuses": DataQuery.Status.choices,
            "export_query": request.GET.urlencode(),
            "limit": LIST_LIMIT,
        },
    )


CSV_COLUMNS = (
    "id",
    "site",
    "subject_number",
    "form",
    "record",
    "field",
    "field_name",
    "status",
    "origin",
    "check_code",
    "raised_at",
    "raised_by",
    "raised_by_role",
    "assignee",
    "age_days",
    "question",
    "record_url",
)


@login_required
def query_export(request):
    """The list as filtered, as CSV; free text passes the spreadsheet guard (trial.spreadsheet)."""
    values, problems = _filters(request)
    if problems:
        return HttpResponse(" ".join(problems), status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="queries.csv"'
    if request.GET.get("excel") == "1":
        # UTF-8's byte-order mark: Excel then reads the file as UTF-8 (docs/exports.md).
        response.write("\ufeff")
    writer = csv.writer(response, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for q in _filtered(request, values):
        zone_time = q.created_at.astimezone(zone_of(q.patient.site))
        cells = (
            q.pk,
            q.patient.site.code,
            q.patient.subject_number,
            form_name(q.target.partition(":")[0]),
            q.target_label,
            q.field_label,
            q.field,
            q.get_status_display(),
            q.get_origin_display(),
            q.check_code,
            f"{zone_time:%Y-%m-%d %H:%M} ({site_zone_label(q.patient.site, at=q.created_at)})",
            q.raised_by.get_username() if q.raised_by else "",
            q.raised_by_role,
            q.assignee.get_username() if q.assignee else "",
            q.age_days,
            q.text,
            request.build_absolute_uri(q.record_url) if q.record_url else "",
        )
        writer.writerow([spreadsheet_safe(str(cell)) for cell in cells])
    return response


def _detail_context(request, query: DataQuery, **extra) -> dict:
    user = request.user
    can_close = user.has_perm(CLOSE)
    context = {
        "query": query,
        "conversation": query.messages.select_related("author"),
        "can_answer": user.has_perm(ANSWER) and query.status == DataQuery.Status.OPEN,
        "can_close": can_close and query.status != DataQuery.Status.CLOSED,
        "can_reopen": can_close and query.status != DataQuery.Status.OPEN,
        "can_comment": any(user.has_perm(p) for p in (RAISE, ANSWER, CLOSE)) and query.status != "closed",
        "can_assign": query_can_assign(user) and query.status != DataQuery.Status.CLOSED,
        "assignees": query_assignees(patient=query.patient),
        "typed": {},
    }
    context.update(extra)
    return context


@login_required
def query_detail(request, pk: int):
    query = with_target_labels([get_object_or_404(queries_visible(request.user), pk=pk)])[0]
    return render(request, "queries/detail.html", _detail_context(request, query))


STEPS = {"answer": query_answer, "close": query_close, "reopen": query_reopen, "comment": query_comment}
DONE = {
    "answer": _("Answer recorded."),
    "close": _("Query closed."),
    "reopen": _("Query re-opened."),
    "comment": _("Comment added."),
    "assign": _("Assignment recorded."),
}


@login_required
@require_POST
def query_action(request, pk: int, action: str):
    query = get_object_or_404(queries_visible(request.user), pk=pk)
    if action not in STEPS and action != "assign":
        return redirect("query_detail", pk=query.pk)
    text = request.POST.get("text", "")
    try:
        if action == "assign":
            raw = request.POST.get("assignee", "").strip()
            assignee_id = whole_number(raw, label=_("Assignee")) if raw else None
            query_assign(query_id=query.pk, user=request.user, assignee_id=assignee_id)
        else:
            STEPS[action](query_id=query.pk, user=request.user, text=text)
    except QueryNotAllowed as exc:
        return render(request, "403.html", {"exception": str(exc)}, status=403)
    except ValidationError as exc:
        # Shown on the page again with what was typed, not lost in a redirect.
        query = with_target_labels([queries_visible(request.user).get(pk=query.pk)])[0]
        context = _detail_context(request, query, typed={action: text}, typed_text=text, error=" ".join(exc.messages))
        return render(request, "queries/detail.html", context, status=400)
    messages.success(request, DONE[action])
    return redirect("query_detail", pk=query.pk)


def _safe_next(request, value: str) -> str:
    ok = value.startswith("/") and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()})
    return value if ok else ""


@login_required
def patient_queries(request, pk: int):
    patient = patient_get_for_user(user=request.user, pk=pk)
    targets = query_targets(patient)
    target_names = dict(targets)
    source = request.POST if request.method == "POST" else request.GET
    typed = {key: source.get(key, "") for key in ("target", "field", "text", "assignee", "next")}
    if typed["target"] not in target_names:
        typed["target"] = targets[0][0] if targets else ""
    status = 200
    if request.method == "POST":
        if not query_can_raise(request.user):
            # The role is refused before the form is read: the site answers queries, it does not raise them.
            return render(
                request, "403.html", {"exception": _("Only monitors and data managers raise queries.")}, status=403
            )
        try:
            if request.POST.get("target", "") not in target_names:
                raise ValidationError({"target": _("Record: choose one of this patient's records.")})
            raw = typed["assignee"].strip()
            query_raise(
                patient=patient,
                target=typed["target"],
                field=typed["field"].strip(),
                text=typed["text"],
                user=request.user,
                assignee_id=whole_number(raw, label=_("Assignee")) if raw else None,
            )
        except QueryNotAllowed as exc:
            return render(request, "403.html", {"exception": str(exc)}, status=403)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            status = 400
        else:
            messages.success(request, _("Query raised; the site is asked to answer it."))
            return redirect(_safe_next(request, typed["next"]) or reverse("patient_queries", args=[patient.pk]))
    rows = with_target_labels(
        DataQuery.objects.filter(patient=patient).select_related("patient__site", "assignee").order_by("-created_at")
    )
    labels = list(dict.fromkeys(value.partition(":")[0] for value, _label in targets))
    field_groups = [(label, form_name(label), list(target_fields(label + ":").items())) for label in labels]
    return render(
        request,
        "queries/patient.html",
        {
            "patient": patient,
            "rows": rows,
            "targets": targets,
            "field_groups": field_groups,
            "chosen_form": typed["target"].partition(":")[0],
            "assignees": query_assignees(patient=patient),
            "typed": typed,
            "can_raise": query_can_raise(request.user),
            "active": "queries",
        },
        status=status,
    )


urlpatterns = [
    path("queries/", query_list, name="query_list"),
    path("queries/export.csv", query_export, name="query_export"),
    path("queries/<int:pk>/", query_detail, name="query_detail"),
    path("queries/<int:pk>/<str:action>/", query_action, name="query_action"),
    path("patients/<int:pk>/queries/", patient_queries, name="patient_queries"),
]
