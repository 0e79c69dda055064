"""Recorded voice packs: files of any format made with ffmpeg, built into sessions and decoded back."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from fake_engine import ToneEngine

from pelvicvoice.audio.clips import ClipProvider
from pelvicvoice.audio.loudness import clip_loudness
from pelvicvoice.audio.samples import speech_onsets
from pelvicvoice.build import build_sessions, expand_sessions, make_toolchain, session_script
from pelvicvoice.definitions.requests import make_requests
from pelvicvoice.errors import SpeechError
from pelvicvoice.model import SAMPLE_RATE
from pelvicvoice.mp3.ffmpeg import decode_to_samples, ffmpeg_path
from pelvicvoice.settings import current_settings

from conftest import run_cli, write

MS = SAMPLE_RATE / 1000
TARGET = ToneEngine.speech_lufs
# clip name -> (tone in Hz, level in dBFS, ffmpeg output options): each as a recording tool might save it
RECORDINGS = {
    "relax.mp3": (440, -32, ["-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k"]),
    "squeeze_start.flac": (550, -3, ["-ar", "48000", "-ac", "1", "-c:a", "flac", "-sample_fmt", "s32"]),
    "count.3.wav": (330, -12, ["-ar", "16000", "-ac", "1", "-c:a", "pcm_u8"]),
    "count.2.m4a": (620, -20, ["-ar", "44100", "-ac", "2", "-c:a", "aac", "-b:a", "96k"]),
}
LEAD_SECONDS = 0.3  # silence before and after each recording, as a recording tool leaves it


def record(path: Path, frequency: float, level_db: float, options: list[str], seconds: float = 0.5) -> Path:
    """Make a recording with ffmpeg: a tone with silence around it, in the format the options choose."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tone = f"sine=frequency={frequency}:duration={seconds}:sample_rate=48000"  # its peak is 1/8: -18.06 dBFS
    shape = f"volume={level_db + 18.06:.2f}dB,adelay={LEAD_SECONDS * 1000:g}:all=1,apad=pad_dur={LEAD_SECONDS}"
    command = [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", tone, "-af", shape]
    subprocess.run([*command, *options, str(path)], check=True)
    return path


def peak_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)), 1 << 15))
    return np.argmax(spectrum) * SAMPLE_RATE / (1 << 15)


@pytest.fixture
def pack(tmp_path) -> Path:
    for name, (frequency, level, options) in RECORDINGS.items():
        record(tmp_path / "pack" / "en" / name, frequency, level, options)
    return tmp_path / "pack"


def build(library, tmp_path, pack, cache=None):
    requests = make_requests(library, ("kegel-basics",), (), ())
    with make_toolchain(library, cache or tmp_path / "cache", voice_pack=pack, jobs=1) as toolchain:
        report = build_sessions(requests, toolchain, tmp_path / "out")
    return report, session_script(requests[0], library)


def test_recordings_of_any_format_sit_where_their_cues_are_at_the_voices_level(tone_library, tmp_path, pack):
    report, script = build(tone_library, tmp_path, pack)
    assert report.recorded == len(RECORDINGS)
    samples = decode_to_samples(report.written[0]).astype(np.float64)
    levels = {}
    for name, (frequency, _level, _options) in RECORDINGS.items():
        cues = [cue for cue in script.cues if cue.clip == name.rsplit(".", 1)[0]]
        assert cues, name
        onsets = speech_onsets(samples.astype(np.int16), [cue.start for cue in cues], round(40 * MS))
        # the silence the recording began with is trimmed: it sounds at its cue
        errors_ms = [abs(onset - cue.start) / MS for onset, cue in zip(onsets, cues, strict=True)]
        assert max(errors_ms) <= 10, (name, errors_ms)
        for cue in cues:
            heard = samples[cue.start : cue.start + round(0.5 * SAMPLE_RATE)]
            assert abs(peak_hz(heard) - frequency) < 5, name
            levels.setdefault(name, []).append(clip_loudness(heard))
    # quiet (-32 dBFS) and loud (-3 dBFS) recordings alike are set to the synthesized voice's level
    assert all(abs(level - TARGET) < 0.5 for values in levels.values() for level in values), levels


def test_a_recording_is_known_by_its_content_not_its_name(tone_library, tmp_path, pack):
    build(tone_library, tmp_path, pack)

    def undecodable(path, longest_seconds):
        raise AssertionError(f"{path} was decoded again although it did not change")

    requests = make_requests(tone_library, ("kegel-basics",), (), ())
    with make_toolchain(tone_library, tmp_path / "cache", voice_pack=pack, jobs=1) as toolchain:
        toolchain.clips.decode = undecodable
        assert build_sessions(requests, toolchain, tmp_path / "again").recorded == len(RECORDINGS)
    record(pack / "en" / "relax.mp3", 880, -20, RECORDINGS["relax.mp3"][2])  # recorded again, differently
    report, script = build(tone_library, tmp_path, pack)
    relax = next(cue for cue in script.cues if cue.clip == "relax")
    samples = decode_to_samples(report.written[0]).astype(np.float64)
    assert abs(peak_hz(samples[relax.start : relax.start + SAMPLE_RATE // 2]) - 880) < 5


def provider_errors(library, tmp_path, pack) -> list[str]:
    script = session_script(make_requests(library, ("kegel-basics",), (), ())[0], library)
    provider = ClipProvider(tmp_path / "cache", current_settings(library.engines), library.engines, 1, pack)
    try:
        (found,) = provider.clips_for([(script, library.voices["en"])]).sessions
    finally:
        provider.close()
    assert isinstance(found, SpeechError)
    return [str(problem) for problem in found.problems]


def test_a_file_that_is_not_audio_empty_or_silent_is_an_error_naming_it(tone_library, tmp_path):
    folder = tmp_path / "pack" / "en"
    write(folder / "relax.wav", "these are not the samples you are looking for\n")
    (folder / "squeeze_start.mp3").write_bytes(b"")
    record(folder / "count.3.flac", 440, -90, ["-c:a", "flac"])
    silent, not_audio, empty = sorted(provider_errors(tone_library, tmp_path, tmp_path / "pack"))
    assert silent == f"{folder / 'count.3.flac'}: recorded clip is silent; record it again"
    assert not_audio.startswith(f"{folder / 'relax.wav'}: cannot decode audio: ")
    assert not_audio.endswith("; save it as one of .wav, .mp3, .ogg, .flac, .m4a")
    assert empty == f"{folder / 'squeeze_start.mp3'}: recorded clip is empty; record it again"


def wav_with_header(path: Path, rate: int, channels: int = 1, bits: int = 16, data_size: int | None = None) -> Path:
    """Write one second of a tone under a WAV header that says whatever it is given."""
    samples = (np.sin(np.arange(SAMPLE_RATE) * 2 * np.pi * 440 / SAMPLE_RATE) * 8000).astype("<i2").tobytes()
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, (rate * block) & 0xFFFFFFFF, block & 0xFFFF, bits)
    size = len(samples) if data_size is None else data_size
    body = b"WAVEfmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + samples
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF" + struct.pack("<I", min(len(body), 0xFFFFFFFF)) + body)
    return path


def test_a_recording_with_an_absurd_header_or_too_long_is_an_error_naming_it(tone_library, tmp_path):
    folder = tmp_path / "pack" / "en"
    # 24,000 samples at 1 Hz claim 6.7 hours: decoded whole, they took 22 GB and 108 s
    hours = wav_with_header(folder / "relax.wav", rate=1)
    no_rate = wav_with_header(folder / "squeeze_start.wav", rate=0)
    no_channels = wav_with_header(folder / "count.3.wav", rate=SAMPLE_RATE, channels=0)
    long = record(folder / "count.2.flac", 440, -20, ["-c:a", "flac"], seconds=61)
    huge = folder / "count.1.wav"
    with huge.open("wb") as file:
        file.truncate(100_000_001)  # sparse: it takes no room on the disk, only in a reader's memory
    problems = dict(problem.split(": ", 1) for problem in provider_errors(tone_library, tmp_path, tmp_path / "pack"))
    assert problems.pop(str(huge)) == "recorded clip is 100,000,001 bytes, more than 100,000,000; a clip is one phrase"
    assert problems.pop(str(hours)) == "recorded clip lasts more than 60 s; a clip is one phrase"
    assert problems.pop(str(long)) == "recorded clip lasts more than 60 s; a clip is one phrase"
    for bad in (no_rate, no_channels):
        assert problems.pop(str(bad)).startswith("cannot decode audio: ")
    assert problems == {}


def test_a_header_that_claims_more_data_than_the_file_has_plays_what_it_has(tone_library, tmp_path):
    pack = tmp_path / "pack"
    wav_with_header(pack / "en" / "relax.wav", rate=SAMPLE_RATE, data_size=0xFFFFFFFF)
    report, script = build(tone_library, tmp_path, pack)
    relax = next(cue for cue in script.cues if cue.clip == "relax")
    samples = decode_to_samples(report.written[0]).astype(np.float64)
    assert report.recorded == 1
    assert abs(peak_hz(samples[relax.start : relax.start + SAMPLE_RATE // 2]) - 440) < 5


def test_a_link_out_of_the_pack_and_a_clip_recorded_twice_are_errors(tone_library, tmp_path):
    folder = tmp_path / "pack" / "en"
    outside = record(tmp_path / "elsewhere" / "tone.wav", 440, -20, [])
    folder.mkdir(parents=True)
    (folder / "relax.wav").symlink_to(outside)
    record(folder / "squeeze_start.wav", 440, -20, [])
    record(folder / "squeeze_start.ogg", 440, -20, ["-c:a", "flac", "-f", "ogg"])
    problems = provider_errors(tone_library, tmp_path, tmp_path / "pack")
    assert sorted(problems) == [
        f"{folder / 'relax.wav'}: links outside the voice pack, to {outside}; copy the recording into the pack",
        f"{folder / 'squeeze_start.ogg'}: 'squeeze_start' is recorded twice, as squeeze_start.ogg and "
        "squeeze_start.wav; keep one of them",
    ]


def test_the_cli_prints_one_line_naming_the_file_and_writes_the_other_sessions(tmp_path):
    program = write(
        tmp_path / "recorded.yaml",
        """\
id: recorded
title: {en: Recorded, nl: Opgenomen}
description: {en: Every phrase is recorded., nl: Elke zin is opgenomen.}
source: test
sections:
  - title: {en: One, nl: Een}
    steps:
      - rest: 2
        say: relax
""",
    )
    good = record(tmp_path / "pack" / "nl" / "relax.ogg", 440, -20, ["-c:a", "flac", "-f", "ogg"])
    bad = write(tmp_path / "pack" / "en" / "relax.wav", "not audio\n")
    result = run_cli(
        "build", str(program), "--lang", "all", "--voice-pack", str(tmp_path / "pack"), "-o", str(tmp_path / "out"),
        cache=tmp_path / "cache",
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout.split() == [str(tmp_path / "out" / "nl" / "recorded.mp3")], good
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {bad}: cannot decode audio: ") and "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_recorded_clip_is_as_loud_as_the_voice_around_it(library, built, tmp_path):
    cache = tmp_path / "cache"
    shutil.copytree(built["cache"], cache)
    pack = tmp_path / "pack"
    record(pack / "en" / "relax.mp3", *RECORDINGS["relax.mp3"])
    requests = make_requests(library, ("kegel-basics",), (), ())
    (session,) = expand_sessions(requests, library, tmp_path / "out")
    with make_toolchain(library, cache, voice_pack=pack) as toolchain:
        build_sessions(requests, toolchain, tmp_path / "out")
        (clips,) = toolchain.clips.clips_for([(session.script, session.profile)]).sessions
    samples = decode_to_samples(session.target).astype(np.float64)
    first = {cue.clip: cue for cue in reversed(session.script.cues)}
    levels = {name: clip_loudness(samples[cue.start : cue.start + len(clips[name])]) for name, cue in first.items()}
    recorded = levels.pop("relax")
    spoken = np.median([level for name, level in levels.items() if len(clips[name]) >= 0.4 * SAMPLE_RATE])
    assert abs(recorded - library.engines[session.profile.engine].speech_lufs) < 0.5
    assert abs(recorded - spoken) < 1.5, (recorded, spoken)
