"""The language of a request: the user's choice, else the browser's, else the site's, else English.

Only the words of the pages (and the API's messages) change with it: stored data, codes, CDISC
variable names, audit values and the API's field names are the same in every language.
"""

from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from accounts.models import Preference
from trial.models import Site

SUPPORTED = {code for code, _ in settings.LANGUAGES}


def supported(code: str | None) -> str | None:
    """The language of LANGUAGES that `code` names (zh-CN and zh-Hans name zh-hans), else None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code.lower())
    except LookupError:
        return None


def browser_language(request) -> str | None:
    """The first language of the Accept-Language header that the pages speak, else None."""
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code == "*":
            break
        language = supported(code)
        if language is not None:
            return language
    return None


def chosen_language(user) -> str | None:
    """The language the user chose in the header (accounts.Preference), None for none."""
    if user is None or not user.is_authenticated:
        return None
    language = Preference.objects.filter(user=user).values_list("language", flat=True).first()
    return supported(language)


def site_language(user) -> str | None:
    """The default language shared by the user's sites; None if they differ or there are none."""
    if user is None or not user.is_authenticated:
        return None
    languages = set(Site.objects.filter(memberships__user=user).values_list("default_language", flat=True))
    return supported(languages.pop()) if len(languages) == 1 else None


def recipient_language(user) -> str:
    """The language of a message to `user`: notifications.services.recipient_language (their
    choice, else their site's default language, else English)."""
    from notifications.services import recipient_language as of_recipient

    return of_recipient(user)


def request_language(request) -> str:
    """The order of the issue: the user's choice, Accept-Language, the user's site, English.

    The API answers in the language its request asks for (Accept-Language), else English, so a
    script's messages do not depend on whose token it holds. An anonymous page (the sign-in)
    takes the switch's cookie first, then the browser's language.
    """
    if request.path_info.startswith("/api/"):
        return browser_language(request) or settings.LANGUAGE_CODE
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        cookie = supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
        return cookie or browser_language(request) or settings.LANGUAGE_CODE
    return chosen_language(user) or browser_language(request) or site_language(user) or settings.LANGUAGE_CODE


def preference_set(*, user, language: str) -> Preference:
    """Store the user's language ("" follows the browser again)."""
    if language and supported(language) != language:
        raise ValueError(f"Unknown language {language!r}")
    preference, _ = Preference.objects.update_or_create(user=user, defaults={"language": language})
    return preference
