"""Data query pages: the study's query list with counts, a query's conversation, and raising one."""

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from crf.models import DataQuery
from patients.selectors import patient_get_for_user
from queries.selectors import form_name, queries_visible, query_targets, with_target_labels
from queries.services import (
    QueryNotAllowed,
    query_answer,
    query_can_raise,
    query_close,
    query_comment,
    query_raise,
    query_reopen,
)


@login_required
def query_list(request):
    rows = queries_visible(request.user)
    status = request.GET.get("status", "")
    origin = request.GET.get("origin", "")
    subject = request.GET.get("subject", "").strip()
    if status:
        rows = rows.filter(status=status)
    if origin:
        rows = rows.filter(origin=origin)
    if subject:
        rows = rows.filter(patient__subject_number__icontains=subject)
    rows = with_target_labels(rows.order_by("-created_at")[:500])
    open_rows = [q for q in rows if q.status != DataQuery.Status.CLOSED]
    # Lists, not Counters: a template's `counter.items` would look up the key "items" first.
    counts = {
        "site": sorted(Counter(q.patient.site.code for q in open_rows).items()),
        "patient": sorted(Counter(q.patient.subject_number for q in open_rows).items()),
        "form": sorted(Counter(form_name(q.target.split(":")[0]) for q in open_rows).items()),
    }
    return render(
        request,
        "queries/list.html",
        {
            "rows": rows,
            "counts": counts,
            "status": status,
            "origin": origin,
            "subject": subject,
            "statuses": DataQuery.Status.choices,
        },
    )


@login_required
def query_detail(request, pk: int):
    query = with_target_labels([get_object_or_404(queries_visible(request.user), pk=pk)])[0]
    return render(request, "queries/detail.html", {"query": query, "conversation": query.messages.all()})


@login_required
@require_POST
def query_action(request, pk: int, action: str):
    query = get_object_or_404(queries_visible(request.user), pk=pk)
    step = {
        "answer": query_answer,
        "close": query_close,
        "reopen": query_reopen,
        "comment": query_comment,
    }.get(action)
    if step is None:
        return redirect("query_detail", pk=query.pk)
    try:
        step(query_id=query.pk, user=request.user, text=request.POST.get("text", ""))
    except QueryNotAllowed as exc:
        return render(request, "403.html", {"exception": str(exc)}, status=403)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Query {action} recorded.")
    return redirect("query_detail", pk=query.pk)


@login_required
def patient_queries(request, pk: int):
    patient = patient_get_for_user(user=request.user, pk=pk)
    targets = query_targets(patient)
    if request.method == "POST":
        target = request.POST.get("target", "")
        if not query_can_raise(request.user):
            # The role is refused before the form is read: the site answers queries, it does not raise them.
            return render(
                request, "403.html", {"exception": "Only monitors and data managers raise queries."}, status=403
            )
        if target not in dict(targets):
            messages.error(request, "Record: choose one of this patient's records.")
        else:
            try:
                query_raise(
                    patient=patient,
                    target=target,
                    field=request.POST.get("field", "").strip()[:60],
                    text=request.POST.get("text", ""),
                    user=request.user,
                )
            except QueryNotAllowed as exc:
                return render(request, "403.html", {"exception": str(exc)}, status=403)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, "Query raised; the site is asked to answer it.")
                return redirect("patient_queries", pk=patient.pk)
    rows = with_target_labels(DataQuery.objects.filter(patient=patient).order_by("-created_at"))
    return render(
        request, "queries/patient.html", {"patient": patient, "rows": rows, "targets": targets, "active": "queries"}
    )


urlpatterns = [
    path("queries/", query_list, name="query_list"),
    path("queries/<int:pk>/", query_detail, name="query_detail"),
    path("queries/<int:pk>/<str:action>/", query_action, name="query_action"),
    path("patients/<int:pk>/queries/", patient_queries, name="patient_queries"),
]
