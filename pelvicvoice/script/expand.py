"""Expand a program into a cue script: pure, deterministic, no audio involved.

Every cue time is computed from the program's own durations (holds, rests, slots);
nothing here depends on how long a synthesized clip turns out to be.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable
from dataclasses import dataclass

from pelvicvoice.definitions.phrases import (
    missing_phrase,
    phrase_template,
    placeholder_problems,
    plural_category,
    plural_forms,
)
from pelvicvoice.definitions.steps import MIN_STEP_SECONDS
from pelvicvoice.errors import DefinitionError, Location
from pelvicvoice.model import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    Catalog,
    Chapter,
    Cue,
    CueScript,
    Pause,
    Program,
    Quick,
    Repeat,
    Say,
    Step,
    Timed,
    Value,
)
from pelvicvoice.script.tones import hold_tones

MAX_SESSION_SECONDS = 4 * 3600
# Silence that must follow every clip before the next cue, so words never run together.
MIN_GAP_SECONDS = 0.05

# How many seconds a voice takes to say a text (each engine has its own estimate).
SpeechEstimate = Callable[[str], float]

_SLOT_BREATH_SECONDS = 0.6  # pause after an untimed phrase before the next cue
_SLOT_QUANTUM_SECONDS = 0.5

_DECIMAL_COMMA = {"nl", "nb", "nn", "no", "de", "fr"}


def speech_slot_seconds(estimated_seconds: float) -> float:
    """Return the slot an untimed phrase gets: its estimated speech plus a breath, in half seconds."""
    needed = estimated_seconds + _SLOT_BREATH_SECONDS
    return math.ceil(needed / _SLOT_QUANTUM_SECONDS) * _SLOT_QUANTUM_SECONDS


def format_number(value: float | int, language: str) -> str:
    """Write a number the way the language writes it (digits; the voice reads them)."""
    if float(value).is_integer():
        return str(int(value))
    text = f"{value:g}"
    return text.replace(".", ",") if language in _DECIMAL_COMMA else text


def snap_to_frame(sample: int) -> int:
    """Move a cue to the nearest MP3 frame boundary (at most 13 ms); errors never add up."""
    return round(sample / FRAME_SAMPLES) * FRAME_SAMPLES


def to_samples(seconds: float) -> int:
    """Convert seconds to a whole number of samples."""
    return round(seconds * SAMPLE_RATE)


@dataclass
class _Context:
    program: Program
    language: str
    catalog: Catalog
    parameters: dict[str, float | int]
    estimate: SpeechEstimate


class _Timeline:
    """Lay cues out one step after another; the cursor moves only by defined durations."""

    def __init__(self, context: _Context, tones: bool = False):
        self.context = context
        self.cursor = 0
        self.cues: list[Cue] = []
        self.holds: list[tuple[int, int, Location]] | None = [] if tones else None  # their tones' places
        self.chapter = 0

    def add_cue(self, start: int, text: str, clip: str, kind: str, origin: Location) -> None:
        self.cues.append(Cue(start, start, text, clip, kind, self.chapter, origin))

    def advance(self, samples: int, origin: Location) -> None:
        self.cursor += samples
        if self.cursor > MAX_SESSION_SECONDS * SAMPLE_RATE:
            raise DefinitionError.at(
                origin,
                f"the session grows past {MAX_SESSION_SECONDS // 3600} hours here; lower a repeat count or a duration",
            )


def expand(
    program: Program,
    language: str,
    parameters: dict[str, float | int],
    catalog: Catalog,
    estimate: SpeechEstimate,
    level: str | None = None,
    tones: bool = False,
) -> CueScript:
    """Expand program in language into a cue script; the voice's speech estimate sizes untimed slots."""
    if language not in program.titles:
        raise DefinitionError.at(
            program.location,
            f"program {program.id!r} has no {language!r} version; available: {', '.join(program.languages)}",
        )
    context = _Context(program, language, catalog, parameters, estimate)
    timeline = _Timeline(context, tones)
    chapters = []
    for section in program.sections:
        if section.when is not None and not parameters[section.when]:
            continue
        timeline.chapter = len(chapters)
        start = timeline.cursor
        _expand_steps(section.steps, timeline, {})
        chapters.append(Chapter(section.titles[language], start, timeline.cursor))
    if not timeline.cues:
        switched_off = len(chapters) < len(program.sections)
        why = "with these settings nothing is said; switch on" if switched_off else "the program never speaks; add"
        raise DefinitionError.at(program.location, f"{why} a section that speaks")
    total = timeline.cursor
    starts = [snap_to_frame(cue.start) for cue in timeline.cues]
    ends = [*starts[1:], total]
    cues = tuple(
        Cue(start, end, cue.text, cue.clip, cue.kind, cue.chapter, cue.origin)
        for cue, start, end in zip(timeline.cues, starts, ends, strict=True)
    )
    chapter_ends = [*(snap_to_frame(chapter.end) for chapter in chapters[:-1]), total]
    chapters = [
        Chapter(chapter.title, snap_to_frame(chapter.start), end)
        for chapter, end in zip(chapters, chapter_ends, strict=True)
    ]
    description = _filled(context, program.descriptions.get(language, ""), {}, "the description", program.location)
    return CueScript(
        program_id=program.id,
        language=language,
        title=program.titles[language],
        description=description[0],
        source=program.source,
        parameters=dict(parameters),
        level=level,
        total=total,
        cues=cues,
        chapters=tuple(chapters),
        tones=hold_tones([(snap_to_frame(start), snap_to_frame(end), at) for start, end, at in timeline.holds or []]),
    )


def _expand_steps(steps: tuple[Step, ...], timeline: _Timeline, loop: dict[str, int]) -> None:
    for step in steps:
        _expand_step(step, timeline, loop)


def _expand_step(step: Step, timeline: _Timeline, loop: dict[str, int]) -> None:
    context = timeline.context
    if isinstance(step, Say):
        text, clip = _phrase(context, step.phrase, loop, step.location)
        if step.seconds is None:
            seconds = speech_slot_seconds(context.estimate(text))
        else:
            seconds = _seconds(context, step.seconds, step.location)
        timeline.add_cue(timeline.cursor, text, clip, "speech", step.location)
        timeline.advance(to_samples(seconds), step.location)
    elif isinstance(step, Pause):
        timeline.advance(to_samples(_seconds(context, step.seconds, step.location)), step.location)
    elif isinstance(step, Timed):
        _expand_timed(step, timeline, loop)
    elif isinstance(step, Quick):
        times = int(_resolve(context, step.times))
        interval = to_samples(_seconds(context, step.interval, step.location))
        text, clip = _phrase(context, step.phrase, loop, step.location)
        start = timeline.cursor
        for index in range(times):
            timeline.add_cue(start + index * interval, text, clip, "quick", step.location)
        timeline.advance(times * interval, step.location)
    elif isinstance(step, Repeat):
        times = int(_resolve(context, step.times))
        for number in range(1, times + 1):
            inner = dict(loop, **({step.variable: number} if step.variable else {}))
            _expand_steps(step.steps, timeline, inner)
            if number < times:
                _expand_steps(step.between, timeline, inner)
    else:  # pragma: no cover - the loader only makes the kinds above
        raise TypeError(f"unknown step {step!r}")


def _expand_timed(step: Timed, timeline: _Timeline, loop: dict[str, int]) -> None:
    """Lay out a hold or rest: its phrase at the start, then, when it counts, one number every second.

    A counted step of N seconds says N-1 numbers, on seconds 1 to N-1 (down: N-1 ... 1, up:
    1 ... N-1), so that it sounds as long as it is: its phrase has the first second, and the
    build checks that the spoken phrase fits in it.
    """
    context = timeline.context
    seconds = _seconds(context, step.seconds, step.location)
    start = timeline.cursor
    if step.kind == "hold" and timeline.holds is not None:
        timeline.holds.append((start, start + to_samples(seconds), step.location))
    if step.phrase:
        text, clip = _phrase(context, step.phrase, loop, step.location)
        timeline.add_cue(start, text, clip, step.kind, step.location)
    if step.count:
        if not float(seconds).is_integer():
            raise DefinitionError.at(
                step.location, f"counting needs whole seconds, not {seconds}; round the {step.kind}"
            )
        whole = int(seconds)
        for elapsed in range(1, whole):
            number = elapsed if step.count == "up" else whole - elapsed
            timeline.add_cue(
                start + to_samples(elapsed),
                _number_word(context.catalog, number, "count"),
                f"count.{number}",
                "count",
                step.location,
            )
    timeline.advance(to_samples(seconds), step.location)


def _number_word(catalog: Catalog, value: float | int, style: str) -> str:
    """Write a number as digits, as the catalog's counting, ordinal or counter word, or in plural form."""
    forms = plural_forms(style)
    if forms is not None:
        return forms[plural_category(catalog.language, value)].replace("#", format_number(value, catalog.language))
    words = {"count": catalog.counting, "ordinal": catalog.ordinals, "counter": catalog.counters}.get(style, ())
    if float(value).is_integer() and 1 <= value <= len(words):
        return words[int(value) - 1]
    return format_number(value, catalog.language)


def _resolve(context: _Context, value: Value) -> float | int:
    return context.parameters[value] if isinstance(value, str) else value


def _seconds(context: _Context, value: Value, origin: Location) -> float:
    seconds = _resolve(context, value)
    if seconds < MIN_STEP_SECONDS:
        raise DefinitionError.at(origin, f"{seconds} s is too short; a step lasts at least {MIN_STEP_SECONDS} s")
    return seconds


def fill_phrase(program: Program, catalog: Catalog, key: str, values: dict[str, float | int]) -> str:
    """Return what phrase key says in the catalog's language with these parameter and loop values."""
    context = _Context(program, catalog.language, catalog, values, lambda text: 0.0)
    return _phrase(context, key, {}, program.location)[0]


def _phrase(context: _Context, key: str, loop: dict[str, int], origin: Location) -> tuple[str, str]:
    """Return the filled-in text of a phrase and its clip name (key plus values)."""
    template = phrase_template(context.program, context.catalog, key)
    if template is None:
        raise DefinitionError.at(origin, missing_phrase(key, context.language))
    text, filled = _filled(context, template, loop, f"phrase {key!r} in {context.language!r}", origin)
    return text, ".".join([key, *filled])


def _filled(
    context: _Context, template: str, loop: dict[str, int], what: str, origin: Location
) -> tuple[str, list[str]]:
    """Fill a text's placeholders with parameter and loop values; return it and the words put in."""
    language = context.language
    values = {**context.parameters, **loop}
    filled = []
    text = ""
    try:
        for literal, field, spec, conversion in string.Formatter().parse(template):
            text += literal
            if field is None:
                continue
            problems = placeholder_problems(what, field, spec, language, set(values))
            if conversion:
                problems.append(f"{what} writes {{{field}!{conversion}}}; placeholders take no conversion")
            if problems:
                raise DefinitionError.at(origin, problems[0])
            word = _number_word(context.catalog, values[field], spec)
            text += word
            filled.append(word)
    except ValueError as error:
        raise DefinitionError.at(origin, f"{what} has a broken placeholder: {error}") from None
    if template and not text.strip():
        raise DefinitionError.at(origin, f"{what} is empty once filled in; give it words")
    return text, filled
