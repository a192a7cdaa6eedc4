"""The words of the rules in the reader's language, without the rules importing Django.

The rules are pure Python: they build their reasons with these functions, named as gettext's
so that makemessages finds their messages. Until an application installs a translator they
return the English message; the trial app installs Django's at start-up (trial/apps.py), so a
page and a document read the reasons in the active language and a stored result, built inside
translation.override("en"), stays English.
"""

from collections.abc import Callable

_gettext: Callable[[str], str] = lambda message: message  # noqa: E731 - until a translator is installed
_pgettext: Callable[[str, str], str] = lambda context, message: message  # noqa: E731
_ngettext: Callable[[str, str, int], str] = lambda singular, plural, n: singular if n == 1 else plural  # noqa: E731


def install(*, gettext_function, pgettext_function, ngettext_function) -> None:
    """Use these translation functions from now on (the trial app passes Django's)."""
    global _gettext, _pgettext, _ngettext
    _gettext, _pgettext, _ngettext = gettext_function, pgettext_function, ngettext_function


def gettext(message: str) -> str:
    return _gettext(message)


def pgettext(context: str, message: str) -> str:
    return _pgettext(context, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _ngettext(singular, plural, n)


def gettext_noop(message: str) -> str:
    """Marks a message for the catalogue; translated later, where it is shown."""
    return message
