"""A database that is busy (a row lock held too long, a statement too slow) is a 503, not a 500."""

from django.http import JsonResponse
from django.shortcuts import render

from crf.transactions import BUSY_MESSAGE, RETRY_AFTER_SECONDS, is_busy, is_conflict


class DatabaseBusyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not (is_busy(exception) or is_conflict(exception)):
            return None
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": BUSY_MESSAGE, "code": "database_busy"}, status=503)
        else:
            response = render(request, "503.html", {"message": BUSY_MESSAGE}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
