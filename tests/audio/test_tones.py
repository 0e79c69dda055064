"""Hold tones in built sessions, found by their frequency in the decoded MP3."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from pelvicvoice.audio.tones import TONE_FADE_MS, TONE_HZ, TONE_PEAK_DBFS, tone_clip
from pelvicvoice.build import build_sessions, make_toolchain, session_script
from pelvicvoice.definitions.requests import make_requests
from pelvicvoice.errors import Location
from pelvicvoice.model import FRAME_SAMPLES, SAMPLE_RATE, TONE_FRAMES, Tone
from pelvicvoice.mp3.ffmpeg import decode_to_samples
from pelvicvoice.script.tones import TONE_SAMPLES

from conftest import REPO, run_cli

MS = SAMPLE_RATE / 1000
_AROUND = round(200 * MS)  # looked at on either side of a tone: far more than the band filter rings


def envelope(samples: np.ndarray, start: int, stop: int, frequency: float, bandwidth: float = 25.0) -> np.ndarray:
    """Return the amplitude near frequency of samples start..stop: a Gaussian band, as an analytic signal."""
    low = max(0, start - _AROUND)
    piece = samples[low : stop + _AROUND].astype(np.float64)
    frequencies = np.fft.fftfreq(len(piece), 1 / SAMPLE_RATE)
    band = np.exp(-0.5 * ((frequencies - frequency) / bandwidth) ** 2)  # positive frequencies only
    return 2 * np.abs(np.fft.ifft(np.fft.fft(piece) * band))[start - low : stop - low]


def build(library, tmp_path, program, tones):
    requests = [replace(request, tones=tones) for request in make_requests(library, (program,), (), ())]
    with make_toolchain(library, tmp_path / "cache", jobs=1) as toolchain:
        report = build_sessions(requests, toolchain, tmp_path / "out")
    return report, session_script(requests[0], library), decode_to_samples(report.written[0])


def tone_edges_ms(samples, tone) -> tuple[float, float]:
    """Return how far a tone's decoded start and end are from where its script says, in ms.

    The edges are where the tone's amplitude passes half its height: halfway through each fade.
    """
    margin = round(60 * MS)
    low = tone.start - margin
    around = envelope(samples, low, tone.start + TONE_SAMPLES + margin, TONE_HZ[tone.kind])
    loud = np.flatnonzero(around >= around.max() / 2)
    half_fade = TONE_FADE_MS * MS / 2
    start = low + loud[0] - half_fade
    end = low + loud[-1] + 1 + half_fade
    return (start - tone.start) / MS, (end - tone.start - TONE_SAMPLES) / MS


def test_a_tone_is_a_soft_sine_on_the_frame_grid():
    for kind, frequency in TONE_HZ.items():
        samples = np.frombuffer(tone_clip(kind).pcm, dtype="<i2")
        assert len(samples) == TONE_FRAMES * FRAME_SAMPLES
        assert abs(20 * np.log10(np.abs(samples).max() / 32767) - TONE_PEAK_DBFS) < 0.05
        spectrum = np.abs(np.fft.rfft(samples, 1 << 16))
        assert abs(np.argmax(spectrum) * SAMPLE_RATE / (1 << 16) - frequency) < 1
        assert abs(samples[0]) <= 1 and abs(samples[-1]) <= 1, "faded to silence at both ends"
        assert np.abs(samples[: round(TONE_FADE_MS * MS) // 4]).max() < np.abs(samples).max() / 3


def test_pydub_prints_no_warning_without_ffmpeg_on_path(tmp_path):
    """pydub warns at import when $PATH has no ffmpeg; the tones never need one."""
    code = "from pelvicvoice.audio.tones import tone_clip; tone_clip('start'); tone_clip('end')"
    env = dict(os.environ, PATH=str(tmp_path))  # an empty folder: no ffmpeg, no ffprobe
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize("program", ["kegel-basics", "intensive"])
def test_tones_sound_where_each_hold_starts_and_ends(tone_library, tmp_path, program):
    report, script, samples = build(tone_library, tmp_path, program, tones=True)
    assert len(script.tones) == 2 * sum(cue.kind == "hold" for cue in script.cues) > 0
    errors = [edge for tone in script.tones for edge in tone_edges_ms(samples, tone)]
    assert max(map(abs, errors)) <= 10, errors
    # with speech mixed in, a start tone is as loud as a tone alone
    for tone in script.tones:
        around = envelope(samples, tone.start, tone.start + TONE_SAMPLES, TONE_HZ[tone.kind])
        assert abs(20 * np.log10(around.max() / 32767) - TONE_PEAK_DBFS) < 1.0


@pytest.mark.parametrize("program", ["kegel-basics", "intensive"])
def test_without_tones_no_tone_is_heard_and_speech_is_unchanged(tone_library, tmp_path, program):
    _report, plain, without = build(tone_library, tmp_path / "plain", program, tones=False)
    _report, toned, with_tones = build(tone_library, tmp_path / "toned", program, tones=True)
    assert plain.cues == toned.cues and len(without) == len(with_tones)
    tone_peak = 32767 * 10 ** (TONE_PEAK_DBFS / 20)
    for tone in toned.tones:
        inside = envelope(
            without, tone.start + round(25 * MS), tone.start + TONE_SAMPLES - round(25 * MS), TONE_HZ[tone.kind]
        )
        # The tone engine's letters start abruptly and splatter a little into the band (-16 dB).
        assert inside.max() < tone_peak / 4
    # away from the tones, the two sessions decode to the same speech
    mask = np.ones(len(without), dtype=bool)
    for tone in toned.tones:
        mask[max(0, tone.start - 3 * FRAME_SAMPLES) : tone.start + TONE_SAMPLES + 3 * FRAME_SAMPLES] = False
    difference = np.abs(without[mask].astype(np.int32) - with_tones[mask].astype(np.int32))
    assert difference.max() <= 2, difference.max()


def test_a_warm_build_with_tones_makes_nothing_and_writes_the_same_file(tone_library, tmp_path):
    cold, script, _ = build(tone_library, tmp_path, "kegel-basics", tones=True)
    assert cold.synthesized == len({cue.text for cue in script.cues}) + 2  # every phrase, and the two tones
    first = cold.written[0].read_bytes()
    warm, _, _ = build(tone_library, tmp_path, "kegel-basics", tones=True)
    assert (warm.synthesized, warm.cached, warm.chunks.encoded) == (0, cold.synthesized, 0)
    assert warm.written[0].read_bytes() == first


@pytest.mark.slow
def test_a_warm_cli_build_with_tones_loads_neither_pydub_nor_numpy(built, tmp_path):
    """A warm build reads the tones from the cache like any clip: its start-up stays as short."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    shutil.copytree(built["cache"], cache)
    assert run_cli("build", "kegel-basics", "--tones", "-o", str(out), cache=cache).returncode == 0
    driver = (
        "import sys; from pelvicvoice.cli import main\n"
        "try:\n    main()\n"
        "finally:\n    print(sorted({'numpy', 'pydub'} & set(sys.modules)), file=sys.stderr)\n"
    )
    warm = tmp_path / "warm"
    command = [
        sys.executable,
        "-c",
        driver,
        "build",
        "kegel-basics",
        "--tones",
        "-o",
        str(warm),
        "--cache-dir",
        str(cache),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "[]"
    assert (warm / "en" / "kegel-basics.mp3").read_bytes() == (out / "en" / "kegel-basics.mp3").read_bytes()
    samples = decode_to_samples(out / "en" / "kegel-basics.mp3")
    script = built["scripts"]["kegel-basics"]
    holds = [round(cue["start"] * SAMPLE_RATE) for cue in script["cues"] if cue["kind"] == "hold"]
    errors = [tone_edges_ms(samples, Tone(start, "start", Location("")))[0] for start in holds]
    assert max(map(abs, errors)) <= 10, errors  # heard under espeak-ng's "Squeeze." too
