"""Read a program's sections and steps, collecting every problem with its place."""

from __future__ import annotations

from typing import Any

from pelvicvoice.definitions.schema import (
    IDENTIFIER,
    check_keys,
    expect_language_texts,
    expect_list,
    expect_mapping,
    expect_number,
)
from pelvicvoice.definitions.source import DocPath, Document, ProblemList
from pelvicvoice.model import Parameter, Pause, Quick, Repeat, Say, Section, Step, Timed, Value

# Limits that keep a typo from asking for a days-long session.
MAX_SECONDS_PER_STEP = 600
MAX_REPEAT = 1000
MIN_STEP_SECONDS = 0.1
# Each section is an ID3 chapter, and the table of chapters (CTOC) counts them in one byte.
MAX_SECTIONS = 255
DEFAULT_QUICK_INTERVAL = 1.0

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


class StepReader:
    """Read sections and their steps against the program's parameters."""

    def __init__(self, document: Document, problems: ProblemList, parameters: dict[str, Parameter]):
        self.document = document
        self.problems = problems
        self.parameters = parameters

    def sections(self, value: Any, titles: dict[str, str]) -> tuple[Section, ...]:
        """Read the `sections` list; every section needs a title in each language of the program."""
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
            check_keys(self.problems, path, mapping, ("title", "steps"), ("when",), "a section")
            section_titles = (
                expect_language_texts(self.problems, path + ("title",), mapping["title"], "section title")
                if "title" in mapping
                else {}
            )
            for language in titles:
                if "title" in mapping and language not in section_titles:
                    self.problems.add(path + ("title",), f"no section title in {language!r}; add '{language}: ...'")
            steps = self._steps(path + ("steps",), mapping.get("steps"), set()) if "steps" in mapping else ()
            when = self._switch(path + ("when",), mapping["when"]) if "when" in mapping else None
            sections.append(Section(section_titles, steps, self.document.where(path), when))
        return tuple(sections)

    def _steps(self, path: DocPath, value: Any, loop_variables: set[str]) -> tuple[Step, ...]:
        items = expect_list(self.problems, path, value, "steps")
        steps = []
        for index, item in enumerate(items or []):
            step = self._step(path + (index,), item, loop_variables)
            if step is not None:
                steps.append(step)
        return tuple(steps)

    def _step(self, path: DocPath, value: Any, loop_variables: set[str]) -> Step | None:
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
        if kind == "say":
            return self._say(path, mapping)
        if kind == "pause":
            seconds = self._value(path + ("pause",), mapping["pause"], positive=True)
            return Pause(seconds, self.document.where(path)) if seconds is not None else None
        if kind in ("hold", "rest"):
            return self._timed(path, kind, mapping)
        if kind == "quick":
            return self._quick(path, mapping)
        return self._repeat(path, mapping, loop_variables)

    def _say(self, path: DocPath, mapping: dict) -> Say | None:
        phrase = self._phrase_key(path + ("say",), mapping["say"])
        seconds = self._value(path + ("seconds",), mapping["seconds"], positive=True) if "seconds" in mapping else None
        return Say(phrase or "", seconds, self.document.where(path)) if phrase else None

    def _timed(self, path: DocPath, kind: str, mapping: dict) -> Timed | None:
        seconds = self._value(path + (kind,), mapping[kind], positive=True)
        phrase = self._phrase_key(path + ("say",), mapping["say"]) if "say" in mapping else None
        count = mapping.get("count")
        if count is not None and count not in _COUNT_DIRECTIONS:
            self.problems.add(path + ("count",), f"count must be 'up' or 'down', not {count!r}")
        if seconds is None:
            return None
        return Timed(kind, seconds, phrase, count, self.document.where(path))

    def _quick(self, path: DocPath, mapping: dict) -> Quick | None:
        times = self._value(path + ("quick",), mapping["quick"], positive=True, integer=True)
        interval = (
            self._value(path + ("interval",), mapping["interval"], positive=True)
            if "interval" in mapping
            else DEFAULT_QUICK_INTERVAL
        )
        phrase = self._phrase_key(path + ("say",), mapping.get("say", "quick_lift"))
        if times is None or interval is None or phrase is None:
            return None
        return Quick(times, interval, phrase, self.document.where(path))

    def _repeat(self, path: DocPath, mapping: dict, loop_variables: set[str]) -> Repeat | None:
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
        steps = self._steps(path + ("steps",), mapping["steps"], inner)
        between = self._steps(path + ("between",), mapping["between"], inner) if "between" in mapping else ()
        if times is None:
            return None
        return Repeat(times, variable, steps, between, self.document.where(path))

    def _phrase_key(self, path: DocPath, value: Any) -> str | None:
        if isinstance(value, str) and IDENTIFIER.match(value):
            return value
        self.problems.add(path, f"{value!r} is not a phrase key; use a key from the catalog, e.g. 'relax'")
        return None

    def _value(self, path: DocPath, value: Any, positive: bool, integer: bool = False) -> Value | None:
        if isinstance(value, str):
            return self._parameter_value(path, value, positive, integer)
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

    def _parameter_value(self, path: DocPath, name: str, positive: bool, integer: bool) -> Value | None:
        parameter = self.parameters.get(name)
        if parameter is None:
            known = ", ".join(self.parameters) or "none defined"
            self.problems.add(path, f"unknown parameter {name!r}; use a number or a parameter ({known})")
            return None
        if integer and not parameter.integer:
            self.problems.add(path, f"parameter {name!r} must be a whole number here; give it a whole default")
            return None
        if positive and parameter.minimum <= 0:
            self.problems.add(
                ("parameters", name, "min"), f"parameter {name!r} is used as a duration or count; set min above 0"
            )
            return None
        return name

    def _switch(self, path: DocPath, name: Any) -> str | None:
        parameter = self.parameters.get(name) if isinstance(name, str) else None
        if parameter is None:
            known = ", ".join(self.parameters) or "none defined"
            self.problems.add(path, f"when must name a parameter ({known}), not {name!r}")
            return None
        if not parameter.integer or parameter.minimum < 0:
            self.problems.add(
                ("parameters", name, "min"),
                f"parameter {name!r} switches a section on and off; make it a whole number with min 0",
            )
            return None
        return name
