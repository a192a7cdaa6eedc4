"""The security log has a page of its own, paginated in SQL like the trail: newest first, every
event once across the pages, the reader's sites' staff only, a cost that does not grow with the
log, times in the page's zone."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuthEvent
from audit.selectors import SecurityCursor, security_page
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

# After every sign-in the fixtures make (the log is append-only: nothing can be cleared first),
# so a test's own events are the newest of the log.
START = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)


def events(user, count: int, *, start=START, step=timedelta(minutes=1)) -> list[int]:
    """`count` sign-ins of `user`, a minute apart (an event's time is the clock's at its insert);
    their ids, oldest first."""
    made = []
    for i in range(count):
        with time_machine.travel(start + i * step, tick=False):
            made.append(AuthEvent.objects.create(kind=AuthEvent.Kind.LOGIN, user=user, username=user.username).pk)
    return made


def walk(user, *, page_size: int) -> list[int]:
    """The ids of every page, older link after older link."""
    seen, cursor = [], None
    while True:
        page = security_page(user=user, before=cursor, page_size=page_size)
        seen += [e.pk for e in page.events]
        if not page.older:
            return seen
        cursor = SecurityCursor.parse(page.older)


def test_pages_cover_every_event_once_newest_first(monitor, clinician):
    ids = events(clinician, 12)
    seen = walk(monitor, page_size=5)
    assert seen[:12] == ids[::-1]  # the 12 newest on pages of 5, 5 and 2 more, newest first
    assert len(seen) == len(set(seen)) == AuthEvent.objects.count()  # every event once


def test_events_at_the_same_instant_are_ordered_by_id_and_none_is_lost_between_pages(monitor, clinician):
    ids = events(clinician, 7, step=timedelta(0))  # one instant
    assert walk(monitor, page_size=3)[:7] == ids[::-1]  # cut inside the instant, by id, none lost


def test_the_newer_link_leads_back_to_the_page_before(monitor, clinician):
    events(clinician, 8)
    first = security_page(user=monitor, page_size=3)
    assert first.newer == ""  # the newest page has no newer one
    second = security_page(user=monitor, before=SecurityCursor.parse(first.older), page_size=3)
    back = security_page(user=monitor, after=SecurityCursor.parse(second.newer), page_size=3)
    assert [e.pk for e in back.events] == [e.pk for e in first.events]
    assert back.newer == "" and back.older == first.older


@pytest.mark.parametrize("junk", ["", "x", "2026-03-01T08:00:00~-1", "2026-03-01T08:00:00~5", "a~b~c", "2026-13-01~1"])
def test_a_cursor_that_cannot_be_read_is_the_first_page(junk):
    assert SecurityCursor.parse(junk) is None  # naive times, negative ids, junk: none is a place in the log


def test_the_page_lists_the_readers_sites_staff_in_the_page_zone(client, monitor, clinician, clinician_b):
    events(clinician, 1, start=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    events(clinician_b, 1)
    assert client.login(username=monitor.username, password=PASSWORD)
    page = client.get(reverse("audit_security")).content.decode()
    assert "clin_a" in page and "clin_b" not in page  # another site's staff are not a monitor's to read
    assert "2026-03-02 07:30:00" in page  # 23:30 UTC is the next morning in Beijing


def test_the_study_trail_links_to_the_log_and_no_longer_renders_it(client, monitor):
    assert client.login(username=monitor.username, password=PASSWORD)
    page = client.get(reverse("audit_study")).content.decode()
    assert reverse("audit_security") in page and 'id="security-log"' not in page


def test_older_and_newer_links_walk_the_page(client, monitor, clinician):
    events(clinician, 120)
    assert client.login(username=monitor.username, password=PASSWORD)
    first = client.get(reverse("audit_security"))
    assert len(first.context["security"]) == 50 and first.context["older_url"].startswith("?before=")
    assert "newer_url" not in first.context
    older = client.get(reverse("audit_security") + first.context["older_url"])
    assert len(older.context["security"]) == 50 and older.context["newer_url"].startswith("?after=")
    firsts = {e.pk for e in first.context["security"]}
    assert firsts.isdisjoint(e.pk for e in older.context["security"])


def _statements(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("audit_security")).status_code == 200
    return len(queries)


def test_a_page_costs_the_same_statements_for_10_and_500_events(client, monitor, clinician):
    assert client.login(username=monitor.username, password=PASSWORD)
    AuthEvent.objects.bulk_create(AuthEvent(kind=AuthEvent.Kind.LOGIN, user=clinician) for _ in range(10))
    few = _statements(client)
    AuthEvent.objects.bulk_create(AuthEvent(kind=AuthEvent.Kind.LOGIN, user=clinician) for _ in range(490))
    assert _statements(client) == few
