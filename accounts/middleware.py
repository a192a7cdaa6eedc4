"""Until the second factor is given, a signed-in user reaches only the pages that ask for it.

After django-otp's OTPMiddleware (which knows whether this session's sign-in was verified): a
user with an authenticator is sent to enter its code; one whose role requires two factors and
who has none is sent to set one up. The API, reached with this session, answers 403 in JSON.
A request signed with an API token is not a session sign-in: the token endpoint asked for the
code already (accounts/api.py).
"""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.http import urlencode

from accounts.language import request_language
from accounts.two_factor import confirmed_device, two_factor_required

# The pages open between the password and the second factor.
OPEN = {"login", "logout", "two_factor", "two_factor_verify"}


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.is_verified() and not self._open(request):
            step = self._step(user)
            if step is not None:
                return self._send(request, step)
        return self.get_response(request)

    @staticmethod
    def _step(user) -> str | None:
        if confirmed_device(user) is not None:
            return "two_factor_verify"
        if two_factor_required(user):
            return "two_factor"
        return None

    @staticmethod
    def _open(request) -> bool:
        try:
            return resolve(request.path_info).url_name in OPEN
        except Resolver404:
            return True  # a 404 stays a 404

    @staticmethod
    def _send(request, step: str):
        if request.path_info.startswith("/api/"):
            what = "enter your code" if step == "two_factor_verify" else "set up two-factor sign-in"
            return JsonResponse(
                {"detail": f"This sign-in needs its second factor: {what} at /account/two-factor/ first."}, status=403
            )
        return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")


class UserLanguageMiddleware:
    """Activate the request's language (accounts.language) once the user is known.

    After AuthenticationMiddleware: LocaleMiddleware, earlier, knows only the cookie and the
    browser; the signed-in user's choice and their site's default come from the database.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        return self.get_response(request)
