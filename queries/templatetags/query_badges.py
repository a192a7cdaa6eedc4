"""The open and answered queries of a form page, beside the fields they are on.

    {% load query_badges %}{% page_queries panel as fq %}
    {% include "queries/_field_badge.html" with found=fq.first|on_field:"HGB" name="HGB" %}

A page listing many records (the adverse events, the treatment summary) lists them with their
queries at the top (queries/_page_queries.html) and puts each field's badges in the record's
row: {% field_badges fq record "grade" %}.

One statement for every query of the page's records, however many fields and queries it has.
"""

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from crf.catalogue import page_of, patient_id_of, target_of
from queries.selectors import field_label, form_name, live_queries_by_field
from queries.services import query_can_raise

register = template.Library()


class RecordQueries:
    """The live queries on one record, by field ("" for the whole record)."""

    def __init__(self, record, by_field: dict, can_raise: bool):
        self.record = record
        self.by_field = by_field
        self.can_raise = can_raise and record is not None and record.pk is not None

    @property
    def whole_record(self) -> list:
        return self.by_field.get("", [])

    @property
    def on_fields(self) -> list[tuple[str, str, list]]:
        """(field name, label as on the form, queries) of each field with live queries."""
        if self.record is None:
            return []
        label = self.record._meta.label_lower
        return [(name, field_label(f"{label}:", name), found) for name, found in self.by_field.items() if name]

    @property
    def count(self) -> int:
        return sum(len(found) for found in self.by_field.values())

    @property
    def raise_url(self) -> str:
        if not self.can_raise:
            return ""
        patient_id = patient_id_of(self.record)
        if patient_id is None:
            return ""
        query = urlencode({"target": target_of(self.record), "next": page_of(self.record)})
        return f"{reverse('patient_queries', args=[patient_id])}?{query}#raise-query"


class PageQueries:
    def __init__(self, records, by_target: dict, can_raise: bool):
        self.records = [r for r in records if r is not None]
        self.by_target = by_target
        self.can_raise = can_raise

    def of(self, record) -> RecordQueries:
        target = target_of(record) if record is not None and record.pk else ""
        return RecordQueries(record, self.by_target.get(target, {}), self.can_raise)

    @property
    def first(self) -> RecordQueries:
        return self.of(self.records[0] if self.records else None)

    @property
    def listed(self) -> list[dict]:
        """Each record of the page with live queries, in page order: its form's title, the place
        of the record on its page, its queries."""
        out = []
        for record in self.records:
            found = self.of(record)
            if found.count:
                title = form_name(record._meta.label_lower)
                out.append({"title": title, "url": page_of(record), "queries": found})
        return out


def _flatten(items):
    for item in items:
        if item is None or isinstance(item, str):
            continue
        if hasattr(item, "_meta"):
            yield item
        else:
            yield from _flatten(item)


@register.simple_tag(takes_context=True)
def page_queries(context, *records) -> PageQueries:
    """The live queries of the records shown on a page (records or lists of records)."""
    found = list(_flatten(records))
    request = context.get("request")
    user = getattr(request, "user", None)
    can_raise = bool(user is not None and user.is_authenticated and query_can_raise(user))
    return PageQueries(found, live_queries_by_field(found), can_raise)


@register.inclusion_tag("queries/_cell_badges.html")
def field_badges(page: PageQueries, record, name: str) -> dict:
    """The live queries on one field of one of the page's records, beside its value in a list."""
    found = page.of(record).by_field.get(name, []) if page is not None and record is not None else []
    return {"found": found, "name": name}


@register.filter
def queries_of(page: PageQueries, record) -> RecordQueries:
    return page.of(record)


@register.filter
def on_field(record_queries: RecordQueries, name: str) -> list:
    return record_queries.by_field.get(name, []) if record_queries is not None else []


@register.inclusion_tag("queries/_cell_badges.html")
def record_badges(page: PageQueries, record, name: str = "") -> dict:
    """Every live query on one of the page's records, whatever field it is on, beside the record
    in a grid cell (a dose of the dose grid): the cell links to each query."""
    if page is None or record is None or record.pk is None:
        return {"found": [], "name": name}
    found = [query for queries in page.of(record).by_field.values() for query in queries]
    return {"found": found, "name": name or "record"}
