"""Faults: interrupted builds, builds sharing a cache, and whatever a definition may hold."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pelvicvoice.audio.engines.espeak import EspeakNg
from pelvicvoice.audio.engines.pyttsx3_espeak import speak_in_fresh_process
from pelvicvoice.audio.workers import WorkerPool
from pelvicvoice.build import build_sessions, check_timing, make_toolchain
from pelvicvoice.definitions.program import read_program
from pelvicvoice.definitions.requests import make_requests
from pelvicvoice.definitions.source import parse_document
from pelvicvoice.definitions.voices import VoiceChoice
from pelvicvoice.errors import DefinitionError, SpeechError

from conftest import run_cli


@pytest.mark.slow
def test_killed_build_leaves_no_partial_file_and_the_next_build_completes(tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    env = dict(os.environ, PELVICVOICE_CACHE=str(cache))
    programs = ["kegel-basics", "intensive", "maintenance", "posture-and-relaxation"]
    # espeak-ng speaks every language fast enough to kill the build between two sessions.
    command = [sys.executable, "-m", "pelvicvoice", "build", *programs, "--lang", "all", "-o", str(out), "-j", "1"]
    command += ["--engine", "espeak-ng"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    # Kill it once the first session is written: the next ones are then being made.
    first_line = process.stdout.readline()
    assert first_line.strip().endswith(".mp3"), first_line
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = [path for path in out.rglob("*.mp3")]
    assert finished, "the first session was written before the kill"
    assert len(finished) < 24, "killed before the end"
    for path in finished:
        result = run_cli("show", path.stem, "--lang", path.parent.name, "--format", "json")
        assert result.returncode == 0
        assert path.stat().st_size > 10_000
    rerun = subprocess.run(command, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert len(rerun.stdout.split()) == 24
    assert not list(out.rglob("*.part")), "temporary files are cleaned or renamed"


@pytest.mark.slow
def test_two_builds_sharing_a_cache_at_once_are_safe(tmp_path):
    cache = tmp_path / "cache"
    env = dict(os.environ, PELVICVOICE_CACHE=str(cache))
    commands = [
        [
            sys.executable,
            "-m",
            "pelvicvoice",
            "build",
            "kegel-basics",
            "quick-squeezes",
            "--lang",
            "all",
            "--engine",
            "espeak-ng",
            "-o",
            str(tmp_path / name),
        ]
        for name in ("a", "b")
    ]
    processes = [
        subprocess.Popen(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands
    ]
    results = [process.communicate(timeout=600) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], results
    first = sorted((tmp_path / "a").rglob("*.mp3"))
    assert len(first) == 12
    for path in first:
        assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes()
    assert not list(cache.rglob("*.part"))


yaml_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5000), st.floats(allow_nan=True), st.text(max_size=12)
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "title",
                    "description",
                    "source",
                    "sections",
                    "steps",
                    "say",
                    "hold",
                    "rest",
                    "repeat",
                    "quick",
                    "pause",
                    "count",
                    "as",
                    "between",
                    "parameters",
                    "phrases",
                    "levels",
                    "en",
                    "default",
                    "seconds",
                    "interval",
                    "notes",
                    "min",
                    "max",
                ]
            ),  # fmt: skip
            children,
            max_size=5,
        ),
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=yaml_values)
def test_any_definition_loads_or_raises_a_definition_error(library, document):
    """Whatever a program file holds, loading gives a program or the project's error, never a crash."""
    text = yaml.safe_dump(document, allow_unicode=True)
    try:
        parsed = parse_document(text, "generated.yaml")
        program, problems = read_program(parsed)
        if problems:
            raise DefinitionError(problems)
        library.language_problems(program)
        check_timing(library, program)
    except DefinitionError as error:
        assert error.problems
        assert all(problem.location.file == "generated.yaml" for problem in error.problems)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_parses_or_raises_a_definition_error(text):
    try:
        parse_document(text, "text.yaml")
    except DefinitionError as error:
        assert str(error).startswith("text.yaml")


@pytest.mark.slow
def test_a_phrase_that_takes_too_long_is_an_error_naming_it_and_the_others_are_spoken(library):
    profile = library.profiles[("en", "espeak-ng")]
    slow = "Breathe in, and breathe out slowly. " * 400
    speaker = WorkerPool(
        "espeak-ng", speak_in_fresh_process, 2, fresh_per_phrase=True, timeout=1.0, voice_of=lambda o: o.voice
    )
    results = speaker.synthesize_many([(slow, profile), ("Relax.", profile)])
    assert isinstance(results[0], SpeechError)
    message = str(results[0])
    assert message.startswith("voices/en.espeak-ng.yaml:")
    assert "'en' voice 'gmw/en-us' took more than 1 s" in message and "Breathe in" in message
    assert isinstance(results[1], np.ndarray) and results[1].size > 10_000


class _FailingLift(EspeakNg):
    """The real engine, except that any phrase with 'Lift' fails as a broken engine would."""

    def speaker(self, workers, cache_dir):
        return _FailingLiftSpeaker(super().speaker(workers, cache_dir))


class _FailingLiftSpeaker:
    def __init__(self, speaker):
        self.speaker = speaker

    def close(self):
        self.speaker.close()

    def synthesize_many(self, items, on_spoken=None):  # never calls on_spoken: the clips are kept after
        spoken = self.speaker.synthesize_many([item for item in items if "Lift" not in item[0]])
        results = []
        for text, profile in items:
            if "Lift" in text:
                results.append(SpeechError.at(profile.location, f"speaking {text!r} failed: engine crashed"))
            else:
                results.append(spoken.pop(0))
        return results


@pytest.mark.slow
def test_a_failing_phrase_fails_only_its_session(library, tmp_path):
    library = replace(library, engines={**library.engines, "espeak-ng": _FailingLift()})
    requests = make_requests(library, ("kegel-basics", "intensive"), (), ())
    written = []
    espeak = VoiceChoice(engine="espeak-ng")
    with pytest.raises(SpeechError) as raised, make_toolchain(library, tmp_path / "cache") as toolchain:
        build_sessions(requests, toolchain, tmp_path / "out", espeak, on_written=written.append)
    assert [path.name for path in written] == ["kegel-basics.mp3"]
    assert (tmp_path / "out" / "en" / "kegel-basics.mp3").exists()
    assert not (tmp_path / "out" / "en" / "intensive.mp3").exists()
    assert [str(problem) for problem in raised.value.problems] == [
        "voices/en.espeak-ng.yaml:2:1: speaking 'Lift!' failed: engine crashed"
    ]


@pytest.mark.slow
def test_running_out_of_room_is_one_clear_line_and_leaves_no_file(built, tmp_path):
    """A file-size limit makes writes fail as a full disk does (no root needed to set it)."""

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    env = dict(os.environ, PELVICVOICE_CACHE=str(built["cache"]))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "pelvicvoice", "build", "kegel-basics", "-o", str(out)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, preexec_fn=limit_file_size)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {out / 'en' / 'kegel-basics.mp3'}: the file is larger than")
    assert len(result.stderr.splitlines()) == 1
    assert not list(out.rglob("*.mp3")) and not list(out.rglob("*.part"))
