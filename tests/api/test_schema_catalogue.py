"""The OpenAPI schema documents every entered field of every form, as the catalogue lists it."""

import pytest

from api.urls import router
from crf.catalogue import FORMS

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api):
    return api.get("/api/v1/schema/?format=json").json()


def _resources():
    """Each router resource's form label, its read serializer and its list and detail paths."""
    found = {}
    for prefix, viewset, _ in router.registry:
        serializer = viewset.serializer_class
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        if model is not None:
            found[model._meta.label_lower] = (viewset, serializer, f"/api/v1/{prefix}/", f"/api/v1/{prefix}/{{id}}/")
    return found


def _properties(schema, ref_or_schema) -> set[str]:
    if "$ref" in ref_or_schema:
        name = ref_or_schema["$ref"].rsplit("/", 1)[-1]
        ref_or_schema = schema["components"]["schemas"][name]
    names = set(ref_or_schema.get("properties", {}))
    for part in ref_or_schema.get("allOf", []):
        names |= _properties(schema, part)
    return names


def _request_fields(schema, path: str, method: str) -> set[str]:
    body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return _properties(schema, body)


ENTERED = [form for form in FORMS if form.sections]


def test_every_entered_form_has_an_api_resource():
    assert {form.label for form in ENTERED} <= set(_resources())


@pytest.mark.parametrize("form", ENTERED, ids=lambda f: f.label)
def test_the_schema_shows_every_field_of_the_form(schema, form):
    _viewset, serializer, _list, _detail = _resources()[form.label]
    shown = _properties(schema, {"$ref": f"#/components/schemas/{serializer.__name__.removesuffix('Serializer')}"})
    assert set(form.fields) <= shown, f"{form.label}: not in the schema: {sorted(set(form.fields) - shown)}"


@pytest.mark.parametrize("form", [f for f in ENTERED if hasattr(_resources()[f.label][0], "partial_update")])
def test_the_schema_takes_every_field_of_the_form_on_create_and_change(schema, form):
    _viewset, _serializer, list_path, detail_path = _resources()[form.label]
    for path, method in ((list_path, "post"), (detail_path, "patch")):
        taken = _request_fields(schema, path, method)
        assert set(form.fields) <= taken, f"{method.upper()} {path}: missing {sorted(set(form.fields) - taken)}"
