"""Resolve what was asked for (programs, languages, a level, settings) into session requests."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pelvicvoice.errors import DefinitionError, Location, PelvicvoiceError, Problem
from pelvicvoice.model import Program, SessionRequest

if TYPE_CHECKING:
    from pelvicvoice.definitions.library import Library


@dataclass(frozen=True)
class Wording:
    """How messages name what was asked for: a plan writes `set hold=8`, the command line `--set hold=8`."""

    setting: str = "set {}"
    level: str = "level {}"


def session_title(request: SessionRequest) -> str:
    """Title a session by its program, and its level when it has one: "Intensive training (Gentle)"."""
    program, language = request.program, request.language
    level = f" ({program.levels[request.level].titles[language]})" if request.level else ""
    return program.titles[language] + level


def make_requests(
    library: Library,
    names: tuple[str, ...],
    languages: tuple[str, ...],
    assignments: tuple[str, ...],
    level: str | None = None,
    origin: Location | None = None,
    wording: Wording = Wording(),
) -> list[SessionRequest]:
    """Resolve programs, languages ('all' = each program's own), a level and name=value settings into requests.

    What the caller asked for that cannot be had is reported at origin, when it is given.
    """
    requests, problems = [], []
    for name in names:
        try:
            program = library.find(name, origin)
            values = parse_overrides(program, assignments, level, origin, wording)
        except PelvicvoiceError as error:
            problems.extend(error.problems)
            continue
        wanted = program.languages if "all" in languages else (languages or program.languages[:1])
        for language in dict.fromkeys(wanted):
            if language not in program.languages:
                problems.append(
                    Problem(
                        origin or program.location,
                        f"program {program.id!r} has no {language!r} version; it has {', '.join(program.languages)}",
                    )
                )
                continue
            requests.append(SessionRequest(program, language, values, level))
    if problems:
        raise DefinitionError(problems)
    return requests


def parse_overrides(
    program: Program,
    assignments: tuple[str, ...],
    level: str | None = None,
    origin: Location | None = None,
    wording: Wording = Wording(),
) -> dict[str, float | int]:
    """Apply a level, then `name=value` assignments, to the program's defaults; report every bad one.

    Problems are reported at origin (where the settings were asked for) when it is given,
    else at the parameter in the program file.
    """
    values = program.defaults
    problems = []
    if level is not None:
        if level in program.levels:
            values.update(program.levels[level].values)
        else:
            known = ", ".join(program.levels) or "none"
            problems.append(
                Problem(
                    origin or program.location,
                    f"{wording.level.format(level)}: program {program.id!r} has no such level; known: {known}",
                )
            )
    for assignment in assignments:
        name, sep, text = (part.strip() for part in assignment.partition("="))
        parameter = program.parameters.get(name)
        where = origin or (parameter.location if parameter else program.location)
        prefix = f"{wording.setting.format(assignment)}: "
        if not sep:
            problems.append(Problem(where, prefix + f"expected name=value, e.g. {wording.setting.format('hold=8')}"))
            continue
        if parameter is None:
            close = difflib.get_close_matches(name, list(program.parameters), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(program.parameters) or 'none'}"
            problems.append(Problem(where, prefix + f"program {program.id!r} has no parameter {name!r}; {hint}"))
            continue
        try:
            number: float | int = int(text) if parameter.integer else float(text)
        except ValueError:
            kind = "a whole number" if parameter.integer else "a number"
            problems.append(Problem(where, prefix + f"{name} must be {kind}, not {text!r}"))
            continue
        problem = parameter.problem_with(number)
        if problem:
            problems.append(Problem(where, prefix + problem))
            continue
        values[name] = number
    if problems:
        raise DefinitionError(problems)
    return values
