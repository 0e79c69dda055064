"""Reminders: a plan's schedule as one iCalendar file per language, for a phone's calendar to subscribe to.

Each plan entry of each phase is a recurring event per session of its day, at the reminder
times. A phase's sessions take the times in turn, in the plan's order, so the day's sessions
spread over the day: the plan's weeks 1-2 of "find the muscles once a day, train twice a day"
become 08:00, 13:00 and 20:00. Times are floating (RFC 5545 local time): 08:00 rings at 08:00
on the listener's own clock, wherever the phone is, and the plan needs no time zone.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import icalendar

from pelvicvoice.build import session_script
from pelvicvoice.definitions.library import Library
from pelvicvoice.definitions.plans import Phase, Plan, PlanEntry, how_often_label, plan_requests, weeks_label
from pelvicvoice.definitions.requests import session_title
from pelvicvoice.errors import DefinitionError, Location
from pelvicvoice.model import SessionRequest
from pelvicvoice.publishing.episodes import named_episode, site_base_url

DEFAULT_TIMES = "08:00,13:00,20:00"
CALENDAR_FILE = "reminders.ics"
_OPTION = Location("--reminders")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Reminder:
    """A recurring event: one session of a plan entry, every day or on fixed weekdays, for a phase."""

    uid: str
    summary: str
    description: str
    url: str
    first: datetime  # floating: the listener's local time
    duration: timedelta
    weekdays: tuple[int, ...]  # 0 is Monday; empty: every day
    until: datetime | None  # the last moment of the phase; None: the plan goes on from then on


@dataclass(frozen=True)
class ReminderCalendar:
    """A plan's reminders in one language."""

    language: str
    name: str
    description: str
    stamp: datetime  # DTSTAMP, UTC: the publication's start, so a rerun writes the same bytes
    reminders: tuple[Reminder, ...]

    @property
    def file(self) -> str:
        """Name the calendar's file, beside the language's feed."""
        return f"{self.language}/{CALENDAR_FILE}"


def reminder_times(text: str) -> tuple[time, ...]:
    """Read HH:MM[,HH:MM...], earliest first, each once; raise a DefinitionError naming --reminders."""
    parts = [part.strip() for part in text.split(",")]
    bad = [part for part in parts if not _TIME.match(part)]
    if bad:
        raise DefinitionError.at(_OPTION, f"{bad[0]!r} is not a time of day; write HH:MM, e.g. {DEFAULT_TIMES}")
    times = tuple(time(int(part[:2]), int(part[3:])) for part in parts)
    if list(times) != sorted(set(times)):
        raise DefinitionError.at(_OPTION, f"{text!r}: give each time once, earliest first, e.g. {DEFAULT_TIMES}")
    return times


def calendars_for(
    library: Library,
    sources: tuple[str, ...],
    languages: tuple[str, ...],
    start: datetime,
    reminders: str | None,
    base_url: str,
) -> tuple[ReminderCalendar, ...]:
    """Return a plan's calendar per language (none for programs); reminders None means DEFAULT_TIMES."""
    is_plan = len(sources) == 1 and library.is_plan(sources[0])
    if not is_plan:
        if reminders is not None:
            raise DefinitionError.at(_OPTION, "only a plan has reminders; publish a plan, e.g. first-six-months")
        return ()
    plan = library.find_plan(sources[0])
    times = reminder_times(DEFAULT_TIMES if reminders is None else reminders)
    return tuple(
        plan_calendar(library, plan, language, start, times, base_url) for language in languages or plan.languages
    )


def plan_calendar(
    library: Library, plan: Plan, language: str, start: datetime, times: tuple[time, ...], base_url: str
) -> ReminderCalendar:
    """Schedule every session of the plan in one language from start's day, at the given times of day."""
    base_url = site_base_url(base_url)
    first_day = start.date()
    reminders = []
    for phase, entries in zip(plan.phases, plan_requests(plan, library, (language,)), strict=True):
        slot = 0  # the phase's next reminder time, in turn
        phase_start = first_day + timedelta(weeks=phase.first_week - 1)
        until = None
        if phase.last_week is not None:
            until = datetime.combine(first_day + timedelta(weeks=phase.last_week, days=-1), time(23, 59, 59))
        for index, (entry, requests) in enumerate(zip(phase.entries, entries, strict=True)):
            days = _session_days(entry)
            per_day = max(days.values())
            if per_day > len(times):
                raise DefinitionError.at(
                    _OPTION,
                    f"{plan.id!r} has {entry.program!r} {per_day} times a day from week {phase.first_week}, "
                    f"but {len(times)} reminder time(s) are given; give at least {per_day}, e.g. {DEFAULT_TIMES}",
                )
            summary, description, url = _texts(library, plan, phase, entry, requests, base_url)
            duration = timedelta(
                minutes=math.ceil(max(session_script(request, library).duration for request in requests) / 60)
            )
            for session in range(per_day):
                offsets = sorted(day for day, count in days.items() if count > session)
                at = times[(slot + session) % len(times)]
                weekdays = () if entry.per == "day" else tuple((phase_start + timedelta(d)).weekday() for d in offsets)
                reminders.append(
                    Reminder(
                        uid=f"{plan.id}.{language}.week{phase.first_week}.{index}.{entry.program}.{session}@pelvicvoice",
                        summary=summary,
                        description=description,
                        url=url,
                        first=datetime.combine(phase_start + timedelta(offsets[0]), at),
                        duration=duration,
                        weekdays=weekdays,
                        until=until,
                    )
                )
            slot += per_day
    return ReminderCalendar(language, plan.titles[language], plan.descriptions[language], start, tuple(reminders))


def _session_days(entry: PlanEntry) -> Counter[int]:
    """Count an entry's sessions per day of a plan week (0: the week's first day).

    n times a day is n on every day; n times a week spreads them evenly from the first day
    (twice: days 0 and 3; three times: 0, 2 and 4), two on a day only past seven a week.
    """
    if entry.per == "day":
        return Counter(dict.fromkeys(range(7), entry.times))
    return Counter(session * 7 // entry.times for session in range(entry.times))


def _texts(
    library: Library, plan: Plan, phase: Phase, entry: PlanEntry, requests: list[SessionRequest], base_url: str
) -> tuple[str, str, str]:
    """Return an entry's summary, description and link, in the requests' language."""
    named = [named_episode(request) for request in requests]
    language = named[0].language
    catalog = library.catalogs[language]
    # A plan is its language's main feed, whose page is the language folder.
    page = f"{base_url}{language}/"
    when = f"{weeks_label(phase, catalog)}: {phase.titles[language]}"
    how_often = how_often_label(entry, catalog)
    if entry.level_from is None:
        stem = named[0].file_stem
        title = session_title(named[0])
        lines = [plan.titles[language], when, f"{title}, {how_often}", f"{page}#{stem}", f"{page}{stem}.mp3"]
        return title, "\n".join(lines), f"{page}#{stem}"
    title = requests[0].program.titles[language]
    test = library.find(entry.level_from, entry.location)
    chosen = catalog.phrases["plan_chosen_by"].replace("{program}", test.titles[language])
    levels = [f"{session_title(request)}: {page}{request.file_stem}.mp3" for request in named]
    lines = [plan.titles[language], when, f"{title}, {how_often} ({chosen})", *levels, page]
    return title, "\n".join(lines), page


def calendar_ics(calendar: ReminderCalendar) -> bytes:
    """Serialize a calendar as iCalendar (RFC 5545), each event with an alarm at its start."""
    ical = icalendar.Calendar()
    ical.add("prodid", "-//pelvicvoice//reminders//EN")
    ical.add("version", "2.0")
    ical.add("calscale", "GREGORIAN")
    ical.add("name", calendar.name)
    ical.add("x-wr-calname", calendar.name)
    ical.add("description", calendar.description)
    for reminder in calendar.reminders:
        event = icalendar.Event()
        event.add("uid", reminder.uid)
        event.add("dtstamp", calendar.stamp)
        event.add("dtstart", reminder.first)
        event.add("duration", reminder.duration)
        rule: dict[str, object] = {"freq": "weekly" if reminder.weekdays else "daily"}
        if reminder.weekdays:
            rule["byday"] = [_WEEKDAYS[day] for day in reminder.weekdays]
        if reminder.until is not None:
            rule["until"] = reminder.until
        event.add("rrule", rule)
        event.add("summary", reminder.summary)
        event.add("description", reminder.description)
        event.add("url", reminder.url)
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", timedelta(0))
        alarm.add("description", reminder.summary)
        event.add_component(alarm)
        ical.add_component(event)
    return ical.to_ical()


def webcal_url(url: str) -> str:
    """Return the webcal:// form of an http(s) URL, which phones open as a calendar subscription."""
    return re.sub(r"^https?://", "webcal://", url)
