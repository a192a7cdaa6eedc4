"""What a user sees when a request goes wrong: a page of the eCRF, never a debug page.

Django renders templates/403.html, 404.html and 500.html itself when DEBUG is off (500.html
without a request: it reads nothing from the database). The 400 page is ours so that a
posted number the page cannot use (trial.posted) says which field and why; any other bad
request (e.g. an unknown Host header) says nothing more than that.
"""

from django.shortcuts import render
from django.views.decorators.csrf import requires_csrf_token

from trial.posted import PostedValueInvalid


@requires_csrf_token
def bad_request(request, exception):
    message = " ".join(exception.messages) if isinstance(exception, PostedValueInvalid) else ""
    return render(request, "400.html", {"message": message}, status=400)
