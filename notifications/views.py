"""The user's notifications, newest first; reading them marks them read."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from notifications.selectors import notifications_for
from notifications.services import notifications_mark_read
from trial.posted import posted_int

PAGE_SIZE = 25


@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request):
    if request.method == "POST":
        notification_id = posted_int(request.POST, "notification", label="Notification", required=False)
        notifications_mark_read(user=request.user, notification_id=notification_id)
        if notification_id is not None and request.POST.get("open"):
            link = (
                notifications_for(user=request.user).filter(pk=notification_id).values_list("link", flat=True).first()
            )
            # Only a path of this site: a stored link never sends the user elsewhere.
            if link and url_has_allowed_host_and_scheme(link, allowed_hosts=None) and link.startswith("/"):
                return redirect(link)
        return redirect("notification_list")
    page = Paginator(notifications_for(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/notification_list.html", {"page": page})


urlpatterns = [
    path("notifications/", notification_list, name="notification_list"),
]
