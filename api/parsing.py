"""Request bodies of the API, read strictly and within limits, every refusal a JSON error naming the field.

JSON (every endpoint, and the import's JSON bundle as a body or a file):
* nested at most MAX_JSON_DEPTH levels (the deepest bundle needs 7): checked on the text before
  parsing, so a body of 50,000 "[" is a 400, not the parser's recursion error;
* numbers are finite, whole numbers at most 18 digits: NaN, Infinity and 1e309 (which Python
  reads as infinity) are refused by their path ("version", "values[0].value");
* text and keys hold no NUL and no unpaired surrogate ("\\ud800", which no UTF-8 text can
  hold and PostgreSQL refuses): the shared check of trial.text_columns.

A body over Django's DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 (api.errors). A CSV bundle (a ZIP)
sent as the body or as the multipart file `bundle` is refused with 413 before it is read when
its Content-Length is over the ZIP limit, and copied to a spooled temporary file (to disk past
FILE_UPLOAD_MAX_MEMORY_SIZE), never held whole in memory.
"""

import json
import math
import re
import tempfile

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser

from api.bundle_zip import CHUNK, MAX_ZIP_BYTES, megabytes
from trial.text_columns import text_problem

MAX_JSON_DEPTH = 32
MAX_INTEGER_DIGITS = 18
BUNDLE_FIELD = "bundle"


class BodyTooLarge(APIException):
    """413 with {field: [message naming the limit]}, as a 400 names its field."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE

    def __init__(self, field: str, message: str):
        super().__init__({field: [message]})


class _Refused:
    """A JSON number the API does not accept, kept with its text until its path is known."""

    def __init__(self, text: str, message: str):
        self.text, self.message = text, message


def _constant(text: str) -> _Refused:
    return _Refused(text, f"Enter a finite number ({text} is not one).")


def _float(text: str):
    value = float(text)
    return value if math.isfinite(value) else _Refused(text, f"Enter a finite number ({text} is beyond ±1.8e308).")


def _int(text: str):
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        shown = text if len(text) <= 24 else text[:20] + "..."
        return _Refused(text, f"Enter a whole number of at most {MAX_INTEGER_DIGITS} digits (entered {shown}).")
    return int(text)


# The text without its strings (which may hold any bracket), for counting the nesting.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def nesting_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _shown(key: str) -> str:
    """A key as an error can name it (a lone surrogate cannot be sent back as JSON)."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def value_problems(value, path: str = "") -> dict[str, list[str]]:
    """Refused numbers and texts by their path in the document: "reason", "values[0].unit"."""
    problems: dict[str, list[str]] = {}

    def walk(item, at: str) -> None:
        if isinstance(item, _Refused):
            problems[at or "non_field_errors"] = [item.message]
        elif isinstance(item, str):
            if problem := text_problem(item):
                problems[at or "non_field_errors"] = [problem]
        elif isinstance(item, dict):
            for key, child in item.items():
                name = f"{at}.{_shown(key)}" if at else _shown(key)
                if problem := text_problem(key):
                    problems[name] = [f"Field name: {problem}"]
                walk(child, name)
        elif isinstance(item, list):
            for index, child in enumerate(item):
                walk(child, f"{at}[{index}]")

    walk(value, path)
    return problems


def json_loads(raw: bytes | str, *, field: str = "non_field_errors", not_json: str | None = None):
    """A JSON document read strictly; ValidationError (400) naming the field of each refused value.

    `not_json` replaces the message for a text that is not JSON at all.
    """
    if isinstance(raw, bytes | bytearray):
        try:
            raw = bytes(raw).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            message = f"The JSON is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at {exc.start})."
            raise ValidationError({field: [not_json or message]}, code="not_json") from None
    if nesting_too_deep(raw):
        message = f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep."
        raise ValidationError({field: [message]}, code="too_deep")
    try:
        data = json.loads(raw, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except ValueError as exc:  # json.JSONDecodeError, or a number Python cannot read
        raise ValidationError({field: [not_json or f"JSON parse error: {exc}."]}, code="not_json") from None
    if problems := value_problems(data):
        raise ValidationError(problems)
    return data


class StrictJSONParser(JSONParser):
    """DRF's JSON parser with the checks above; DRF reads the body within DATA_UPLOAD_MAX_MEMORY_SIZE."""

    def parse(self, stream, media_type=None, parser_context=None):
        return json_loads(stream.read())


def _content_length(parser_context) -> int:
    request = (parser_context or {}).get("request")
    meta = getattr(request, "META", {})
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        return 0


def _zip_too_large() -> BodyTooLarge:
    return BodyTooLarge(BUNDLE_FIELD, f"The ZIP is larger than {megabytes(MAX_ZIP_BYTES)}; split the bundle.")


class ZipBodyParser(BaseParser):
    """A CSV bundle sent as the request body (Content-Type: application/zip), as a spooled file."""

    media_type = "application/zip"

    def parse(self, stream, media_type=None, parser_context=None):
        if _content_length(parser_context) > MAX_ZIP_BYTES:
            raise _zip_too_large()
        copy = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
        size = 0
        while stream is not None and (chunk := stream.read(CHUNK)):
            size += len(chunk)
            if size > MAX_ZIP_BYTES:
                copy.close()
                raise _zip_too_large()
            copy.write(chunk)
        copy.seek(0)
        return copy


class BundleMultiPartParser(MultiPartParser):
    """The multipart upload of a bundle, refused before it is read when it is over the ZIP limit."""

    def parse(self, stream, media_type=None, parser_context=None):
        if _content_length(parser_context) > MAX_ZIP_BYTES:
            raise _zip_too_large()
        return super().parse(stream, media_type, parser_context)
