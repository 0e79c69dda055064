"""Hold tones in the cue script: a layer of their own, on the frame grid, marking exactly where holds start and end."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from pelvicvoice.build import session_script
from pelvicvoice.definitions.requests import make_requests
from pelvicvoice.model import FRAME_SAMPLES, SAMPLE_RATE
from pelvicvoice.script.formats import chapters_json, to_json, to_srt, to_text, to_vtt, transcript_json
from pelvicvoice.script.tones import TONE_SAMPLES

from conftest import run_cli, write

HOLD_PROGRAMS = ("kegel-basics", "intensive", "men-pelvic-floor-training", "pregnancy", "self-test")


def scripts(library, program, settings=()):
    request = make_requests(library, (program,), (), settings)[0]
    return session_script(replace(request, tones=False), library), session_script(replace(request, tones=True), library)


@pytest.mark.parametrize("program", HOLD_PROGRAMS)
def test_every_hold_is_marked_where_it_starts_and_where_it_ends(library, program):
    plain, toned = scripts(library, program)
    holds = [index for index, cue in enumerate(toned.cues) if cue.kind == "hold"]
    assert holds and len(toned.tones) == 2 * len(holds)
    request = make_requests(library, (program,), (), ())[0]
    seconds = request.parameters.get("hold")
    for number, index in enumerate(holds):
        start, end = toned.tones[2 * number], toned.tones[2 * number + 1]
        assert (start.kind, end.kind) == ("start", "end")
        assert start.start == toned.cues[index].start  # the tone begins with the hold's phrase
        following = next((cue for cue in toned.cues[index + 1 :] if cue.kind not in ("count",)), None)
        hold_end = following.start if following else toned.total
        assert end.start + TONE_SAMPLES == hold_end  # and the end tone ends where the hold ends
        if program in ("kegel-basics", "intensive"):  # every hold of theirs lasts `hold` seconds
            assert abs(hold_end - start.start - round(seconds * SAMPLE_RATE)) <= FRAME_SAMPLES
        assert start.start % FRAME_SAMPLES == 0 and end.start % FRAME_SAMPLES == 0
    assert not plain.tones


@pytest.mark.parametrize("program", HOLD_PROGRAMS)
def test_tones_change_no_speech_no_transcript_and_no_chapter(library, program):
    plain, toned = scripts(library, program)
    assert (toned.cues, toned.chapters, toned.total) == (plain.cues, plain.chapters, plain.total)
    for serialize in (to_srt, to_vtt, transcript_json, chapters_json):
        assert serialize(toned) == serialize(plain), serialize.__name__
    without = json.loads(to_json(toned))
    assert len(without.pop("tones")) == len(toned.tones)
    assert without == json.loads(to_json(plain))  # so the golden files stay as they are


def test_show_text_has_a_line_for_each_tone_in_time_order(library):
    _plain, toned = scripts(library, "kegel-basics")
    lines = to_text(toned).splitlines()
    tone_lines = [line for line in lines if line.split()[1] == "tone"][:2]
    clock = [f"{tone.start // SAMPLE_RATE // 60:02d}:{tone.start / SAMPLE_RATE % 60:06.3f}" for tone in toned.tones[:2]]
    assert [line.split("  ", 1)[0] for line in tone_lines] == clock
    assert [line.split(maxsplit=2)[2] for line in tone_lines] == ["high, the hold starts", "low, the hold ends"]
    hold = next(index for index, line in enumerate(lines) if line.split()[1] == "hold")
    assert lines[hold + 1] == tone_lines[0]
    assert lines[lines.index(tone_lines[1]) + 1].split()[1] == "rest"


def test_a_hold_too_short_for_two_tones_gets_only_the_first(tmp_path, library):
    program = write(
        tmp_path / "short.yaml",
        """\
id: short-holds
title: {en: Short holds}
description: {en: A hold of 0.3 s (11 frames) and one of 0.4 s (15 frames); two tones take 12.}
source: test
tones: true
sections:
  - title: {en: One}
    steps:
      - hold: 0.3
      - rest: 1
        say: relax
      - hold: 0.4
      - rest: 1
        say: relax
""",
    )
    script = session_script(make_requests(library, (str(program),), (), ())[0], library)
    assert [(tone.kind, tone.start) for tone in script.tones] == [
        ("start", 0),
        ("start", 50 * FRAME_SAMPLES),  # 1.3 s, on the nearest frame
        ("end", 65 * FRAME_SAMPLES - TONE_SAMPLES),  # ends at 1.7 s, on the nearest frame
    ]


def test_the_program_key_turns_tones_on_and_the_option_overrides_it(tmp_path):
    program = write(
        tmp_path / "toned.yaml",
        """\
id: toned
title: {en: Toned}
description: {en: Tones from the program.}
source: test
tones: true
sections:
  - title: {en: One}
    steps:
      - hold: 5
        say: squeeze_start
      - rest: 5
        say: relax
""",
    )

    def tones(*options):
        result = run_cli("show", str(program), "--format", "json", *options)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout).get("tones")

    assert tones() == [{"start": 0.0, "end": 0.157, "kind": "start"}, {"start": 4.833, "end": 4.989, "kind": "end"}]
    assert tones("--no-tones") is None
    assert run_cli("show", "kegel-basics", "--tones", "--format", "json").stdout.count('"kind": "start"') == 3
