"""Training plans: which programs, with which settings, how often, week by week."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pelvicvoice.definitions.requests import make_requests
from pelvicvoice.definitions.schema import (
    SLUG,
    check_keys,
    expect_language_texts,
    expect_list,
    expect_mapping,
    expect_text,
)
from pelvicvoice.definitions.source import DocPath, Document, ProblemList
from pelvicvoice.errors import DefinitionError, Location, PelvicvoiceError
from pelvicvoice.model import Catalog, SessionRequest

if TYPE_CHECKING:
    from pelvicvoice.definitions.library import Library

_WEEKS = re.compile(r"^(\d+)(?:-(\d+)|(\+))?$")
FREQUENCIES = ("day", "week")


@dataclass(frozen=True)
class PlanEntry:
    """One program of a phase, with its level, settings and how often to do it."""

    program: str
    level: str | None
    settings: tuple[str, ...]  # name=value, as on the command line
    times: int
    per: str
    location: Location
    level_from: str | None = None  # a self-test of the same phase chooses the level: every level is offered


@dataclass(frozen=True)
class Phase:
    """Weeks first..last (last None: from then on) and what to do in them."""

    first_week: int
    last_week: int | None
    titles: dict[str, str]
    entries: tuple[PlanEntry, ...]


@dataclass(frozen=True)
class Plan:
    """A validated training plan."""

    id: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    source: str
    phases: tuple[Phase, ...]
    location: Location

    @property
    def languages(self) -> tuple[str, ...]:
        """Return the languages of the plan, in the order of its titles."""
        return tuple(self.titles)


def plan_requests(plan: Plan, library: Library, languages: tuple[str, ...]) -> list[list[list[SessionRequest]]]:
    """Return, per phase and entry, the session requests in each language; report every problem."""
    problems = []
    result = []
    for phase in plan.phases:
        phase_requests = []
        for entry in phase.entries:
            try:
                levels = _entry_levels(entry, library)
                phase_requests.append(
                    [
                        request
                        for level in levels
                        for request in make_requests(
                            library, (entry.program,), languages, entry.settings, level, origin=entry.location
                        )
                    ]
                )
            except PelvicvoiceError as error:
                problems.extend(error.problems)
        result.append(phase_requests)
    if problems:
        raise DefinitionError(problems)
    return result


def _entry_levels(entry: PlanEntry, library: Library) -> tuple[str | None, ...]:
    """Return the entry's level, or every level of its program when a self-test chooses one."""
    if entry.level_from is None:
        return (entry.level,)
    test = library.find(entry.level_from, entry.location)
    if test.chooses_level_of != entry.program:
        raise DefinitionError.at(
            entry.location,
            f"{entry.level_from!r} does not choose a level of {entry.program!r}; name a self-test that does",
        )
    return tuple(library.find(entry.program, entry.location).levels)


def weeks_label(phase: Phase, catalog: Catalog) -> str:
    """Name a phase's weeks in the catalog's language: "Weeks 3-6", or "From week 33" when open-ended."""
    if phase.last_week is None:
        return catalog.phrases.get("plan_weeks_from", "{weeks}+").replace("{weeks}", str(phase.first_week))
    first, last = phase.first_week, phase.last_week
    weeks = str(first) if first == last else f"{first}-{last}"
    return catalog.phrases.get("plan_weeks", "{weeks}").replace("{weeks}", weeks)


def how_often_label(entry: PlanEntry, catalog: Catalog) -> str:
    """Say how often an entry is done, in the catalog's language: "3x a day"."""
    return catalog.phrases.get(f"plan_per_{entry.per}", "{times}x").replace("{times}", str(entry.times))


def read_plan(document: Document) -> Plan:
    """Read a plan's phases and entries, or raise every problem found."""
    problems = ProblemList(document)
    data = expect_mapping(problems, (), document.data, "a plan file")
    if data is None:
        problems.raise_if_any()  # every key would be missing: the one problem is the file's shape
    check_keys(problems, (), data, ("id", "title", "description", "source", "phases"), (), "a plan")
    plan_id = data.get("id")
    if not isinstance(plan_id, str) or not SLUG.match(plan_id):
        problems.add(("id",), f"id {plan_id!r} cannot be a file name; use lowercase letters, digits and '-'")
    titles = expect_language_texts(problems, ("title",), data.get("title", {}), "title")
    descriptions = expect_language_texts(problems, ("description",), data.get("description", {}), "description")
    source = expect_text(problems, ("source",), data.get("source", ""), "source") or ""
    phases = []
    next_week = 1
    for index, item in enumerate(expect_list(problems, ("phases",), data.get("phases"), "phases") or []):
        phase = _read_phase(problems, ("phases", index), item, titles)
        if phase is None:
            continue
        if phase.first_week != next_week:
            problems.add(("phases", index, "weeks"), f"this phase should start in week {next_week}; leave no gaps")
        if phase.last_week is None and index != len(data["phases"]) - 1:
            problems.add(("phases", index, "weeks"), "only the last phase can go on open-ended ('27+')")
        next_week = (phase.last_week or phase.first_week) + 1
        phases.append(phase)
    problems.raise_if_any()
    return Plan(plan_id, titles, descriptions, source, tuple(phases), Location(document.name, 1, 1))


def _read_phase(problems: ProblemList, path: DocPath, item: Any, plan_titles: dict[str, str]) -> Phase | None:
    mapping = expect_mapping(problems, path, item, "a phase")
    if mapping is None or not check_keys(problems, path, mapping, ("weeks", "title", "sessions"), (), "a phase"):
        return None
    match = _WEEKS.match(str(mapping["weeks"]).strip())
    if not match:
        problems.add(path + ("weeks",), f"weeks {mapping['weeks']!r} must look like 3, 1-2 or 27+")
        return None
    first = int(match.group(1))
    last = None if match.group(3) else int(match.group(2) or first)
    if last is not None and last < first:
        problems.add(path + ("weeks",), f"weeks {first}-{last} end before they start")
    titles = expect_language_texts(problems, path + ("title",), mapping["title"], "phase title")
    for language in plan_titles:
        if language not in titles:
            problems.add(path + ("title",), f"no phase title in {language!r}; add '{language}: ...'")
    entries = []
    for index, entry in enumerate(expect_list(problems, path + ("sessions",), mapping["sessions"], "sessions") or []):
        read = _read_entry(problems, path + ("sessions", index), entry)
        if read is not None:
            entries.append((index, read))
    programs = {entry.program for _, entry in entries}
    for index, entry in entries:
        if entry.level_from is not None and entry.level_from not in programs:
            problems.add(
                path + ("sessions", index, "level_from"),
                f"{entry.level_from!r} is not a session of this phase; add it, so the listener takes the test",
            )
    return Phase(first, last, titles, tuple(entry for _, entry in entries))


def _read_entry(problems: ProblemList, path: DocPath, item: Any) -> PlanEntry | None:
    mapping = expect_mapping(problems, path, item, "a plan session")
    if mapping is None or not check_keys(
        problems, path, mapping, ("program", "times", "per"), ("level", "set", "level_from"), "a plan session"
    ):
        return None
    program = expect_text(problems, path + ("program",), mapping["program"], "program")
    times = mapping["times"]
    if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= 10:
        problems.add(path + ("times",), f"times must be a whole number from 1 to 10, not {times!r}")
    if mapping["per"] not in FREQUENCIES:
        problems.add(path + ("per",), f"per must be 'day' or 'week', not {mapping['per']!r}")
    level = mapping.get("level")
    if level is not None and not isinstance(level, str):
        problems.add(path + ("level",), "level must be the name of a level of the program")
    settings = expect_mapping(problems, path + ("set",), mapping.get("set", {}), "set") or {}
    level_from = mapping.get("level_from")
    if level_from is not None and (not isinstance(level_from, str) or level is not None):
        problems.add(path + ("level_from",), "level_from names a self-test of this phase, and leaves out level")
    if program is None:
        return None
    return PlanEntry(
        program,
        level,
        tuple(f"{name}={value}" for name, value in settings.items()),
        times if isinstance(times, int) else 1,
        str(mapping["per"]),
        problems.document.where(path),
        level_from if isinstance(level_from, str) else None,
    )
