"""Schedule math: @schedule's meaning, cron validation, fire times across DST, and due slots."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from stepwell import FlowSpec, schedule, step
from stepwell.decorators._flow_level import ScheduleDecorator
from stepwell.exceptions import ConfigError, InternalError
from stepwell.flow import flow_decorators
from stepwell.scheduler import Schedule

UTC = timezone.utc
WHERE = "flows/nightly.py:12"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def fires(s: Schedule, after: datetime, count: int) -> list[datetime]:
    out = []
    for _ in range(count):
        after = s.next_fire(after)
        out.append(after)
    return out


# -- @schedule's meaning ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attrs", "cron"),
    [
        ({}, "0 0 * * *"),
        ({"daily": True}, "0 0 * * *"),
        ({"hourly": True}, "0 * * * *"),
        ({"weekly": True}, "0 0 * * 0"),
        ({"cron": "*/15 8-18 * * 1-5"}, "*/15 8-18 * * 1-5"),
        # cron wins over every flag; weekly wins over hourly (Metaflow's order)
        ({"cron": "5 4 * * *", "hourly": True, "weekly": True}, "5 4 * * *"),
        ({"hourly": True, "weekly": True}, "0 0 * * 0"),
        ({"hourly": True, "daily": False}, "0 * * * *"),
    ],
)
def test_from_decorator_maps_each_form_with_metaflows_meaning(attrs, cron) -> None:
    s = Schedule.from_decorator(ScheduleDecorator(**attrs))
    assert s == Schedule(cron=cron, timezone="UTC")


def test_from_decorator_reads_the_flows_public_schedule_decorator() -> None:
    @schedule(hourly=True, timezone="Europe/Paris")
    class NightlyFlow(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    [decorator] = [d for d in flow_decorators(NightlyFlow) if d.NAME == "schedule"]
    s = Schedule.from_decorator(decorator)
    assert (s.cron, s.timezone) == ("0 * * * *", "Europe/Paris")


def test_timezone_none_means_utc() -> None:
    assert Schedule.from_decorator(ScheduleDecorator(timezone=None)).timezone == "UTC"


def test_every_flag_off_is_refused_with_the_location() -> None:
    with pytest.raises(ConfigError) as info:
        Schedule.from_decorator(ScheduleDecorator(daily=False), location=WHERE)
    assert "daily=False" in str(info.value)
    assert info.value.location == WHERE


# -- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cron",
    [
        "* * * *",  # 4 fields
        "0 0 * * * * *",  # 7 fields
        "",
        "@daily",  # an alias, not 5 fields
        "61 * * * *",  # minute out of range
        "0 24 * * *",  # hour out of range
        "0 0 * * 8",  # day of week out of range
        "0 0 32 * *",  # day of month out of range
        "0 0 31 2 *",  # never happens
        "*/0 * * * *",  # zero step
        "a b c d e",  # garbage
        "H * * * *",  # Jenkins hash, not standard cron
    ],
)
def test_invalid_cron_names_the_string_the_valid_form_and_the_location(cron: str) -> None:
    with pytest.raises(ConfigError) as info:
        Schedule.from_decorator(ScheduleDecorator(cron=cron), location=WHERE)
    error = info.value
    assert isinstance(error, ValueError)
    assert f"@schedule(cron={cron!r})" in error.message
    assert "minute hour day-of-month month day-of-week, e.g. '30 2 * * *'" in error.message
    assert error.location == WHERE
    assert f"at {WHERE}" in str(error)


def test_a_cron_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(ConfigError, match="it is a int, not a string"):
        Schedule(cron=5)  # type: ignore[arg-type]


@pytest.mark.parametrize("zone", ["Europe/Pariss", "utc", "Mars/Olympus", "", "../etc/passwd"])
def test_unknown_timezone_names_it_with_an_example_and_the_location(zone: str) -> None:
    with pytest.raises(ConfigError) as info:
        Schedule.from_decorator(ScheduleDecorator(timezone=zone), location=WHERE)
    error = info.value
    assert f"@schedule(timezone={zone!r})" in error.message
    assert "'Europe/Paris'" in error.message
    assert error.location == WHERE


def test_cron_is_normalized_to_single_spaces() -> None:
    assert Schedule(cron="  0   0 *  * * ").cron == "0 0 * * *"


# -- AWS / Metaflow 6-field cron ----------------------------------------------------------


@pytest.mark.parametrize(
    ("aws", "five"),
    [
        ("0 10 * * ? *", "0 10 * * *"),
        ("0 * * * ? *", "0 * * * *"),  # Metaflow's hourly
        ("0 0 ? * SUN *", "0 0 * * SUN"),  # Metaflow's weekly
        ("15 8 ? * MON-FRI *", "15 8 * * MON-FRI"),
        ("15 8 ? * 2-6 *", "15 8 * * 1-5"),  # AWS 2-6 is Monday-Friday
        ("0 12 ? * 1,7 *", "0 12 * * 0,6"),  # AWS 1 is Sunday, 7 Saturday
        ("0 6 L * ? *", "0 6 L * *"),
    ],
)
def test_aws_six_field_cron_converts_to_five_fields(aws: str, five: str) -> None:
    assert Schedule.from_decorator(ScheduleDecorator(cron=aws)).cron == five


def test_aws_day_numbers_keep_their_day() -> None:
    monday_in_aws = Schedule(cron="0 10 ? * 2 *")
    fire = monday_in_aws.next_fire(utc(2024, 1, 10))  # a Wednesday
    assert fire == utc(2024, 1, 15, 10)
    assert fire.strftime("%A") == "Monday"


@pytest.mark.parametrize(
    ("aws", "fragment"),
    [
        ("0 10 * * ? 2025", "year"),
        ("0 10 ? * 0 *", "1=Sunday..7=Saturday"),
        ("0 10 ? * 6L *", "1=Sunday..7=Saturday"),
        ("0 10 ? * 2#1 *", "1=Sunday..7=Saturday"),
    ],
)
def test_aws_forms_that_cannot_convert_are_refused(aws: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        Schedule.from_decorator(ScheduleDecorator(cron=aws), location=WHERE)
    assert repr(aws) in info.value.message
    assert fragment in info.value.message
    assert info.value.location == WHERE


# -- next_fire ----------------------------------------------------------------------------


def test_hourly_fires_on_the_next_hour_strictly_after() -> None:
    hourly = Schedule(cron="0 * * * *")
    assert hourly.next_fire(utc(2024, 5, 1, 10, 15)) == utc(2024, 5, 1, 11)
    assert hourly.next_fire(utc(2024, 5, 1, 11)) == utc(2024, 5, 1, 12)
    almost = utc(2024, 5, 1, 10, 59, 59) + timedelta(microseconds=999_999)
    assert hourly.next_fire(almost) == utc(2024, 5, 1, 11)


def test_daily_in_a_timezone_follows_its_utc_offset_through_the_year() -> None:
    paris = Schedule(cron="0 0 * * *", timezone="Europe/Paris")
    assert paris.next_fire(utc(2024, 1, 10, 12)) == utc(2024, 1, 10, 23)  # CET, +1
    assert paris.next_fire(utc(2024, 7, 10, 12)) == utc(2024, 7, 10, 22)  # CEST, +2


def test_weekly_fires_on_sunday_midnight() -> None:
    weekly = Schedule.from_decorator(ScheduleDecorator(weekly=True))
    assert weekly.next_fire(utc(2024, 1, 10, 9)) == utc(2024, 1, 14)


def test_cron_with_timezone_and_after_in_another_zone_returns_utc() -> None:
    tokyo = Schedule(cron="30 9 * * 1-5", timezone="Asia/Tokyo")
    friday_noon_in_la = datetime(2024, 1, 11, 19, tzinfo=ZoneInfo("America/Los_Angeles"))
    fire = tokyo.next_fire(friday_noon_in_la)  # Friday 12:00 JST, after that day's 09:30
    assert fire == utc(2024, 1, 15, 0, 30)  # Monday 09:30 JST
    assert fire.tzinfo is UTC


def test_naive_times_are_refused() -> None:
    with pytest.raises(InternalError, match="aware datetime for 'after'"):
        Schedule(cron="0 * * * *").next_fire(datetime(2024, 1, 1))
    with pytest.raises(InternalError, match="'deployed_at'"):
        Schedule(cron="0 * * * *").due(None, datetime(2024, 1, 1), utc(2024, 1, 2))


# -- daylight saving ----------------------------------------------------------------------
# Europe/Berlin springs forward 2024-03-31 02:00 CET -> 03:00 CEST.
# America/New_York falls back 2024-11-03 02:00 EDT -> 01:00 EST.


def test_spring_forward_daily_in_the_gap_fires_once_right_after_it() -> None:
    berlin = Schedule(cron="30 2 * * *", timezone="Europe/Berlin")
    assert fires(berlin, utc(2024, 3, 29, 12), 3) == [
        utc(2024, 3, 30, 1, 30),  # 02:30 CET
        utc(2024, 3, 31, 1, 0),  # 02:30 does not exist: 03:00 CEST
        utc(2024, 4, 1, 0, 30),  # 02:30 CEST
    ]


def test_spring_forward_hourly_skips_the_hour_that_does_not_exist() -> None:
    berlin = Schedule(cron="0 * * * *", timezone="Europe/Berlin")
    assert fires(berlin, utc(2024, 3, 30, 23, 30), 3) == [
        utc(2024, 3, 31, 0),  # 01:00 CET
        utc(2024, 3, 31, 1),  # 03:00 CEST
        utc(2024, 3, 31, 2),  # 04:00 CEST
    ]


def test_fall_back_daily_in_the_repeated_hour_fires_once() -> None:
    new_york = Schedule(cron="30 1 * * *", timezone="America/New_York")
    assert fires(new_york, utc(2024, 11, 2, 12), 2) == [
        utc(2024, 11, 3, 5, 30),  # 01:30 EDT; 01:30 EST an hour later does not fire
        utc(2024, 11, 4, 6, 30),  # 01:30 EST
    ]
    # Starting inside the repeated hour, after the first 01:30, the next fire is tomorrow.
    assert new_york.next_fire(utc(2024, 11, 3, 6, 15)) == utc(2024, 11, 4, 6, 30)


def test_fall_back_fixed_minute_list_fires_in_the_first_hour_only() -> None:
    new_york = Schedule(cron="0,30 1 * * *", timezone="America/New_York")
    assert fires(new_york, utc(2024, 11, 3, 4), 3) == [
        utc(2024, 11, 3, 5, 0),
        utc(2024, 11, 3, 5, 30),
        utc(2024, 11, 4, 6, 0),
    ]


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("0 * * * *", [utc(2024, 11, 3, 5), utc(2024, 11, 3, 6), utc(2024, 11, 3, 7)]),
        (
            "*/30 1 * * *",
            [utc(2024, 11, 3, 5), utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 6)],
        ),
    ],
)
def test_fall_back_wildcard_schedules_fire_in_both_real_hours(cron, expected) -> None:
    new_york = Schedule(cron=cron, timezone="America/New_York")
    assert fires(new_york, utc(2024, 11, 3, 4, 45), 3) == expected


def test_the_repeated_wall_time_is_not_due_after_the_first_one_fired() -> None:
    new_york = Schedule(cron="30 1 * * *", timezone="America/New_York")
    first = utc(2024, 11, 3, 5, 30)
    assert new_york.due(first, utc(2024, 11, 1), utc(2024, 11, 3, 6, 45)) is None
    # ...and after downtime over that night, the due slot is the one that fires.
    assert new_york.due(utc(2024, 11, 2, 5, 30), utc(2024, 11, 1), utc(2024, 11, 3, 9)) == first


def test_spring_forward_shifted_slot_is_due() -> None:
    berlin = Schedule(cron="30 2 * * *", timezone="Europe/Berlin")
    last = utc(2024, 3, 30, 1, 30)
    assert berlin.due(last, utc(2024, 3, 1), utc(2024, 3, 31, 0, 59)) is None
    assert berlin.due(last, utc(2024, 3, 1), utc(2024, 3, 31, 1, 0)) == utc(2024, 3, 31, 1)


@pytest.mark.parametrize(
    ("cron", "zone", "start"),
    [
        ("30 2 * * *", "Europe/Berlin", utc(2024, 3, 30)),
        ("0 * * * *", "Europe/Berlin", utc(2024, 3, 30, 20)),
        ("30 1 * * *", "America/New_York", utc(2024, 11, 2)),
        ("*/20 1 * * *", "America/New_York", utc(2024, 11, 2)),
        ("0 * * * *", "America/New_York", utc(2024, 11, 2, 20)),
        ("15 2 * * *", "Australia/Lord_Howe", utc(2024, 10, 4)),
    ],
)
def test_due_agrees_with_next_fire_across_dst(cron: str, zone: str, start: datetime) -> None:
    s = Schedule(cron=cron, timezone=zone)
    slots = [f for f in fires(s, start, 60) if f <= start + timedelta(days=2)]
    for minutes in range(0, 2 * 24 * 60, 10):
        now = start + timedelta(minutes=minutes)
        expected = max((f for f in slots if f <= now), default=None)
        assert s.due(None, start, now) == expected, now


# -- due ----------------------------------------------------------------------------------

HOURLY = Schedule(cron="0 * * * *")
DEPLOYED = utc(2024, 5, 1, 8, 20)


def test_nothing_due_before_the_next_slot() -> None:
    assert HOURLY.due(utc(2024, 5, 1, 10), DEPLOYED, utc(2024, 5, 1, 10, 59, 59)) is None


def test_one_slot_due() -> None:
    assert HOURLY.due(utc(2024, 5, 1, 10), DEPLOYED, utc(2024, 5, 1, 11, 0, 30)) == utc(
        2024, 5, 1, 11
    )


def test_many_missed_slots_give_only_the_latest() -> None:
    assert HOURLY.due(utc(2024, 5, 1, 10), DEPLOYED, utc(2024, 5, 2, 7, 42)) == utc(2024, 5, 2, 7)


def test_never_fired_counts_from_deployment() -> None:
    assert HOURLY.due(None, DEPLOYED, utc(2024, 5, 1, 8, 59)) is None  # 08:00 was before deploy
    assert HOURLY.due(None, DEPLOYED, utc(2024, 5, 1, 9)) == utc(2024, 5, 1, 9)
    assert HOURLY.due(None, utc(2024, 5, 1, 9), utc(2024, 5, 1, 9, 30)) is None  # deploy at slot


def test_slot_equal_to_now_is_due_and_slot_equal_to_last_fire_is_not() -> None:
    assert HOURLY.due(utc(2024, 5, 1, 10), DEPLOYED, utc(2024, 5, 1, 11)) == utc(2024, 5, 1, 11)
    assert HOURLY.due(utc(2024, 5, 1, 11), DEPLOYED, utc(2024, 5, 1, 11)) is None


def test_due_accepts_times_in_any_zone_and_answers_in_utc() -> None:
    paris = ZoneInfo("Europe/Paris")
    now = datetime(2024, 5, 1, 13, 5, tzinfo=paris)  # 11:05 UTC
    due = HOURLY.due(datetime(2024, 5, 1, 12, tzinfo=paris), DEPLOYED, now)
    assert due == utc(2024, 5, 1, 11)
    assert due is not None and due.tzinfo is UTC


def test_a_year_of_downtime_on_an_every_minute_cron_gives_one_slot() -> None:
    every_minute = Schedule(cron="* * * * *")
    now = utc(2024, 1, 1, 12, 34, 56)
    assert every_minute.due(utc(2023, 1, 1), utc(2022, 6, 1), now) == utc(2024, 1, 1, 12, 34)


# -- describe and packaging ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("s", "text"),
    [
        (Schedule(cron="0 0 * * *"), "daily at 00:00 (UTC)"),
        (Schedule(cron="30 2 * * *", timezone="Europe/Paris"), "daily at 02:30 (Europe/Paris)"),
        (Schedule(cron="0 * * * *"), "hourly at minute 0 (UTC)"),
        (Schedule(cron="0 0 * * 0"), "weekly on Sunday at 00:00 (UTC)"),
        (Schedule(cron="15 6 * * 5"), "weekly on Friday at 06:15 (UTC)"),
        (Schedule(cron="*/5 * * * *"), "cron '*/5 * * * *' (UTC)"),
        (Schedule(cron="0 0 1 * *", timezone="Asia/Tokyo"), "cron '0 0 1 * *' (Asia/Tokyo)"),
        (Schedule(cron="0 9 * * MON-FRI"), "cron '0 9 * * MON-FRI' (UTC)"),
    ],
)
def test_describe(s: Schedule, text: str) -> None:
    assert s.describe() == text


def test_missing_croniter_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "croniter", None)  # makes `import croniter` fail
    with pytest.raises(ConfigError, match=r"pip install 'stepwell\[scheduler\]'"):
        Schedule(cron="0 0 * * *")
