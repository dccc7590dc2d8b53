"""When a deployed flow fires: cron slots in a timezone, as pure functions of given times.

A :class:`Schedule` is a 5-field cron expression (minute hour day-of-month
month day-of-week) read on the wall clock of an IANA timezone. It has no clock
of its own: :meth:`Schedule.next_fire` and :meth:`Schedule.due` take the times
they reason about and return aware UTC datetimes.

Slots are computed by ``croniter`` (7.x), which steps the wall clock of the
schedule's timezone and attaches that zone's UTC offset. Around daylight
saving changes the behaviour is:

- Spring forward (a wall time that does not exist). A slot of a schedule with
  a fixed hour fires once, at the first wall time after the gap: a daily 02:30
  in Europe/Berlin fires at 03:00 CEST on the last Sunday of March. A schedule
  with ``*`` in the hour field skips the missing hour, which never happened.
- Fall back (a wall time that happens twice). croniter yields both
  occurrences; stepwell keeps only the first when the minute and hour fields
  are fixed (no ``*``), so a daily 01:30 in America/New_York fires once on the
  first Sunday of November. A schedule with ``*`` in its minute or hour field
  fires in both repeated hours, since each is a real hour. This is Vixie
  cron's rule for fixed-time and wildcard jobs.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from stepwell.exceptions import ConfigError, InternalError

if TYPE_CHECKING:
    from stepwell.decorators._flow_level import ScheduleDecorator

_UTC = timezone.utc
_HOURLY = "0 * * * *"
_DAILY = "0 0 * * *"
_WEEKLY = "0 0 * * 0"  # Sunday 00:00, Metaflow's "0 0 ? * SUN *"
_VALID_CRON = "minute hour day-of-month month day-of-week, e.g. '30 2 * * *' (02:30 every day)"
_AWS_DOW_NUMBERS = re.compile(r"^(\d+)(?:-(\d+))?$")
_DOW_NAME_RANGE = re.compile(r"^[A-Za-z]{3}(?:-[A-Za-z]{3})?$")
_DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


@dataclass(frozen=True)
class Schedule:
    """A cron expression read on the wall clock of a timezone.

    Construction validates both and normalizes the cron string (single spaces;
    an AWS/Metaflow 6-field expression becomes its 5-field equivalent).

    Attributes:
        cron: 5-field cron: minute hour day-of-month month day-of-week.
        timezone: IANA timezone name the cron is read in, e.g. ``"Europe/Paris"``.

    Example:
        >>> s = Schedule(cron="30 2 * * *", timezone="Europe/Paris")
        >>> s.describe()
        'daily at 02:30 (Europe/Paris)'
    """

    cron: str
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        object.__setattr__(self, "cron", _normalize_cron(self.cron))
        _zone(self.timezone)

    @classmethod
    def from_decorator(
        cls, decorator: ScheduleDecorator, *, location: str | None = None
    ) -> Schedule:
        """The schedule a flow's ``@schedule`` asks for, with Metaflow's meaning.

        ``cron`` wins over the flags; then ``weekly`` ("0 0 * * 0", Sunday
        00:00), then ``hourly`` ("0 * * * *"), then ``daily`` ("0 0 * * *", the
        default). This is the order of Metaflow's ``ScheduleDecorator``, so
        ``@schedule(hourly=True, weekly=True)`` runs weekly there and here.
        ``timezone=None`` means UTC.

        Args:
            decorator: The flow's ``@schedule`` record.
            location: ``file:line`` of the flow, carried by any error raised.

        Returns:
            The validated schedule.

        Raises:
            ConfigError: the cron string or the timezone is invalid, or every
                flag is off (``@schedule(daily=False)`` with nothing else).
        """
        try:
            zone = "UTC" if decorator.timezone is None else decorator.timezone
            return cls(cron=_decorator_cron(decorator), timezone=zone)
        except ConfigError as exc:
            if exc.location is None:
                exc.location = location
            raise

    def next_fire(self, after: datetime) -> datetime:
        """The first fire time strictly after ``after`` (an aware datetime, any zone).

        Returns:
            An aware UTC datetime.
        """
        start = _floor_minute(_as_utc(after, "after"))
        return self._walk(start, forward=True)

    def due(
        self, last_fire: datetime | None, deployed_at: datetime, now: datetime
    ) -> datetime | None:
        """The slot to fire now, or None: one run for all the slots missed since the last one.

        The slots considered are those strictly after ``last_fire`` (or after
        ``deployed_at`` when the flow never fired) and at or before ``now``.
        If there are any, the latest is returned, so a scheduler that was
        down for a day runs an hourly flow once, not 24 times. The answer
        takes one backward step from ``now``, however long the downtime.

        Args:
            last_fire: The slot of the last run the scheduler started, if any.
            deployed_at: When the flow was deployed.
            now: The current time.

        Returns:
            The latest due slot as an aware UTC datetime, or None.
        """
        if last_fire is not None:
            since = _as_utc(last_fire, "last_fire")
        else:
            since = _as_utc(deployed_at, "deployed_at")
        # Slots are whole minutes, so the latest slot <= now is the latest one
        # strictly before the next whole minute after now.
        before = _floor_minute(_as_utc(now, "now")) + timedelta(minutes=1)
        latest = self._walk(before, forward=False)
        return latest if latest > since else None

    def describe(self) -> str:
        """Human text for listings.

        Example: ``"daily at 00:00 (Europe/Paris)"``, or ``"cron '*/5 * * * *' (UTC)"``
        for anything that is not a plain hourly, daily or weekly time.
        """
        words = _plain_words(*self.cron.split())
        return f"{words or f'cron {self.cron!r}'} ({self.timezone})"

    def _walk(self, start: datetime, *, forward: bool) -> datetime:
        """The nearest slot after (or before) ``start``, skipping a repeated wall time."""
        iterator = _croniter().croniter(
            self.cron, start.astimezone(_zone(self.timezone)), ret_type=datetime
        )
        step = iterator.get_next if forward else iterator.get_prev
        slot: datetime = step()
        while self._is_repeat(slot):
            slot = step()
        return slot.astimezone(_UTC)

    def _is_repeat(self, slot: datetime) -> bool:
        """Is ``slot`` the second occurrence of a wall time, for a fixed-time schedule?"""
        minute, hour = self.cron.split()[:2]
        if minute.startswith("*") or hour.startswith("*"):
            return False
        local = slot.astimezone(_UTC).astimezone(_zone(self.timezone))
        return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def _decorator_cron(decorator: ScheduleDecorator) -> str:
    if decorator.cron is not None:
        return decorator.cron
    if decorator.weekly:
        return _WEEKLY
    if decorator.hourly:
        return _HOURLY
    if decorator.daily:
        return _DAILY
    raise ConfigError(
        "@schedule(daily=False) sets no schedule: hourly, weekly and cron are unset too.\n"
        "  Set one, e.g. @schedule(hourly=True) or @schedule(cron='30 2 * * *'), "
        "or remove @schedule.",
        attribute="daily",
    )


def _normalize_cron(cron: object) -> str:
    """The 5-field form of ``cron``, validated by croniter; ConfigError if it is not valid."""
    if not isinstance(cron, str):
        raise _bad_cron(cron, f"it is a {type(cron).__name__}, not a string")
    fields = cron.split()
    if len(fields) == 6:
        fields = _from_aws(cron, fields)
    elif len(fields) != 5:
        raise _bad_cron(cron, f"it has {len(fields)} fields, not 5")
    text = " ".join(fields)
    module = _croniter()
    try:
        module.croniter.expand(text, strict=True)
    except (module.CroniterError, ValueError) as exc:
        raise _bad_cron(cron, f"croniter says: {exc}") from None
    return text


def _from_aws(cron: str, fields: list[str]) -> list[str]:
    """AWS EventBridge's ``minute hour dom month dow year`` (Metaflow's form) as 5 fields."""
    minute, hour, dom, month, dow, year = fields
    if year != "*":
        raise _bad_cron(
            cron,
            f"its 6th (year) field is {year!r}; a schedule repeats every year, so only '*' "
            "is accepted there (or drop the year field)",
        )
    return [minute, hour, "*" if dom == "?" else dom, month, _aws_day_of_week(cron, dow)]


def _aws_day_of_week(cron: str, field: str) -> str:
    """AWS counts days 1=Sunday..7=Saturday; 5-field cron counts 0=Sunday..6=Saturday."""
    if field in ("*", "?"):
        return "*"
    parts = []
    for part in field.split(","):
        if _DOW_NAME_RANGE.match(part):
            parts.append(part)
            continue
        match = _AWS_DOW_NUMBERS.match(part)
        numbers = [int(n) for n in match.groups() if n is not None] if match else []
        if not numbers or not all(1 <= n <= 7 for n in numbers):
            raise _bad_cron(
                cron,
                f"its 6-field (AWS) day-of-week {field!r} cannot be converted; AWS numbers run "
                "1=Sunday..7=Saturday, and only names (MON-FRI), numbers, ranges and lists "
                "convert. Write the 5-field form, where 0=Sunday..6=Saturday",
            )
        parts.append("-".join(str(n - 1) for n in numbers))
    return ",".join(parts)


def _bad_cron(cron: object, why: str) -> ConfigError:
    return ConfigError(
        f"@schedule(cron={cron!r}) is not a valid cron expression: {why}.\n"
        f"  A cron expression has 5 fields: {_VALID_CRON}.\n"
        "  Fix the string, or use @schedule(hourly=True), @schedule(daily=True) "
        "or @schedule(weekly=True).",
        attribute="cron",
        value=cron,
    )


def _zone(name: object) -> tzinfo:
    """The tzinfo for an IANA name; ConfigError naming it if unknown."""
    if name == "UTC":  # no tz database needed (slim containers may lack one)
        return _UTC
    try:
        if not isinstance(name, str):
            raise TypeError(name)
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ConfigError(
            f"@schedule(timezone={name!r}) is not a known IANA timezone.\n"
            "  Use a tz database name, e.g. 'Europe/Paris', 'America/New_York' or 'UTC' "
            "(None means UTC).",
            attribute="timezone",
            value=name,
        ) from None


def _croniter() -> Any:
    try:
        import croniter
    except ImportError:
        raise ConfigError(
            "Schedules need the 'croniter' package. "
            "Install it with: pip install 'stepwell[scheduler]'",
            package="croniter",
        ) from None
    return croniter


def _as_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InternalError(
            f"Schedule needs an aware datetime for {name!r}, got {value!r}; "
            "pass e.g. datetime.now(timezone.utc)."
        )
    return value.astimezone(_UTC)


def _floor_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def _plain_words(minute: str, hour: str, dom: str, month: str, dow: str) -> str | None:
    """'hourly at minute 5', 'daily at 02:30', 'weekly on Sunday at 00:00', or None."""
    if not (minute.isdigit() and dom == "*" and month == "*"):
        return None
    if hour == "*" and dow == "*":
        return f"hourly at minute {int(minute)}"
    if not hour.isdigit():
        return None
    at = f"{int(hour):02d}:{int(minute):02d}"
    if dow == "*":
        return f"daily at {at}"
    if dow.isdigit():
        return f"weekly on {_DAY_NAMES[int(dow) % 7]} at {at}"
    return None
