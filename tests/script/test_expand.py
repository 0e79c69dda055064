"""Expansion: golden cue scripts, and the timing rules every script obeys."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from pelvicvoice.audio.engines.espeak import estimate_speech_seconds
from pelvicvoice.build import session_script
from pelvicvoice.definitions.library import builtin_program_dir
from pelvicvoice.definitions.program import read_program
from pelvicvoice.definitions.requests import make_requests
from pelvicvoice.definitions.source import parse_document
from pelvicvoice.model import FRAME_SAMPLES, SAMPLE_RATE
from pelvicvoice.script.expand import expand
from pelvicvoice.script.formats import to_json

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
BUILTINS = tuple(sorted(path.stem for path in builtin_program_dir().glob("*.yaml")))
STRENGTH_PROGRAMS = ("intensive", "kegel-basics", "maintenance")


@pytest.mark.parametrize("program", BUILTINS)
def test_cue_script_matches_golden_file(library, program):
    """Regenerate with `python scripts/update-golden` after an intended change."""
    for request in make_requests(library, (program,), ("all",), ()):
        golden = GOLDEN / f"{program}.{request.language}.json"
        actual = json.loads(to_json(session_script(request, library)))
        assert actual == json.loads(golden.read_text(encoding="utf-8")), f"{golden.name} differs"


def test_every_builtin_program_and_language_has_a_golden_file(library):
    expected = {f"{r.program.id}.{r.language}.json" for r in make_requests(library, BUILTINS, ("all",), ())}
    assert len(expected) == len(BUILTINS) * 6
    assert {path.name for path in GOLDEN.glob("*.json")} == expected


@pytest.mark.parametrize("program", STRENGTH_PROGRAMS)
@pytest.mark.parametrize("settings", [(), ("hold=7", "rest=3", "reps=2")])
def test_holds_and_rests_last_exactly_their_seconds(library, program, settings):
    request = make_requests(library, (program,), (), settings)[0]
    script = session_script(request, library)
    values = request.parameters
    cues = script.cues
    for index, cue in enumerate(cues):
        if cue.kind not in ("hold", "rest"):
            continue
        following = next(c for c in cues[index + 1 :] if c.kind not in ("count",))
        seconds = values["hold"] if cue.kind == "hold" else values["rest"]
        if cue.kind == "hold" and program == "intensive":
            assert following.kind == "quick"
        # both ends sit on the frame grid, each within half a frame of its exact time
        assert abs(following.start - cue.start - round(seconds * SAMPLE_RATE)) <= FRAME_SAMPLES, cue


def test_counting_is_one_number_a_second_after_the_phrase(library):
    request = make_requests(library, ("kegel-basics",), (), ("hold=8",))[0]
    cues = session_script(request, library).cues
    hold = next(index for index, cue in enumerate(cues) if cue.kind == "hold")
    counts = list(itertools.takewhile(lambda cue: cue.kind == "count", cues[hold + 1 :]))
    assert [cue.text for cue in counts] == ["7", "6", "5", "4", "3", "2", "1"]
    # the short phrase "Squeeze." has the first second; then one number a second, down to 1
    offsets = [cue.start - cues[hold].start for cue in counts]
    assert all(abs(offset - k * SAMPLE_RATE) <= FRAME_SAMPLES for offset, k in zip(offsets, range(1, 8), strict=True))
    assert abs(cues[hold + len(counts) + 1].start - cues[hold].start - 8 * SAMPLE_RATE) <= FRAME_SAMPLES
    assert all(cue.start % FRAME_SAMPLES == 0 for cue in cues)


def every_session(library):
    """Every built-in program in every language, at its defaults and at each of its levels."""
    for program_id in library.builtin_ids():
        program = library.find(program_id)
        for level in (None, *program.levels):
            for request in make_requests(library, (program_id,), ("all",), (), level):
                yield request, session_script(request, library)


@pytest.mark.parametrize("hold", [None, 9, 2], ids=["defaults", "long", "short"])
def test_every_hold_sounds_as_long_as_it_is(library, hold):
    """Each hold of N seconds has a number on each of its seconds 1 to N-1, in order, in every language."""
    checked = 0
    for request, script in every_session(library):
        parameter = request.program.parameters.get("hold")
        if hold and parameter is None:
            continue
        if hold:
            settings = (f"hold={min(max(hold, parameter.minimum), parameter.maximum)}",)
            request = make_requests(library, (request.program.id,), (request.language,), settings, request.level)[0]
            script = session_script(request, library)
        cues = script.cues
        for index, cue in enumerate(cues):
            if cue.kind != "hold":
                continue
            counts = list(itertools.takewhile(lambda c: c.kind == "count", cues[index + 1 :]))
            after = cues[index + 1 + len(counts)] if index + 1 + len(counts) < len(cues) else None
            end = after.start if after is not None else script.total
            seconds = round((end - cue.start) / SAMPLE_RATE)
            where = (script.program_id, script.language, request.level, cue.start / SAMPLE_RATE)
            assert [round((c.start - cue.start) / SAMPLE_RATE) for c in counts] == list(range(1, seconds)), where
            numbers = [int(c.clip.split(".")[1]) for c in counts]
            assert numbers in (list(range(seconds - 1, 0, -1)), list(range(1, seconds))), where
            if after is not None and after.kind == "quick":
                assert numbers == list(range(1, seconds)), ("count up into the quick lifts", where)
            checked += 1
    assert checked > 50


def test_expansion_is_deterministic_and_pure(library):
    request = make_requests(library, ("intensive",), (), ())[0]
    first = to_json(session_script(request, library))
    second = to_json(session_script(request, library))
    assert first == second


def test_untimed_phrases_get_a_slot_that_grows_with_text_and_slows_with_rate():
    short = estimate_speech_seconds("Relax.", "en", 160)
    long = estimate_speech_seconds("Lie flat on your back, and slowly bend your knees.", "en", 160)
    assert short < long
    assert estimate_speech_seconds("Relax.", "en", 80) > short


def _program(library, text: str):
    program, problems = read_program(parse_document(text, "inline.yaml"))
    assert not problems, problems
    return program


def test_repeat_between_steps_run_only_between_passes(library):
    program = _program(
        library,
        """\
id: between
title: {en: Between}
description: {en: x}
source: x
phrases: {en: {go: "Go {n}.", wait: Wait.}}
sections:
  - title: {en: A}
    steps:
      - repeat: 3
        as: n
        steps: [{say: go, seconds: 2}]
        between: [{say: wait, seconds: 1}]
""",
    )
    script = expand(program, "en", {}, library.catalogs["en"], library.speech_estimate(library.voices["en"]))
    assert [cue.text for cue in script.cues] == ["Go 1.", "Wait.", "Go 2.", "Wait.", "Go 3."]
    exact = [0, 2, 3, 5, 6]
    assert [cue.start for cue in script.cues] == [round(t * SAMPLE_RATE / FRAME_SAMPLES) * FRAME_SAMPLES for t in exact]
    assert script.total == 8 * SAMPLE_RATE
    assert [cue.end for cue in script.cues][-1] == script.total


def test_quick_lifts_fall_on_their_interval(library):
    program = _program(
        library,
        """\
id: quick
title: {en: Quick}
description: {en: x}
source: x
sections:
  - title: {en: A}
    steps:
      - quick: 4
        interval: 1.5
      - say: relax
""",
    )
    script = expand(program, "en", {}, library.catalogs["en"], library.speech_estimate(library.voices["en"]))
    exact = [0, 33075, 66150, 99225, 132300]
    assert [cue.start for cue in script.cues] == [round(t / FRAME_SAMPLES) * FRAME_SAMPLES for t in exact]
    assert [cue.kind for cue in script.cues] == ["quick"] * 4 + ["speech"]


SWITCHED = """\
id: switched
title: {en: Switched}
description: {en: x}
source: x
parameters:
  sitting: {default: 1, min: 0, max: 1, help: the sitting part}
  standing: {default: 0, min: 0, max: 1, help: the standing part}
phrases: {en: {sit: Sit down., stand: Stand up.}}
sections:
  - title: {en: Lying}
    steps: [{say: relax, seconds: 2}]
  - title: {en: Sitting}
    when: sitting
    steps: [{say: sit, seconds: 2}]
  - title: {en: Standing}
    when: standing
    steps: [{say: stand, seconds: 3}]
"""


@pytest.mark.parametrize(
    ("sitting", "standing", "chapters", "seconds"),
    [(1, 0, ["Lying", "Sitting"], 4), (0, 1, ["Lying", "Standing"], 5), (1, 1, ["Lying", "Sitting", "Standing"], 7)],
)
def test_a_section_is_left_out_when_its_switch_is_zero(library, sitting, standing, chapters, seconds):
    program = _program(library, SWITCHED)
    estimate = library.speech_estimate(library.voices["en"])
    script = expand(program, "en", {"sitting": sitting, "standing": standing}, library.catalogs["en"], estimate)
    assert [chapter.title for chapter in script.chapters] == chapters
    assert [script.chapters[cue.chapter].title for cue in script.cues] == chapters
    assert script.total == seconds * SAMPLE_RATE
    assert script.chapters[-1].end == script.total


def test_a_switch_must_be_a_whole_parameter_from_zero():
    text = SWITCHED.replace("when: standing", "when: lying")
    text = text.replace("sitting: {default: 1, min: 0", "sitting: {default: 1, min: -1")
    _, problems = read_program(parse_document(text, "inline.yaml"))
    messages = [str(problem) for problem in problems]
    assert any("when must name a parameter (sitting, standing), not 'lying'" in m for m in messages), messages
    assert any("'sitting' switches a section on and off" in m for m in messages), messages
