"""End-to-end builds with real pyttsx3/espeak-ng and ffmpeg, checked on the decoded MP3."""

from __future__ import annotations

import subprocess
import sys
import wave
from dataclasses import replace
from importlib import metadata

import numpy as np
import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3, BitrateMode

from pelvicvoice.audio.samples import SILENCE_THRESHOLD, speech_onsets
from pelvicvoice.build import build_sessions, make_toolchain, session_script
from pelvicvoice.definitions.requests import make_requests
from pelvicvoice.installed import distribution_version
from pelvicvoice.model import SAMPLE_RATE
from pelvicvoice.mp3.ffmpeg import decode_to_samples
from pelvicvoice.mp3.frames import decoded_samples, split_frames
from pelvicvoice.mp3.tags import ChapterTag, SessionTags, id3_size, id3_tag

from conftest import run_cli, write

PROGRAMS = ("kegel-basics", "intensive")


@pytest.mark.slow
def test_build_prints_each_written_path(built):
    printed = built["stdout"].split()
    assert printed == [str(built["out"] / "en" / f"{program}.mp3") for program in PROGRAMS]


@pytest.mark.slow
@pytest.mark.parametrize("program", PROGRAMS)
def test_every_cue_starts_where_show_says(built, program):
    script = built["scripts"][program]
    samples = decode_to_samples(built["out"] / "en" / f"{program}.mp3")
    assert abs(len(samples) / SAMPLE_RATE - script["duration"]) <= 0.050
    expected = [round(cue["start"] * SAMPLE_RATE) for cue in script["cues"]]
    onsets = speech_onsets(samples, expected, window=round(0.040 * SAMPLE_RATE))
    deviations_ms = [
        None if onset is None else abs(onset - start) * 1000 / SAMPLE_RATE
        for onset, start in zip(onsets, expected, strict=True)
    ]
    late = [
        (cue["text"], cue["start"], dev)
        for cue, dev in zip(script["cues"], deviations_ms, strict=True)
        if dev is None or dev > 10
    ]
    assert not late, late
    # between cues the session is silent: speech never runs past its slot
    for cue in script["cues"]:
        gap = samples[round((cue["end"] - 0.022) * SAMPLE_RATE) : round((cue["end"] - 0.002) * SAMPLE_RATE)]
        assert np.abs(gap.astype(np.int32)).max(initial=0) < SILENCE_THRESHOLD, cue


@pytest.mark.slow
@pytest.mark.parametrize("program", PROGRAMS)
def test_id3_chapters_match_sections(built, program):
    script = built["scripts"][program]
    path = built["out"] / "en" / f"{program}.mp3"
    tags = ID3(path)
    assert tags.version[:2] == (2, 3)
    toc = tags.getall("CTOC")
    assert len(toc) == 1 and toc[0].flags & 0x03 == 0x03
    chapters = [tags[f"CHAP:{element}"] for element in toc[0].child_element_ids]
    assert [c.sub_frames["TIT2"].text[0] for c in chapters] == [c["title"] for c in script["chapters"]]
    assert [(c.start_time, c.end_time) for c in chapters] == [
        (round(c["start"] * 1000), round(c["end"] * 1000)) for c in script["chapters"]
    ]
    assert tags["TIT2"].text[0] == script["title"]
    assert (tags["TALB"].text[0], tags["TPE1"].text[0]) == ("pelvicvoice sessions", "pelvicvoice")
    assert tags["TLAN"].text[0] == "eng"
    comment = tags.getall("COMM")[0]
    assert (comment.lang, comment.desc) == ("eng", "")
    assert "Seed 00" in comment.text[0]
    assert id3_size(path.read_bytes()) == tags.size


def test_id3_tag_carries_any_script_and_many_chapters(tmp_path):
    chapters = tuple(
        ChapterTag(f"chp{index}", f"구간 {index} 一会儿 🌸", index * 1000, index * 1000 + 999) for index in range(200)
    )
    path = tmp_path / "tagged.mp3"
    path.write_bytes(id3_tag(SessionTags("골반저 운동", "앨범", "pelvicvoice", "kor", "설명", chapters)))
    tags = ID3(path)
    assert tags["TIT2"].text[0] == "골반저 운동"
    assert tags.getall("COMM")[0].lang == "kor"
    toc = tags.getall("CTOC")[0]
    assert toc.child_element_ids == [chapter.element_id for chapter in chapters]
    assert toc.sub_frames["TIT2"].text[0] == "골반저 운동"
    read = [tags[f"CHAP:{element}"] for element in toc.child_element_ids]
    assert [(c.sub_frames["TIT2"].text[0], c.start_time, c.end_time) for c in read] == [
        (chapter.title, chapter.start_ms, chapter.end_ms) for chapter in chapters
    ]
    assert id3_size(path.read_bytes()) == tags.size == path.stat().st_size


@pytest.mark.slow
@pytest.mark.parametrize("program", PROGRAMS)
def test_mp3_is_mono_cbr_with_info_header(built, program):
    path = built["out"] / "en" / f"{program}.mp3"
    info = MP3(path).info
    assert (info.channels, info.sample_rate) == (1, SAMPLE_RATE)
    assert info.bitrate_mode in (BitrateMode.CBR, BitrateMode.UNKNOWN)
    audio = path.read_bytes()[ID3(path).size :]
    headers = {frame[:4] for frame in split_frames(audio)}
    assert {(h[2] >> 4, h[3] >> 6) for h in headers} == {(8, 3)}, "every frame: 64 kbps (index 8), mono (3)"
    info = audio.find(b"Info", 0, 200)
    assert info > 0, "no Info header: players would guess the duration"
    # Info header: frame count, then (flags 15) byte count, TOC and quality, then the LAME
    # extension whose bytes 21-23 hold the encoder delay and padding for gapless playback.
    frames = int.from_bytes(audio[info + 8 : info + 12], "big")
    lame = info + 8 + 4 + 4 + 100 + 4
    delay_padding = audio[lame + 21 : lame + 24]
    delay = (delay_padding[0] << 4) | (delay_padding[1] >> 4)
    padding = ((delay_padding[1] & 0x0F) << 8) | delay_padding[2]
    expected_samples = round(built["scripts"][program]["duration"] * SAMPLE_RATE)
    assert frames * 576 - delay - padding == expected_samples


class _Unstartable:
    """An engine that is the real one until something asks it to speak."""

    def __init__(self, engine):
        self.engine = engine

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def speaker(self, workers, cache_dir):
        raise AssertionError(f"{self.engine.name} was started although every clip is cached")


@pytest.mark.slow
def test_second_build_synthesizes_nothing(built, library, tmp_path):
    library = replace(library, engines={name: _Unstartable(engine) for name, engine in library.engines.items()})
    requests = make_requests(library, PROGRAMS, (), ())
    with make_toolchain(library, built["cache"], jobs=1) as toolchain:
        report = build_sessions(requests, replace(toolchain, encoder=None), tmp_path)
    assert report.synthesized == 0
    assert report.cached > 20
    written = report.written
    assert [path.name for path in written] == [f"{program}.mp3" for program in PROGRAMS]
    # Without a chunk encoder the whole timeline is encoded; the tag in front is the same.
    for path in written:
        whole, spliced = path.read_bytes(), (built["out"] / "en" / path.name).read_bytes()
        assert whole[: id3_size(whole)] == spliced[: id3_size(spliced)]
        assert decoded_samples(whole[id3_size(whole) :]) == decoded_samples(spliced[id3_size(spliced) :])


@pytest.mark.slow
def test_first_build_synthesizes_each_unique_phrase_once(library, tmp_path):
    requests = make_requests(library, ("kegel-basics",), (), ("reps=4",))
    with make_toolchain(library, tmp_path / "cache") as toolchain:
        report = build_sessions(requests, toolchain, tmp_path / "out")
    script = session_script(requests[0], library)
    assert report.synthesized == len({cue.text for cue in script.cues})
    assert len(script.cues) > report.synthesized


@pytest.mark.slow
def test_a_damaged_clip_in_the_cache_is_made_again(built, library, tmp_path):
    cache = tmp_path / "cache"
    requests = make_requests(library, ("kegel-basics",), (), ())
    with make_toolchain(library, cache) as toolchain:
        first = build_sessions(requests, toolchain, tmp_path / "first")
    entries = sorted(cache.rglob("*.wav"))
    truncated, flipped = entries[0], entries[1]
    truncated.write_bytes(truncated.read_bytes()[:-100])
    damaged = bytearray(flipped.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    flipped.write_bytes(bytes(damaged))
    with make_toolchain(library, cache) as toolchain:
        again = build_sessions(requests, toolchain, tmp_path / "again")
    assert again.synthesized == 2
    assert again.cached == first.synthesized - 2
    assert (tmp_path / "again" / "en" / "kegel-basics.mp3").read_bytes() == (
        tmp_path / "first" / "en" / "kegel-basics.mp3"
    ).read_bytes()


@pytest.mark.slow
def test_same_input_gives_identical_mp3(built, tmp_path):
    result = run_cli("build", "kegel-basics", "-o", str(tmp_path / "out"), cache=tmp_path / "fresh-cache")
    assert result.returncode == 0, result.stderr
    rebuilt = (tmp_path / "out" / "en" / "kegel-basics.mp3").read_bytes()
    assert rebuilt == (built["out"] / "en" / "kegel-basics.mp3").read_bytes()


@pytest.mark.slow
def test_one_worker_and_several_write_the_same_files(built, tmp_path):
    result = run_cli("build", *PROGRAMS, "-j", "1", "-o", str(tmp_path), cache=built["cache"])
    assert result.returncode == 0, result.stderr
    for program in PROGRAMS:
        serial = (tmp_path / "en" / f"{program}.mp3").read_bytes()
        assert serial == (built["out"] / "en" / f"{program}.mp3").read_bytes()


@pytest.mark.slow
def test_recorded_clip_replaces_synthesis(tmp_path, built):
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(round(0.4 * SAMPLE_RATE)) / SAMPLE_RATE)).astype(np.int16)
    pack = tmp_path / "pack" / "en"
    pack.mkdir(parents=True)
    with wave.open(str(pack / "relax.wav"), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(tone.tobytes())
    out = tmp_path / "out"
    result = run_cli(
        "build", "kegel-basics", "-o", str(out), "--voice-pack", str(tmp_path / "pack"), cache=built["cache"]
    )
    assert result.returncode == 0, result.stderr
    samples = decode_to_samples(out / "en" / "kegel-basics.mp3").astype(np.float64)
    relax = [cue for cue in built["scripts"]["kegel-basics"]["cues"] if cue["text"] == "And relax."]
    assert len(relax) == 3
    for cue in relax:
        start = round(cue["start"] * SAMPLE_RATE)
        window = samples[start + 400 : start + 400 + 4096]
        spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
        peak_hz = np.argmax(spectrum) * SAMPLE_RATE / len(window)
        assert abs(peak_hz - 440) < 10, peak_hz
    # other cues are still spoken by espeak-ng
    original = decode_to_samples(built["out"] / "en" / "kegel-basics.mp3")
    first = slice(0, SAMPLE_RATE * 3)
    assert np.array_equal(samples[first].astype(np.int16), original[first])


@pytest.mark.slow
def test_speech_longer_than_its_slot_is_a_build_error(tmp_path):
    program = write(
        tmp_path / "tight.yaml",
        """\
id: tight
title: {en: Tight}
description: {en: A phrase that cannot fit.}
source: test
phrases:
  en:
    long: Lie flat on your back, slowly bend your knees, and breathe in and out calmly.
sections:
  - title: {en: Only}
    steps:
      - say: long
        seconds: 1
      - pause: 1
""",
    )
    out = tmp_path / "out"
    result = run_cli("build", str(program), "-o", str(out), cache=tmp_path / "cache")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {program}:11:9: tight [en] at 0.00 s: 'Lie flat")
    assert "ms more than its 2.00 s slot" in lines[0]  # the slot lasts until the next cue
    assert "Traceback" not in result.stderr
    assert not out.exists() or not any(out.rglob("*.mp3"))


def test_distribution_versions_are_those_importlib_metadata_finds():
    for name in ("imageio-ffmpeg", "espeakng-loader", "pyttsx3", "PyYAML", "numpy"):
        assert distribution_version(name) == metadata.version(name), name


@pytest.mark.slow
def test_warm_build_neither_loads_numpy_nor_starts_the_engine(built, tmp_path):
    """A warm build only reads clips and frames; numpy alone would be a third of its start-up."""
    driver = (
        "import sys; from pelvicvoice.cli import main\n"
        "try:\n    main()\n"
        "finally:\n    heavy = {'numpy', 'pyttsx3', 'pelvicvoice.audio.engines.pyttsx3_espeak'}\n"
        "    print(sorted(heavy & set(sys.modules)), file=sys.stderr)\n"
    )
    out = tmp_path / "out"
    command = [sys.executable, "-c", driver, "build", *PROGRAMS, "-o", str(out), "--cache-dir", str(built["cache"])]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "[]"
    for program in PROGRAMS:
        assert (out / "en" / f"{program}.mp3").read_bytes() == (built["out"] / "en" / f"{program}.mp3").read_bytes()
