"""The schema's error responses: each operation lists the statuses it can answer besides success.

A drf-spectacular postprocessing hook, so that the rules are in one place rather than on each
view: which errors an operation can give follows from what it is (docs/api.md, "Errors"):

| status | body | operations |
| --- | --- | --- |
| 400 | FieldErrors | every write; every list (its filters, page and page_size) |
| 401, 403 | Detail | every operation but the token's (no or a bad token; a role without the right) |
| 404 | Detail | a path with an {id}; a write naming a patient or visit (another site's); a page past the end |
| 409 | Conflict | every operation that takes the version loaded (If-Match) |
| 413 | FieldErrors | every write (a body over the size limit; the import's bundle limits) |
| 423 | Locked | every write to the trial's records (frozen or locked data) |
"""

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "description": 'A refusal: {"detail": "You do not have permission to perform this action."}',
}
FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "description": 'Messages by field, naming the limit: {"max_temperature_c": ["... at most 45 °C (entered 60)."]}; '
    "non_field_errors for the record or the body as a whole; a nested field by its path (values[0].value).",
}
CONFLICT = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "current_version": {"type": "integer"},
        "expected_version": {"type": "integer"},
        "changes": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
            },
        },
    },
    "required": ["detail", "current_version", "expected_version", "changes"],
    "description": "The record moved on since the version sent: what changed; nothing was saved.",
}
LOCKED = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "lock": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "scope": {"type": "string", "enum": ["record", "visit", "patient", "study"]},
                "level": {"type": "string", "enum": ["freeze", "lock"]},
                "target": {"type": "string"},
                "patient": {"type": "integer", "nullable": True},
                "visit": {"type": "integer", "nullable": True},
                "locked_by": {"type": "string"},
                "locked_at": {"type": "string", "format": "date-time"},
                "reason": {"type": "string"},
            },
        },
    },
    "required": ["detail"],
    "description": "The data are frozen or locked; a data manager must unlock them first. Nothing was saved.",
}
SCHEMAS = {"Detail": DETAIL, "FieldErrors": FIELD_ERRORS, "Conflict": CONFLICT, "Locked": LOCKED}

RESPONSES = {
    400: ("FieldErrors", "Bad input: each field named with its limit; nothing was saved."),
    401: ("Detail", "No credentials, or a bad token."),
    403: ("Detail", "Your role does not allow this."),
    404: ("Detail", "No such record at your sites (another site's record is 404 too)."),
    409: ("Conflict", "Stale version."),
    413: ("FieldErrors", "The body is over a size limit, named."),
    423: ("Locked", "Frozen or locked data."),
}
WRITES = {"post", "put", "patch", "delete"}
SIGN_IN_PATH = "/api/v1/auth/token/"
IMPORTS_PATH = "/api/v1/imports/"


def _body_fields(operation: dict, components: dict) -> set[str]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = content.get("schema", {}).get("$ref", "")
    return set(components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))


def error_statuses(path: str, method: str, operation: dict, components: dict | None = None) -> set[int]:
    if path == SIGN_IN_PATH:
        return {400}
    statuses = {401, 403}
    write = method in WRITES
    if "{id}" in path or (write and _body_fields(operation, components or {}) & {"patient", "visit"}):
        statuses.add(404)
    if write:
        statuses |= {400, 413}
        if path != IMPORTS_PATH:
            statuses.add(423)
    elif "page" in {p.get("name") for p in operation.get("parameters", [])}:  # a paginated list
        statuses |= {400, 404}
    if any(p.get("name") == "If-Match" for p in operation.get("parameters", [])):
        statuses.add(409)
    return statuses


def error_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS: add the error bodies and each operation's error responses."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.update(SCHEMAS)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in sorted(error_statuses(path, method, operation, components)):
                schema, description = RESPONSES[code]
                responses.setdefault(
                    str(code),
                    {
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
                        "description": description,
                    },
                )
    return result
