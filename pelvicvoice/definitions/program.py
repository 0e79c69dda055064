"""Load program definitions and check their structure, collecting every problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pelvicvoice.definitions.schema import (
    IDENTIFIER,
    SLUG,
    check_keys,
    expect_language_texts,
    expect_mapping,
    expect_number,
    expect_phrase,
    expect_text,
    type_name,
)
from pelvicvoice.definitions.source import DocPath, Document, ProblemList, load_document
from pelvicvoice.definitions.steps import MAX_REPEAT, MAX_SECONDS_PER_STEP, MIN_STEP_SECONDS, StepReader
from pelvicvoice.errors import Location, Problem
from pelvicvoice.model import Level, Parameter, Program

# A feed of its own is written as <lang>/<feed>.xml and .html, beside the main feed.xml and index.html.
_MAIN_FEED_FILES = ("feed", "index")


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
            optional=("notes", "parameters", "levels", "phrases", "feed", "chooses_level_of", "tones"),
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
        steps = StepReader(self.document, self.problems, self.parameters)
        sections = steps.sections(data.get("sections"), titles) if "sections" in data else ()
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
            feed=self._read_feed(data.get("feed")),
            chooses_level_of=self._read_chosen(data.get("chooses_level_of")),
            tones=self._read_tones(data.get("tones", False)),
        )

    def _read_tones(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        self.problems.add(("tones",), f"tones must be true or false, not {type_name(value)}")
        return False

    def _read_chosen(self, value: Any) -> str | None:
        if value is None or (isinstance(value, str) and SLUG.match(value)):
            return value
        self.problems.add(("chooses_level_of",), f"chooses_level_of {value!r} must be the id of a program")
        return None

    def _read_feed(self, value: Any) -> str | None:
        if value in _MAIN_FEED_FILES:
            self.problems.add(("feed",), f"feed {value!r} is the name of the main feed's files; choose another name")
            return None
        if value is None or (isinstance(value, str) and IDENTIFIER.match(value)):
            return value
        self.problems.add(("feed",), f"feed {value!r} must be lowercase letters, digits and '_'")
        return None

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
                problem = parameter.problem_with(number)
                if problem:
                    self.problems.add(where, problem)
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
