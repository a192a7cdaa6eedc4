"""The clock as a seam: "now" is one instant, "today" and local times belong to a site.

A day is the site's day. Services take `now` (an aware instant, default the real clock) from
their caller and derive every date from the zone of the record's site; nothing here or in a
service reads the active (request) time zone, so a page, the API, the import, a Celery task
and a management command give the same day for the same record at the same instant.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone


def now() -> datetime:
    """The current instant (aware, UTC); the one place services read the real clock."""
    return timezone.now()


def zone_of(site) -> ZoneInfo:
    return ZoneInfo(site.time_zone)


def site_now(site, *, at: datetime | None = None) -> datetime:
    """The instant `at` (default now) on the site's wall clock (aware, in the site's zone)."""
    return (at or now()).astimezone(zone_of(site))


def site_today(site, *, at: datetime | None = None) -> date:
    """Today where the site is: a date entered at the bedside is judged in the site's time zone."""
    return site_now(site, at=at).date()


def local_date(site, moment: datetime) -> date:
    """The site's calendar date of an instant (a naive value is taken as site wall-clock time)."""
    if timezone.is_naive(moment):
        return moment.date()
    return moment.astimezone(zone_of(site)).date()


def as_site_aware(site, moment: datetime) -> datetime:
    """A naive date-time typed at the site is site wall-clock time; an aware one stays as it is."""
    if timezone.is_naive(moment):
        return timezone.make_aware(moment, zone_of(site))
    return moment


def zone_label(zone_name: str, *, at: datetime | None = None) -> str:
    """An unambiguous name for a zone: 'Asia/Shanghai, UTC+08:00' (never 'CST')."""
    if zone_name in {"UTC", "Etc/UTC"}:
        return "UTC"
    offset = (at or now()).astimezone(ZoneInfo(zone_name)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{zone_name}, UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def site_zone_label(site, *, at: datetime | None = None) -> str:
    return zone_label(site.time_zone, at=at)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
