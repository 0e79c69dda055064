"""Load program definitions and check their structure, collecting every problem."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pelvicvoice.errors import DefinitionError, Location, Problem
from pelvicvoice.model import Level, Parameter, Pause, Program, Quick, Repeat, Say, Section, Step, Timed, Value
from pelvicvoice.definitions.schema import (
    IDENTIFIER,
    SLUG,
    check_keys,
    expect_language_texts,
    expect_list,
    expect_mapping,
    expect_number,
    expect_phrase,
    expect_text,
    type_name,
)
from pelvicvoice.definitions.source import DocPath, Document, ProblemList, load_document

# Limits that keep a typo from asking for a days-long session.
MAX_SECONDS_PER_STEP = 600
MAX_REPEAT = 1000
MIN_STEP_SECONDS = 0.1
# Each section is an ID3 chapter, and the table of chapters (CTOC) counts them in one byte.
MAX_SECTIONS = 255

_STEP_KINDS = ("repeat", "hold", "rest", "quick", "pause", "say")
_STEP_KEYS = {
    "say": (("say",), ("seconds",)),
    "pause": (("pause",), ()),
    "hold": (("hold",), ("say", "count")),
    "rest": (("rest",), ("say", "count")),
    "quick": (("quick",), ("say", "interval")),
    "repeat": (("repeat", "steps"), ("as", "between")),
}
_COUNT_DIRECTIONS = ("up", "down")
DEFAULT_QUICK_INTERVAL = 1.0


def load_program(path: Path, display_name: str | None = None) -> tuple[Program, list[Problem]]:
    """Load one program file: what is valid of it, and its structural problems."""
    return read_program(load_document(path, display_name))


def read_program(document: Document) -> tuple[Program, list[Problem]]:
    """Read as much of a program as is valid, and list every structural problem."""
    problems = ProblemList(document)
    program = _ProgramReader(document, problems).read()
    return program, sorted(set(problems.problems), key=lambda p: (p.location, p.message))


class _ProgramReader:
    def __init__(self, document: Document, problems: ProblemList):
        self.document = document
        self.problems = problems
        self.parameters: dict[str, Parameter] = {}

    def where(self, path: DocPath) -> Location:
        return self.document.where(path)

    def read(self) -> Program:
        data = expect_mapping(self.problems, (), self.document.data, "a program file")
        if data is None:
            return Program("", {}, {}, "", "", {}, {}, (), Location(self.document.name, 1, 1))
        check_keys(
            self.problems,
            (),
            data,
            required=("id", "title", "description", "source", "sections"),
            optional=("notes", "parameters", "levels", "phrases"),
            what="a program",
        )
        program_id = self._read_id(data.get("id"))
        titles = (
            expect_language_texts(self.problems, ("title",), data.get("title", {}), "title") if "title" in data else {}
        )
        descriptions = (
            expect_language_texts(self.problems, ("description",), data["description"], "description")
            if "description" in data
            else {}
        )
        for language in titles:
            if "description" in data and language not in descriptions:
                self.problems.add(("description",), f"no description in {language!r}; add '{language}: ...'")
        source = expect_text(self.problems, ("source",), data["source"], "source") if "source" in data else ""
        notes = ""
        if "notes" in data:
            notes = expect_text(self.problems, ("notes",), data["notes"], "notes") or ""
        if "parameters" in data:
            self._read_parameters(data["parameters"])
        levels = self._read_levels(data["levels"], titles) if "levels" in data else {}
        phrases = self._read_phrases(data.get("phrases", {}), titles)
        sections = self._read_sections(data.get("sections"), titles) if "sections" in data else ()
        return Program(
            id=program_id or "",
            titles=titles,
            descriptions=descriptions,
            source=source or "",
            notes=notes,
            parameters=self.parameters,
            phrases=phrases,
            sections=sections,
            location=Location(self.document.name, 1, 1),
            levels=levels,
        )

    def _read_id(self, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not SLUG.match(value):
            self.problems.add(
                ("id",),
                f"id {value!r} cannot be a file name; use 1-64 lowercase letters, digits and '-', e.g. kegel-basics",
            )
            return None
        return value

    def _read_parameters(self, value: Any) -> None:
        mapping = expect_mapping(self.problems, ("parameters",), value, "parameters")
        for name, spec in (mapping or {}).items():
            path = ("parameters", name)
            if not isinstance(name, str) or not IDENTIFIER.match(name):
                self.problems.add(path, f"parameter name {name!r} must be lowercase letters, digits and '_'")
                continue
            if isinstance(spec, (int, float)) and not isinstance(spec, bool):
                spec = {"default": spec}
            spec = expect_mapping(self.problems, path, spec, f"parameter {name!r}")
            if spec is None or not check_keys(
                self.problems, path, spec, ("default",), ("min", "max", "help"), f"parameter {name!r}"
            ):
                continue
            default = expect_number(self.problems, path + ("default",), spec["default"], "default")
            if default is None:
                continue
            integer = isinstance(default, int)
            minimum = expect_number(
                self.problems, path + ("min",), spec.get("min", 1 if integer else MIN_STEP_SECONDS), "min"
            )
            maximum = expect_number(
                self.problems, path + ("max",), spec.get("max", MAX_REPEAT if integer else MAX_SECONDS_PER_STEP), "max"
            )
            help_text = spec.get("help", "")
            if not isinstance(help_text, str):
                self.problems.add(path + ("help",), f"help must be text, not {type_name(help_text)}")
                help_text = ""
            if minimum is None or maximum is None:
                continue
            if not minimum <= default <= maximum:
                self.problems.add(path + ("default",), f"default {default} is outside min {minimum} .. max {maximum}")
                continue
            self.parameters[name] = Parameter(name, default, minimum, maximum, integer, help_text, self.where(path))

    def _read_levels(self, value: Any, titles: dict[str, str]) -> dict[str, Level]:
        levels: dict[str, Level] = {}
        for name, spec in (expect_mapping(self.problems, ("levels",), value, "levels") or {}).items():
            path = ("levels", name)
            if not isinstance(name, str) or not SLUG.match(name):
                self.problems.add(path, f"level name {name!r} must be lowercase letters, digits and '-'")
                continue
            spec = expect_mapping(self.problems, path, spec, f"level {name!r}")
            if spec is None or not check_keys(self.problems, path, spec, ("title", "set"), (), f"level {name!r}"):
                continue
            level_titles = expect_language_texts(self.problems, path + ("title",), spec["title"], "level title")
            for language in titles:
                if language not in level_titles:
                    self.problems.add(path + ("title",), f"no level title in {language!r}; add '{language}: ...'")
            values: dict[str, float | int] = {}
            for parameter_name, number in (
                expect_mapping(self.problems, path + ("set",), spec["set"], "set") or {}
            ).items():
                where = path + ("set", parameter_name)
                parameter = self.parameters.get(parameter_name)
                if parameter is None:
                    self.problems.add(
                        where, f"unknown parameter {parameter_name!r}; known: {', '.join(self.parameters)}"
                    )
                    continue
                number = expect_number(self.problems, where, number, "a parameter value")
                if number is None:
                    continue
                if parameter.integer and not float(number).is_integer():
                    self.problems.add(where, f"{parameter_name} must be a whole number")
                elif not parameter.minimum <= number <= parameter.maximum:
                    self.problems.add(
                        where, f"{parameter_name} must be between {parameter.minimum} and {parameter.maximum}"
                    )
                else:
                    values[parameter_name] = int(number) if parameter.integer else number
            levels[name] = Level(name, level_titles, values, self.where(path))
        return levels

    def _read_phrases(self, value: Any, titles: dict[str, str]) -> dict[str, dict[str, str]]:
        mapping = expect_mapping(self.problems, ("phrases",), value, "phrases")
        result: dict[str, dict[str, str]] = {}
        for language, texts in (mapping or {}).items():
            path = ("phrases", language)
            if language not in titles:
                self.problems.add(
                    path, f"phrases for {language!r}, but the title has no {language!r}; add a title in it"
                )
                continue
            entries = expect_mapping(self.problems, path, texts, f"phrases in {language!r}")
            result[language] = {}
            for key, text in (entries or {}).items():
                if not isinstance(key, str) or not IDENTIFIER.match(key):
                    self.problems.add(path + (key,), f"phrase key {key!r} must be lowercase letters, digits and '_'")
                    continue
                checked = expect_phrase(self.problems, path + (key,), text, f"phrase {key!r}")
                if checked is not None:
                    result[language][key] = checked
        return result

    def _read_sections(self, value: Any, titles: dict[str, str]) -> tuple[Section, ...]:
        items = expect_list(self.problems, ("sections",), value, "sections")
        if items is not None and len(items) > MAX_SECTIONS:
            self.problems.add(
                ("sections",),
                f"{len(items)} sections; an MP3's table of chapters holds at most {MAX_SECTIONS}: merge some",
            )
        sections = []
        for index, item in enumerate(items or []):
            path = ("sections", index)
            mapping = expect_mapping(self.problems, path, item, "a section")
            if mapping is None:
                continue
            check_keys(self.problems, path, mapping, ("title", "steps"), (), "a section")
            section_titles = (
                expect_language_texts(self.problems, path + ("title",), mapping["title"], "section title")
                if "title" in mapping
                else {}
            )
            for language in titles:
                if "title" in mapping and language not in section_titles:
                    self.problems.add(path + ("title",), f"no section title in {language!r}; add '{language}: ...'")
            steps = self._read_steps(path + ("steps",), mapping.get("steps"), set()) if "steps" in mapping else ()
            sections.append(Section(section_titles, steps, self.where(path)))
        return tuple(sections)

    def _read_steps(self, path: DocPath, value: Any, loop_variables: set[str]) -> tuple[Step, ...]:
        items = expect_list(self.problems, path, value, "steps")
        steps = []
        for index, item in enumerate(items or []):
            step = self._read_step(path + (index,), item, loop_variables)
            if step is not None:
                steps.append(step)
        return tuple(steps)

    def _read_step(self, path: DocPath, value: Any, loop_variables: set[str]) -> Step | None:
        if isinstance(value, str):
            value = {"say": value}
        mapping = expect_mapping(self.problems, path, value, "a step")
        if mapping is None:
            return None
        kind = next((k for k in _STEP_KINDS if k in mapping), None)
        if kind is None:
            self.problems.add(path, f"a step needs one of: {', '.join(_STEP_KINDS)}")
            return None
        required, optional = _STEP_KEYS[kind]
        if not check_keys(self.problems, path, mapping, required, optional, f"a {kind} step"):
            return None
        location = self.where(path)
        if kind == "say":
            phrase = self._phrase_key(path + ("say",), mapping["say"])
            seconds = (
                self._value(path + ("seconds",), mapping["seconds"], positive=True) if "seconds" in mapping else None
            )
            return Say(phrase or "", seconds, location) if phrase else None
        if kind == "pause":
            seconds = self._value(path + ("pause",), mapping["pause"], positive=True)
            return Pause(seconds, location) if seconds is not None else None
        if kind in ("hold", "rest"):
            seconds = self._value(path + (kind,), mapping[kind], positive=True)
            phrase = self._phrase_key(path + ("say",), mapping["say"]) if "say" in mapping else None
            count = mapping.get("count")
            if count is not None and count not in _COUNT_DIRECTIONS:
                self.problems.add(path + ("count",), f"count must be 'up' or 'down', not {count!r}")
            if seconds is None:
                return None
            return Timed(kind, seconds, phrase, count, location)
        if kind == "quick":
            times = self._value(path + ("quick",), mapping["quick"], positive=True, integer=True)
            interval = (
                self._value(path + ("interval",), mapping["interval"], positive=True)
                if "interval" in mapping
                else DEFAULT_QUICK_INTERVAL
            )
            phrase = self._phrase_key(path + ("say",), mapping.get("say", "quick_lift"))
            if times is None or interval is None or phrase is None:
                return None
            return Quick(times, interval, phrase, location)
        times = self._value(path + ("repeat",), mapping["repeat"], positive=True, integer=True)
        variable = mapping.get("as")
        inner = set(loop_variables)
        if variable is not None:
            if not isinstance(variable, str) or not IDENTIFIER.match(variable):
                self.problems.add(path + ("as",), f"loop name {variable!r} must be lowercase letters, digits and '_'")
                variable = None
            elif variable in self.parameters or variable in loop_variables:
                self.problems.add(path + ("as",), f"loop name {variable!r} hides a parameter or outer loop; rename it")
                variable = None
            else:
                inner.add(variable)
        steps = self._read_steps(path + ("steps",), mapping["steps"], inner)
        between = self._read_steps(path + ("between",), mapping["between"], inner) if "between" in mapping else ()
        if times is None:
            return None
        return Repeat(times, variable, steps, between, location)

    def _phrase_key(self, path: DocPath, value: Any) -> str | None:
        if isinstance(value, str) and IDENTIFIER.match(value):
            return value
        self.problems.add(path, f"{value!r} is not a phrase key; use a key from the catalog, e.g. 'relax'")
        return None

    def _value(self, path: DocPath, value: Any, positive: bool, integer: bool = False) -> Value | None:
        if isinstance(value, str):
            parameter = self.parameters.get(value)
            if parameter is None:
                known = ", ".join(self.parameters) or "none defined"
                self.problems.add(path, f"unknown parameter {value!r}; use a number or a parameter ({known})")
                return None
            if integer and not parameter.integer:
                self.problems.add(path, f"parameter {value!r} must be a whole number here; give it a whole default")
                return None
            if positive and parameter.minimum <= 0:
                self.problems.add(
                    ("parameters", value, "min"), f"parameter {value!r} is used as a duration or count; set min above 0"
                )
                return None
            return value
        number = expect_number(self.problems, path, value, "this value")
        if number is None:
            return None
        if integer and not float(number).is_integer():
            self.problems.add(path, f"{number} must be a whole number")
            return None
        if positive and number <= 0:
            self.problems.add(path, f"{number} must be greater than 0")
            return None
        limit = MAX_REPEAT if integer else MAX_SECONDS_PER_STEP
        if number > limit:
            self.problems.add(path, f"{number} is more than the limit of {limit}; use a smaller value")
            return None
        return int(number) if integer else number


def parse_overrides(
    program: Program, assignments: tuple[str, ...], level: str | None = None, origin: Location | None = None
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
                    f"--level {level}: program {program.id!r} has no such level; known: {known}",
                )
            )
    for assignment in assignments:
        name, sep, text = (part.strip() for part in assignment.partition("="))
        parameter = program.parameters.get(name)
        where = origin or (parameter.location if parameter else program.location)
        prefix = f"--set {assignment}: "
        if not sep:
            problems.append(Problem(where, prefix + "expected name=value, e.g. --set hold=8"))
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
        if not parameter.minimum <= number <= parameter.maximum:
            problems.append(
                Problem(where, prefix + f"{name} must be between {parameter.minimum} and {parameter.maximum}")
            )
            continue
        values[name] = number
    if problems:
        raise DefinitionError(problems)
    return values
