"""The user's own second factor (set it up or turn it off, give its code after the password) and
the language of the pages (the switch in the header)."""

import django_otp
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import two_factor
from accounts.language import preference_set, supported


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code from your authenticator app"), max_length=12)


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


def _checked(request, form: CodeForm, check) -> bool:
    """Run `check(code)` for a valid form; put its refusal on the form's field."""
    if not form.is_valid():
        return False
    try:
        check(form.cleaned_data["code"])
    except ValidationError as refused:
        form.add_error("code", refused.message_dict.get("code", refused.messages))
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    user = request.user
    device = two_factor.confirmed_device(user)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if device is None and _checked(
            request, form, lambda code: two_factor.device_confirm(user=user, code=code, request=request)
        ):
            django_otp.login(request, two_factor.confirmed_device(user))
            messages.success(request, _("Two-factor sign-in is on: each sign-in now asks for a code of your app."))
            return redirect(_next(request))
        if device is not None and _checked(
            request, form, lambda code: two_factor.device_remove(user=user, code=code, request=request)
        ):
            messages.success(request, _("Two-factor sign-in is off."))
            return redirect("two_factor")
    pending = two_factor.pending_device(user) if device is None else None
    context = {
        "form": form,
        "device": device,
        "pending": pending,
        "required": two_factor.required_role_labels(user),
        "next": _next(request),
    }
    if pending is not None:
        context |= {
            "qr": two_factor.qr_svg(pending),
            "secret": two_factor.secret_text(pending),
            "uri": pending.config_url,
        }
    return render(request, "accounts/two_factor.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    user = request.user
    device = two_factor.confirmed_device(user)
    if device is None:
        return redirect("two_factor")
    if user.is_verified():
        return redirect(_next(request))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and _checked(
        request,
        form,
        lambda code: two_factor.code_verify(user=user, device=device, code=code, request=request, detail="sign-in"),
    ):
        django_otp.login(request, device)
        return redirect(_next(request))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next(request)})


@require_POST
def language_switch(request):
    """Store the language chosen in the header and go back to the same page.

    A signed-in user's choice is kept in their preferences (it follows them to another browser);
    the cookie carries it for the sign-in page, before and after. `next` is a path on this host,
    else the home page. The page's typed values survive the reload (static/js/language_switch.js).
    """
    language = supported(request.POST.get("language"))
    if language is None:
        return HttpResponseBadRequest(_("Choose one of the languages of the pages."))
    if request.user.is_authenticated:
        preference_set(user=request.user, language=language)
    response = redirect(_next(request))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return response


urlpatterns = [
    path("language/", language_switch, name="language_switch"),
    path("account/two-factor/", two_factor_setup, name="two_factor"),
    path("account/two-factor/verify/", two_factor_verify, name="two_factor_verify"),
]
