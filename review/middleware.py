"""A write refused because the data are frozen or locked is a clear page, never a server error.

Each form page shows the refusal on the form itself; this catches any other path to a write
(a button on a list, a shortcut) that meets a lock, with 423 Locked and the lock named.
"""

from django.shortcuts import render

from crf.locks import RecordLocked


class LockedDataMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, RecordLocked):
            return None
        return render(
            request,
            "review/locked.html",
            {"message": " ".join(exception.messages), "lock": exception.lock},
            status=423,
        )
