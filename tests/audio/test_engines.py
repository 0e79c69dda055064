"""The engine seam, proved by the tone engine: its own profiles, rate, estimate and long-lived workers."""

from __future__ import annotations

import contextlib
import os
import signal

import numpy as np
import pytest
from fake_engine import ToneEngine, load_tones, speak_tones, write_tone_profiles

from pelvicvoice.audio.samples import speech_onsets
from pelvicvoice.audio.workers import WorkerPool
from pelvicvoice.build import build_sessions, expand_sessions, make_toolchain
from pelvicvoice.definitions.library import Library
from pelvicvoice.definitions.requests import make_requests
from pelvicvoice.errors import DefinitionError, SpeechError
from pelvicvoice.listing import voice_rows
from pelvicvoice.model import SAMPLE_RATE
from pelvicvoice.mp3.ffmpeg import decode_to_samples

PROGRAMS = ("kegel-basics", "quick-squeezes")


@pytest.fixture()
def engine_log(tmp_path, monkeypatch):
    log = tmp_path / "engine.log"
    monkeypatch.setenv("FAKE_ENGINE_LOG", str(log))
    return log


def events(log, kind):
    lines = log.read_text().splitlines() if log.exists() else []
    return [line.split()[1] for line in lines if line.startswith(kind + " ")]


def test_each_worker_loads_its_engine_once_and_speaks_every_new_phrase_once(tone_library, tmp_path, engine_log):
    requests = make_requests(tone_library, PROGRAMS, ("en", "ko"), ())
    with make_toolchain(tone_library, tmp_path / "cache", jobs=2) as toolchain:
        report = build_sessions(requests, toolchain, tmp_path / "out")
    phrases = {
        (s.script.language, cue.text)
        for s in expand_sessions(requests, tone_library, tmp_path)
        for cue in s.script.cues
    }
    assert report.synthesized == len(phrases) == len(events(engine_log, "speak"))
    loads = events(engine_log, "load")
    assert 1 <= len(loads) <= 2 and len(set(loads)) == len(loads), "a model loads once per worker"
    assert set(events(engine_log, "speak")) <= set(loads), "phrases are spoken by the workers that loaded"
    assert len(report.written) == 4


def test_a_warm_build_starts_no_worker_and_writes_the_same_bytes(tone_library, tmp_path, engine_log):
    requests = make_requests(tone_library, PROGRAMS, ("en",), ())
    with make_toolchain(tone_library, tmp_path / "cache", jobs=1) as toolchain:
        first = build_sessions(requests, toolchain, tmp_path / "first")
    engine_log.unlink()
    with make_toolchain(tone_library, tmp_path / "cache", jobs=1) as toolchain:
        second = build_sessions(requests, toolchain, tmp_path / "second")
    assert not engine_log.exists()
    assert (second.synthesized, second.cached) == (0, first.synthesized)
    assert second.chunks.encoded == 0 and second.chunks.cached > 0
    for path in first.written:
        assert path.read_bytes() == (tmp_path / "second" / path.relative_to(tmp_path / "first")).read_bytes()


def test_two_builds_with_empty_caches_are_byte_identical(tone_library, tmp_path):
    requests = make_requests(tone_library, ("quick-squeezes",), ("nl",), ("reps=2",))
    built = []
    for name in ("a", "b"):
        with make_toolchain(tone_library, tmp_path / f"cache-{name}", jobs=1) as toolchain:
            built.append(build_sessions(requests, toolchain, tmp_path / name).written[0].read_bytes())
    assert built[0] == built[1]


def test_speech_at_the_engines_rate_is_resampled_and_every_cue_starts_on_time(tone_library, tmp_path):
    requests = make_requests(tone_library, ("kegel-basics",), ("en",), ())
    session = expand_sessions(requests, tone_library, tmp_path / "out")[0]
    with make_toolchain(tone_library, tmp_path / "cache", jobs=1) as toolchain:
        clips = toolchain.clips.clips_for([(session.script, session.profile)]).sessions[0]
        build_sessions(requests, toolchain, tmp_path / "out")
    relax = next(cue for cue in session.script.cues if cue.text == "And relax.")
    # 10 characters of 1/16.67 s each at 16 kHz, trimmed to the last tone plus 30 ms, at 22.05 kHz
    expected = (9 * 960 / ToneEngine.sample_rate + 0.03) * SAMPLE_RATE
    assert abs(len(clips[relax.clip]) - expected) < 0.01 * SAMPLE_RATE
    samples = decode_to_samples(session.target)
    assert len(samples) == session.script.total
    starts = [cue.start for cue in session.script.cues]
    onsets = speech_onsets(samples, starts, window=round(0.04 * SAMPLE_RATE))
    late = [(cue.text, onset) for cue, onset in zip(session.script.cues, onsets, strict=True)
            if onset is None or abs(onset - cue.start) > SAMPLE_RATE // 100]  # fmt: skip
    assert not late, late
    tone = samples[relax.start + 100 : relax.start + 100 + 512].astype(np.float64)
    peak_hz = np.argmax(np.abs(np.fft.rfft(tone * np.hanning(len(tone))))) * SAMPLE_RATE / len(tone)
    assert abs(peak_hz - 300) < 50, peak_hz


def test_each_engine_reads_its_own_profile_keys(tmp_path):
    voices = write_tone_profiles(tmp_path / "voices")
    (voices / "en.yaml").write_text("language: en\nengine: fake-tones\npitch: 300\nrate: 150\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as raised:
        Library.load(voice_dir=voices, engines={ToneEngine.name: ToneEngine()})
    assert "unknown key 'rate' in a voice profile; known keys: language, engine, pitch, speed" in str(raised.value)
    (voices / "en.yaml").write_text("language: en\nengine: espeak-ng\nvoice: gmw/en-us\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as raised:
        Library.load(voice_dir=voices, engines={ToneEngine.name: ToneEngine()})
    assert "engine 'espeak-ng' is unknown; use one of fake-tones" in str(raised.value)


def test_voices_are_listed_by_their_engine(tone_library):
    rows = voice_rows(tone_library, "en")
    assert ("fake-tones", "fake-tones 1", "1", "", "", "", "") in rows
    assert ("en", "fake-tones", "300 Hz", "16.6667", "1", "voice not installed", "by default") in rows
    assert ("en", "fake-tones", "tones", "", "", "Tones", "") in rows


def test_a_long_lived_worker_that_hangs_costs_one_phrase_and_is_replaced(tone_library, engine_log):
    profile = tone_library.voices["en"]
    pool = WorkerPool("fake-tones", speak_tones, 2, fresh_per_phrase=False, timeout=3.0, initializer=load_tones)
    try:
        hung, spoken = pool.synthesize_many([("(hang) Relax.", profile), ("Relax.", profile)])
        assert isinstance(hung, SpeechError) and "took more than 3 s" in str(hung)
        assert isinstance(spoken, np.ndarray) and spoken.size > 1000
        (again,) = pool.synthesize_many([("Relax.", profile)])
        assert np.array_equal(again, spoken)
    finally:
        pool.close()
    assert len(events(engine_log, "load")) > 2, "the hung pool was replaced by fresh workers"


@pytest.mark.parametrize("fresh", [False, True], ids=["long-lived", "fresh-per-phrase"])
def test_with_one_worker_a_hung_phrase_fails_alone(tone_library, engine_log, fresh):
    """The phrases behind a hung one are spoken by a fresh worker, not failed with it."""
    profile = tone_library.voices["en"]
    pool = WorkerPool("fake-tones", speak_tones, 1, fresh_per_phrase=fresh, timeout=3.0, initializer=load_tones)
    try:
        arrived = []
        results = pool.synthesize_many(
            [("(hang) Relax.", profile), ("Relax.", profile), ("Lift!", profile)],
            on_spoken=lambda index, samples: arrived.append((index, samples)),
        )
    finally:
        pool.close()
    assert isinstance(results[0], SpeechError) and "took more than 3 s" in str(results[0])
    assert all(isinstance(result, np.ndarray) and result.size > 1000 for result in results[1:]), results
    # Each phrase spoken is handed on once, as it arrives; the hung one never is.
    assert sorted(index for index, _ in arrived) == [1, 2]
    assert all(samples is results[index] for index, samples in arrived)


TEXTS = ["Relax.", "Lift!", "Squeeze.", "Let go.", "Breathe in.", "Breathe out."]


def test_a_long_lived_worker_killed_between_requests_is_replaced_and_the_next_is_spoken_whole(tone_library, engine_log):
    profile = tone_library.voices["en"]
    pool = WorkerPool("fake-tones", speak_tones, 2, fresh_per_phrase=False, timeout=30.0, initializer=load_tones)
    try:
        before = pool.synthesize_many([(text, profile) for text in TEXTS])
        # Killed from outside while idle (the OOM killer, an operator): the next request is spoken whole.
        for pid in {int(pid) for pid in events(engine_log, "load")}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        after = pool.synthesize_many([(text, profile) for text in TEXTS])
    finally:
        pool.close()
    assert all(isinstance(result, np.ndarray) for result in before + after), after
    assert all(np.array_equal(one, other) for one, other in zip(before, after, strict=True))
    assert len(set(events(engine_log, "load"))) > 2


@pytest.mark.parametrize("fresh", [False, True], ids=["long-lived", "fresh-per-phrase"])
def test_the_phrases_a_worker_dies_speaking_are_spoken_again(tone_library, engine_log, fresh):
    profile = tone_library.voices["en"]
    pool = WorkerPool("fake-tones", speak_tones, 2, fresh_per_phrase=fresh, timeout=30.0, initializer=load_tones)
    try:
        crashed, *spoken = pool.synthesize_many([(text, profile) for text in ["(crash once) Relax.", *TEXTS]])
        (again,) = pool.synthesize_many([("(crash once) Relax.", profile)])
    finally:
        pool.close()
    assert list(engine_log.parent.glob("engine.log.*")), "the worker did not die"
    assert all(isinstance(result, np.ndarray) for result in [crashed, *spoken]), [crashed, *spoken]
    assert np.array_equal(crashed, again)


@pytest.mark.parametrize("fresh", [False, True], ids=["long-lived", "fresh-per-phrase"])
@pytest.mark.parametrize("workers", [1, 2])
def test_a_phrase_that_crashes_its_worker_every_time_fails_alone(tone_library, engine_log, fresh, workers):
    profile = tone_library.voices["en"]
    pool = WorkerPool("fake-tones", speak_tones, workers, fresh_per_phrase=fresh, timeout=30.0, initializer=load_tones)
    try:
        results = pool.synthesize_many([("(crash) Lift!", profile), *[(text, profile) for text in TEXTS]])
        (again,) = pool.synthesize_many([(TEXTS[0], profile)])
    finally:
        pool.close()
    crashed, *spoken = results
    assert str(crashed).endswith(
        "fake-tones could not speak '(crash) Lift!' with 'en' fake-tones voice: "
        "its worker died each of the 3 times it spoke it alone"
    )
    # The phrases spoken beside it when it crashed are spoken again, not failed with it.
    assert all(isinstance(result, np.ndarray) and result.size > 1000 for result in spoken), spoken
    assert np.array_equal(spoken[0], again)


def test_an_engine_whose_workers_die_on_every_phrase_fails_them_all_in_bounded_time(tone_library, engine_log):
    profile = tone_library.voices["en"]
    pool = WorkerPool("fake-tones", speak_tones, 2, fresh_per_phrase=False, timeout=30.0, initializer=load_tones)
    try:
        results = pool.synthesize_many([(f"(crash) {text}", profile) for text in TEXTS * 5])
    finally:
        pool.close()
    assert len(results) == 30 and all(isinstance(result, SpeechError) for result in results)
    assert all(str(result).endswith("its workers died 9 times in a row, whatever they spoke") for result in results[2:])
    # 9 deaths, not 3 for each of 30 phrases: each pool starts at most 2 workers.
    assert len(set(events(engine_log, "load"))) <= 2 * 9
