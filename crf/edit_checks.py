"""Edit checks raise data queries as part of the write path: a failing check opens one query on
its record, a passing check closes it ("fixed in the data"). Manual queries and their lifecycle
(answer, close, re-open) are the queries app's."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_noop

from crf.catalogue import target_of
from crf.models import DataQuery, QueryMessage
from crf.writes import record_save
from trial import clock


def auto_queries_live(*, patient, check_code: str) -> dict[str, DataQuery]:
    """The patient's open automatic queries of one check, by target (for a batch of syncs)."""
    rows = DataQuery.objects.filter(
        patient_id=patient.pk, check_code=check_code, origin=DataQuery.Origin.AUTOMATIC
    ).exclude(status=DataQuery.Status.CLOSED)
    return {q.target: q for q in rows.order_by()}


_UNKNOWN = object()


def auto_query_sync(
    *,
    patient,
    record,
    check_code: str,
    failing: bool,
    text: str,
    link: str = "",
    field: str = "",
    live=_UNKNOWN,
) -> DataQuery | None:
    """Open the edit check's query while it fails; close it once the data pass the check.

    `live` may pass the open query already loaded (None when there is none), as a caller
    syncing many records of one patient does with `auto_queries_live`.
    """
    target = target_of(record)
    if live is _UNKNOWN:
        live = (
            DataQuery.objects.select_for_update()
            .filter(target=target, check_code=check_code, origin=DataQuery.Origin.AUTOMATIC)
            .exclude(status=DataQuery.Status.CLOSED)
            .first()
        )
    if (live is None and not failing) or (live is not None and failing and live.text == text):
        return live
    with transaction.atomic():
        if failing and live is None:
            query = DataQuery(
                patient=patient,
                target=target,
                field=field,
                check_code=check_code,
                origin=DataQuery.Origin.AUTOMATIC,
                text=text,
                link=link,
            )
            try:
                with transaction.atomic():
                    record_save(record=query, user=None, reason=gettext_noop("Raised by edit check"), created=True)
            except IntegrityError:
                return None  # raised concurrently by another worker
            QueryMessage.objects.create(query=query, action=QueryMessage.Action.RAISE, text=text)
            return query
        if failing and live is not None and live.text != text:
            live.text = text
            record_save(record=live, user=None, reason=gettext_noop("Edit check still failing; text updated"))
            return live
        if not failing and live is not None:
            live.status = DataQuery.Status.CLOSED
            live.closed_at = clock.now()
            record_save(
                record=live, user=None, reason=gettext_noop("Closed automatically: the data now pass the check")
            )
            QueryMessage.objects.create(
                query=live, action=QueryMessage.Action.CLOSE, text="Closed automatically: the data were corrected."
            )
            return live
        return live
