"""The program library: complete catalogs, native speech, every session fits its slots."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from pelvicvoice.audio.engines.pyttsx3_espeak import EspeakEngine
from pelvicvoice.build import expand_sessions, make_toolchain, overflow_problems
from pelvicvoice.definitions.requests import make_requests
from pelvicvoice.model import SAMPLE_RATE
from pelvicvoice.mp3.ffmpeg import decode_to_samples

from conftest import run_cli

LANGUAGES = ("en", "nl", "nb", "nn", "zh", "ko")
SWITCH = re.compile(r"\([a-z]{2,3}(?:-[a-z0-9]+)?\)")


def all_requests(library):
    """Every built-in program in every language, at its defaults and at each of its levels."""
    requests = []
    for program_id in library.builtin_ids():
        program = library.find(program_id)
        for level in (None, *program.levels):
            requests.extend(make_requests(library, (program_id,), ("all",), (), level))
    return requests


@pytest.fixture(scope="module")
def planned(library, tmp_path_factory):
    return expand_sessions(all_requests(library), library, tmp_path_factory.mktemp("unused"))


@pytest.fixture(scope="module")
def library_cache(tmp_path_factory) -> Path:
    """One clip cache for the whole library, so its phrases are synthesized once per run."""
    return tmp_path_factory.mktemp("library-cache")


def test_every_program_speaks_all_six_languages(library):
    for program_id in library.builtin_ids():
        assert library.find(program_id).languages == LANGUAGES, program_id


def test_catalogs_have_every_key_in_every_language(library):
    keys = {language: set(catalog.phrases) for language, catalog in library.catalogs.items()}
    assert set(keys) == set(LANGUAGES)
    for language in LANGUAGES:
        assert keys[language] == keys["en"], language


def test_program_phrases_exist_in_every_language(library):
    for program_id in library.builtin_ids():
        program = library.find(program_id)
        english = set(program.phrases.get("en", {}))
        for language in LANGUAGES:
            assert set(program.phrases.get(language, {})) == english, (program_id, language)


def test_no_placeholder_is_left_unfilled(planned):
    for session in planned:
        for cue in session.script.cues:
            assert not re.search(r"[{}]", cue.text), (session.script.program_id, cue.text)


@pytest.mark.slow
def test_every_phrase_is_spoken_natively(library, planned):
    """espeak-ng's own phonemizer shows no switch to another language for any spoken text.

    Piper phonemizes with espeak-ng too, so its English is checked with the espeak-ng voice of the same language.
    """
    engine = EspeakEngine()
    espeak = {language: library.profiles[(language, "espeak-ng")] for language, _ in library.profiles}
    texts = {(espeak[session.profile.language], cue.text) for session in planned for cue in session.script.cues}
    switched = []
    for profile, text in sorted(texts, key=lambda item: (item[0].language, item[1])):
        phonemes = engine.phonemes(text, profile)
        if SWITCH.search(phonemes):
            switched.append((profile.language, text, phonemes))
    assert not switched, "\n".join(map(str, switched))


@pytest.mark.slow
def test_every_session_fits_its_slots_at_the_default_rate(library, planned, library_cache):
    with make_toolchain(library, library_cache) as toolchain:
        clips = toolchain.clips.clips_for([(session.script, session.profile) for session in planned]).sessions
    problems = [
        problem
        for session, found in zip(planned, clips, strict=True)
        for problem in overflow_problems(session.script, found)
    ]
    assert not problems, "\n".join(map(str, problems))


def test_exercise_sessions_open_with_safety_and_close_with_an_outro(planned):
    for session in planned:
        cues = session.script.cues
        if not any(cue.kind in ("hold", "rest", "quick") for cue in cues):
            continue
        assert any(cue.clip.startswith("safety") for cue in cues[:2]), session.script.program_id
        assert cues[-1].clip == "well_done", session.script.program_id


def test_programs_cite_their_source_and_validate(library):
    ids = library.builtin_ids()
    for program_id in ids:
        assert re.search(r"[Ss]eed 00\d|NICE|NHS", library.find(program_id).source), program_id
    result = run_cli("validate", *ids)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_build_all_languages_of_every_program(library, library_cache, tmp_path):
    programs = library.builtin_ids()
    result = run_cli("build", *programs, "--lang", "all", "-o", str(tmp_path), cache=library_cache)
    assert result.returncode == 0, result.stderr
    written = result.stdout.split()
    assert len(written) == len(programs) * len(LANGUAGES)
    for language in LANGUAGES:
        for program_id in programs:
            path = tmp_path / language / f"{program_id}.mp3"
            script = json.loads(run_cli("show", program_id, "--lang", language, "--format", "json").stdout)
            assert abs(len(decode_to_samples(path)) / SAMPLE_RATE - script["duration"]) < 0.05, path
            assert ID3(path)["TIT2"].text[0] == script["title"]


HOW_OFTEN = {
    "en": r"\b(?:a|per|each|every) (?:day|week|morning|evening)\b|\bdaily\b(?! life)|\bweekly\b",
    "nl": r"\bper (?:dag|week)\b|\belke (?:dag|week|avond)\b|\bdagelijks\b(?! leven)|\bwekelijks\b",
    "nb": r"\bom dagen\b|\bi uka\b|\bper (?:dag|uke)\b|\bhver (?:dag|uke)\b|\bdaglig\b",
    "nn": r"\bom dagen\b|\bi veka\b|\bper (?:dag|veke)\b|\bkvar (?:dag|veke)\b|\bdagleg\b",
    "zh": r"每天|每日|每周|每星期",
    "ko": r"하루에|매일|일주일에|주에 \S+ 번",
}


def test_only_plans_say_how_often(library):
    """A program that a plan schedules never says how often to do it, so it cannot contradict the plan."""
    planned = {
        entry.program
        for plan_id in library.builtin_plan_ids()
        for phase in library.find_plan(plan_id).phases
        for entry in phase.entries
    }
    assert {"kegel-basics", "quick-squeezes", "maintenance"} <= planned
    found = []
    for program_id in sorted(planned):
        program = library.find(program_id)
        for language, pattern in HOW_OFTEN.items():
            texts = [program.descriptions[language], *program.phrases.get(language, {}).values()]
            found.extend((program_id, language, text) for text in texts if re.search(pattern, text, re.IGNORECASE))
    assert not found, "\n".join(map(str, found))
