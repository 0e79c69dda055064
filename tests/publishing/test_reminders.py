"""A plan's reminders: an iCalendar file per language that real calendar clients read as the plan's days."""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events

from pelvicvoice.build import make_toolchain
from pelvicvoice.publishing.episodes import choose_episodes, start_date
from pelvicvoice.publishing.publish import publish
from pelvicvoice.publishing.reminders import calendar_ics, calendars_for
from pelvicvoice.publishing.serve import make_server

from conftest import run_cli, write

BASE = "https://example.org/pv"
MONDAY = "2026-03-02"
KHAL = Path(sys.executable).with_name("khal")

# A plan that ends: two weeks of quick squeezes twice a day, then a week of maintenance three times.
SHORT_PLAN = """\
id: short
title: {en: A short plan, nb: En kort plan}
description: {en: Three weeks., nb: Tre uker.}
source: a test
phases:
  - weeks: 1-2
    title: {en: Quick, nb: Raskt}
    sessions:
      - {program: quick-squeezes, times: 2, per: day}
  - weeks: 3
    title: {en: Keep it, nb: Hold det ved like}
    sessions:
      - {program: maintenance, times: 3, per: week}
"""


def calendar_of(library, plan, language, first_day=MONDAY, reminders=None, environment=None):
    start = start_date(environment or {}, first_day)
    (calendar,) = calendars_for(library, (plan,), (language,), start, reminders, BASE)
    return calendar


def day_of(calendar, day: date) -> list[tuple[str, str, str]]:
    """Return (start, end, summary) of each event on day, as recurring-ical-events expands the file."""
    parsed = icalendar.Calendar.from_ical(calendar_ics(calendar))
    events = recurring_ical_events.of(parsed).at(day)
    return sorted(
        (e["DTSTART"].dt.strftime("%H:%M"), e["DTEND"].dt.strftime("%H:%M"), str(e["SUMMARY"])) for e in events
    )


def test_the_first_day_has_every_session_at_its_reminder_time(library):
    calendar = calendar_of(library, "first-six-months", "en")
    # Find your pelvic floor 1x a day and Kegel basics 3x a day take the three times in turn.
    assert day_of(calendar, date(2026, 3, 2)) == [
        ("08:00", "08:03", "Find your pelvic floor"),
        ("08:00", "08:03", "Kegel basics"),
        ("13:00", "13:03", "Kegel basics"),
        ("20:00", "20:03", "Kegel basics"),
    ]
    assert day_of(calendar, date(2026, 3, 1)) == []  # the day before the plan


def test_later_phases_follow_the_plans_weeks_and_weekdays(library):
    calendar = calendar_of(library, "first-six-months", "en", reminders="07:15,12:30,21:00")
    # Week 3 (Monday 16 March): posture twice a week is on the plan week's days 0 and 3.
    positions = "Squeezes in every position (Lying and sitting)"
    assert day_of(calendar, date(2026, 3, 16)) == [
        ("07:15", "07:16", "Quick squeezes"),
        ("07:15", "07:19", "Posture and relaxation"),
        ("07:15", "07:19", positions),
        ("12:30", "12:31", "Quick squeezes"),
        ("12:30", "12:34", positions),
        ("21:00", "21:01", "Quick squeezes"),
        ("21:00", "21:04", positions),
    ]
    assert "Posture and relaxation" not in {summary for _, _, summary in day_of(calendar, date(2026, 3, 17))}
    assert "Posture and relaxation" in {summary for _, _, summary in day_of(calendar, date(2026, 3, 19))}
    # Week 7 on a Monday: the weekly self-test, then the training it chooses (as long as its longest level).
    assert day_of(calendar, date(2026, 4, 13)) == [
        ("07:15", "07:19", "Self-test: find your level"),
        ("12:30", "12:43", "Intensive pelvic floor training"),
        ("21:00", "21:05", "Squeezes in every position (Standing and moving)"),
    ]
    # Week 32 ends on Sunday 11 October; from week 33 maintenance twice a week, with no end.
    assert [summary for _, _, summary in day_of(calendar, date(2026, 10, 11))] == [
        "Intensive pelvic floor training",
        "Squeezes in every position (Standing and moving)",
    ]
    assert day_of(calendar, date(2026, 10, 12)) == [("07:15", "07:18", "Maintenance training")]
    assert day_of(calendar, date(2026, 10, 13)) == []
    assert day_of(calendar, date(2030, 10, 10)) == [("07:15", "07:18", "Maintenance training")]  # a Thursday


def test_a_plan_that_ends_reminds_of_nothing_after_its_last_day(tone_library, tmp_path):
    plan = str(write(tmp_path / "short.plan.yaml", SHORT_PLAN))
    # Starting on a Wednesday: the weekly sessions fall on the plan week's days 0, 2 and 4.
    calendar = calendar_of(tone_library, plan, "nb", first_day="2026-03-04")
    assert day_of(calendar, date(2026, 3, 4)) == [("08:00", "08:01", "Raske knip"), ("13:00", "13:01", "Raske knip")]
    assert day_of(calendar, date(2026, 3, 17)) == [("08:00", "08:01", "Raske knip"), ("13:00", "13:01", "Raske knip")]
    week_3 = {day: day_of(calendar, date(2026, 3, day)) for day in range(18, 25)}
    assert [day for day, events in week_3.items() if events] == [18, 20, 22]  # Wednesday, Friday, Sunday
    assert week_3[18] == [("08:00", "08:03", "Vedlikeholdstrening")]
    assert day_of(calendar, date(2026, 3, 25)) == []  # the day after the plan's three weeks
    parsed = icalendar.Calendar.from_ical(calendar_ics(calendar))
    assert len(list(recurring_ical_events.of(parsed).between(date(2026, 1, 1), date(2027, 1, 1)))) == 14 * 2 + 3


def test_an_event_links_its_episode_and_alarms_at_its_start(library):
    calendar = calendar_of(library, "after-prostate-surgery", "ko")
    parsed = icalendar.Calendar.from_ical(calendar_ics(calendar))
    assert str(parsed["X-WR-CALNAME"]) == "전립선 수술 후 골반저근 훈련 계획"
    events = parsed.walk("VEVENT")
    first = events[0]
    assert str(first["SUMMARY"]) == "남성 골반저근 찾기"
    assert str(first["URL"]) == f"{BASE}/ko/#men-find-your-pelvic-floor"
    assert f"{BASE}/ko/men-find-your-pelvic-floor.mp3" in str(first["DESCRIPTION"])
    assert first["DTSTART"].dt == datetime(2026, 3, 2, 8, 0) and first["DTSTART"].dt.tzinfo is None  # floating
    assert first["RRULE"]["UNTIL"] == [datetime(2026, 3, 15, 23, 59, 59)]
    (alarm,) = first.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY" and alarm["TRIGGER"].dt == timedelta(0)
    assert len({str(event["UID"]) for event in events}) == len(events)
    # Weeks 13+, 3x a week: Monday, Wednesday and Friday, for good.
    assert events[-1]["RRULE"]["BYDAY"] == ["MO", "WE", "FR"] and "UNTIL" not in events[-1]["RRULE"]


def test_the_same_input_gives_the_same_bytes_and_the_stamp_is_the_start(library):
    epoch = {"SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01 00:00 UTC
    once = calendar_ics(calendar_of(library, "pregnancy", "nl", first_day=None, environment=epoch))
    again = calendar_ics(calendar_of(library, "pregnancy", "nl", first_day=None, environment=epoch))
    assert once == again
    parsed = icalendar.Calendar.from_ical(once)
    assert {event["DTSTAMP"].dt.isoformat() for event in parsed.walk("VEVENT")} == {"2026-01-01T00:00:00+00:00"}
    assert parsed.walk("VEVENT")[0]["DTSTART"].dt == datetime(2026, 1, 1, 8, 0)


def test_feed_dates_follow_the_start(library):
    episodes, _ = choose_episodes(library, ("after-prostate-surgery",), ("en",), start_date({}, MONDAY))
    published = {episode.request.file_stem: episode.published for episode in episodes}
    assert published["men-find-your-pelvic-floor"].isoformat() == "2026-03-02T06:00:00+00:00"
    assert published["men-pelvic-floor-training-standard"].date() == date(2026, 3, 16)  # week 3


def khal_day(tmp_path: Path, ics: Path, day: str, timezone: str = "Europe/Oslo") -> list[str]:
    """Import ics into a fresh khal calendar and return `khal list DAY DAY`, one event a line."""
    folder = tmp_path / "khal"
    (folder / "calendar").mkdir(parents=True, exist_ok=True)
    config = write(
        folder / "config",
        f"[calendars]\n[[reminders]]\npath = {folder / 'calendar'}\ntype = calendar\n"
        "[locale]\ntimeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
        "datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n"
        f"local_timezone = {timezone}\ndefault_timezone = {timezone}\n"
        f"[sqlite]\npath = {folder / 'khal.db'}\n",
    )
    environment = {"HOME": str(folder), "XDG_CONFIG_HOME": str(folder), "XDG_DATA_HOME": str(folder), "LANG": "C.UTF-8"}

    def khal(*args: str) -> str:
        done = subprocess.run(
            [str(KHAL), "-c", str(config), *args], env=environment, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    if not any((folder / "calendar").iterdir()):
        khal("import", "--batch", "-a", "reminders", str(ics))
    listed = khal("list", "--format", "{start-time}-{end-time} {title}", "--day-format", "", day, day)
    return [line for line in listed.splitlines() if line]


@pytest.fixture(scope="module")
def published(tone_library, tmp_path_factory):
    """Publish the short plan in English and Norwegian with the tone engine, with the reminders."""
    root = tmp_path_factory.mktemp("reminders")
    plan = str(write(root / "short.plan.yaml", SHORT_PLAN))
    start = start_date({}, MONDAY)
    episodes, texts = choose_episodes(tone_library, (plan,), (), start)
    calendars = calendars_for(tone_library, (plan,), (), start, "07:00,19:30", BASE)
    out = root / "site"
    with make_toolchain(tone_library, root / "cache", jobs=1) as toolchain:
        report = publish(episodes, texts, toolchain, out, BASE, calendars=calendars)
        first = {path: path.stat().st_mtime_ns for path in report.calendars}
        again = publish(episodes, texts, toolchain, out, BASE, calendars=calendars)
    assert [path.relative_to(out).as_posix() for path in report.calendars] == ["en/reminders.ics", "nb/reminders.ics"]
    assert {path: path.stat().st_mtime_ns for path in again.calendars} == first  # unchanged, not rewritten
    return out


def test_khal_lists_the_published_calendars_events(published, tmp_path):
    ics = published / "en" / "reminders.ics"
    assert khal_day(tmp_path, ics, "2026-03-02") == ["07:00-07:01 Quick squeezes", "19:30-19:31 Quick squeezes"]
    assert khal_day(tmp_path, ics, "2026-03-16") == ["07:00-07:03 Maintenance training"]  # week 3, a Monday
    assert khal_day(tmp_path, ics, "2026-03-17") == []
    assert khal_day(tmp_path, ics, "2026-03-20") == ["07:00-07:03 Maintenance training"]  # Friday, day 4
    assert khal_day(tmp_path, ics, "2026-03-23") == []  # the Monday after the plan


def test_khal_shows_floating_times_on_its_own_clock(library, tmp_path):
    calendar = calendar_of(library, "pregnancy", "zh")
    ics = write(tmp_path / "zh.ics", "")
    ics.write_bytes(calendar_ics(calendar))
    # Week 13, in Seoul: the same clock times as anywhere else.
    assert khal_day(tmp_path, ics, "2026-06-01", "Asia/Seoul") == [
        "08:00-08:07 孕期盆底肌训练 (标准)",
        "13:00-13:07 孕期盆底肌训练 (标准)",
        "20:00-20:07 孕期盆底肌训练 (标准)",
    ]


def test_the_page_links_the_calendar_and_the_server_serves_it_as_text_calendar(published):
    page = (published / "nb" / "index.html").read_text(encoding="utf-8")
    assert 'href="webcal://example.org/pv/nb/reminders.ics">Påminnelser i kalenderen</a>' in page
    assert f'href="{BASE}/nb/reminders.ics">.ics</a>' in page
    server = make_server(published, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        connection.request("GET", "/nb/reminders.ics")
        response = connection.getresponse()
        body = response.read()
        connection.close()
    finally:
        server.shutdown()
        server.server_close()
    assert response.status == 200 and response.getheader("Content-Type") == "text/calendar; charset=utf-8"
    assert body == (published / "nb" / "reminders.ics").read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--start", "2026-02-30"), "error: --start: '2026-02-30' is not a date (day is out of range for month);"),
        (("--start", "2.3.2026"), "error: --start: '2.3.2026' is not a date; write YYYY-MM-DD, e.g. 2026-03-02"),
        (("--reminders", "8am"), "error: --reminders: '8am' is not a time of day; write HH:MM, e.g. 08:00,13:00,20:00"),
        (("--reminders", "20:00,08:00"), "error: --reminders: '20:00,08:00': give each time once, earliest first,"),
        (("--reminders", "24:00"), "error: --reminders: '24:00' is not a time of day;"),
        (("--reminders", "08:00,20:00"), "error: --reminders: 'first-six-months' has 'kegel-basics' 3 times a day"),
    ],
)
def test_a_bad_start_or_reminder_time_is_one_line_and_writes_nothing(tmp_path, args, message):
    out = tmp_path / "site"
    result = run_cli("publish", "first-six-months", "--base-url", BASE, "-o", str(out), *args, cache=tmp_path / "c")
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(message), result.stderr
    assert not out.exists()


def test_reminders_without_a_plan_are_refused(tmp_path):
    result = run_cli("publish", "kegel-basics", "--base-url", BASE, "-o", str(tmp_path), "--reminders", "08:00")
    assert result.returncode == 1
    assert result.stderr == "error: --reminders: only a plan has reminders; publish a plan, e.g. first-six-months\n"
