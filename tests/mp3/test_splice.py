"""The spliced MP3 encoder against a full encode of the same timeline, on real sessions."""

from __future__ import annotations

import io

import numpy as np
import pytest

from pelvicvoice.audio.render import render_blocks
from pelvicvoice.audio.samples import speech_onsets
from pelvicvoice.build import expand_sessions, make_toolchain
from pelvicvoice.definitions.requests import make_requests
from pelvicvoice.model import FRAME_SAMPLES, SAMPLE_RATE
from pelvicvoice.mp3.ffmpeg import decode_to_samples, encode_frames, encode_mp3
from pelvicvoice.mp3.frames import (
    CrcJoiner,
    FrameRun,
    InfoTemplate,
    audio_frame_count,
    crc16,
    info_frame,
    split_frames,
)
from pelvicvoice.mp3.splice import chunk_encoder, speech_chunks, write_spliced
from pelvicvoice.settings import current_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sessions(library, built):
    requests = make_requests(library, ("kegel-basics", "intensive"), (), ())
    expanded = expand_sessions(requests, library, built["out"])
    with make_toolchain(library, built["cache"]) as toolchain:
        clips = toolchain.clips.clips_for([(session.script, session.profile) for session in expanded]).sessions
    return list(zip(expanded, clips, strict=True))


@pytest.fixture(scope="module")
def settings(library):
    return current_settings(library.engines)


def encoder_in(folder, settings):
    return chunk_encoder(folder, settings, workers=2)


@pytest.mark.parametrize("index", [0, 1], ids=["kegel-basics", "intensive"])
def test_spliced_and_full_encode_decode_to_the_same_audio(sessions, settings, index, tmp_path):
    session, clips = sessions[index]
    script = session.script
    spliced_path, full_path = tmp_path / "spliced.mp3", tmp_path / "full.mp3"
    with spliced_path.open("wb") as file:
        assert write_spliced(file, script, clips, encoder_in(tmp_path / "cache", settings))
    encode_mp3(render_blocks(script, clips), full_path)
    spliced = decode_to_samples(spliced_path).astype(np.float64)
    full = decode_to_samples(full_path).astype(np.float64)
    assert len(spliced) == script.total
    # ffmpeg caps the padding it declares at 1105 samples, so its own encode can run a few
    # silent samples long; the spliced header states the exact padding.
    assert 0 <= len(full) - script.total < FRAME_SAMPLES
    full = full[: script.total]
    lag = _best_lag(full, spliced)
    assert lag == 0
    snr = 10 * np.log10((full**2).sum() / ((full - spliced) ** 2).sum())
    assert snr >= 40, snr
    starts = [cue.start for cue in script.cues]
    window = round(0.04 * SAMPLE_RATE)
    for a, b in zip(speech_onsets(full, starts, window), speech_onsets(spliced, starts, window), strict=True):
        assert a is not None and b is not None and abs(a - b) <= SAMPLE_RATE // 1000


def _best_lag(a: np.ndarray, b: np.ndarray, span: int = 64) -> int:
    middle = slice(len(a) // 4, len(a) // 4 + SAMPLE_RATE * 20)
    scores = {lag: float(np.dot(a[middle], np.roll(b, lag)[middle])) for lag in range(-span, span + 1)}
    return max(scores, key=scores.get)


def test_second_splice_encodes_nothing(sessions, settings, tmp_path):
    session, clips = sessions[1]
    encoder = encoder_in(tmp_path / "cache", settings)
    first, second = io.BytesIO(), io.BytesIO()
    encoded = write_spliced(first, session.script, clips, encoder).encoded
    assert write_spliced(second, session.script, clips, encoder).encoded == 0
    assert first.getvalue() == second.getvalue()
    # every unique clip is encoded once: far fewer chunk encodes than cues
    assert encoded < len(session.script.cues) / 2


def test_mostly_speech_falls_back_to_a_full_encode(sessions, settings, tmp_path):
    session, clips = sessions[0]
    script = session.script
    cues = tuple(cue for cue in script.cues if cue.kind == "speech")
    dense = type(script)(**{**script.__dict__, "cues": cues, "total": cues[-1].end})
    dense = _squeezed(dense, clips)
    assert not write_spliced(io.BytesIO(), dense, clips, encoder_in(tmp_path / "cache", settings))


def _squeezed(script, clips):
    """Pack the cues one after another with just a frame between them."""
    cues, position = [], 0
    for cue in script.cues:
        length = -(-(len(clips[cue.clip]) + FRAME_SAMPLES) // FRAME_SAMPLES) * FRAME_SAMPLES
        cues.append(type(cue)(position, position + length, cue.text, cue.clip, cue.kind, cue.chapter, cue.origin))
        position += length
    return type(script)(**{**script.__dict__, "cues": tuple(cues), "total": position})


def test_chunks_cover_speech_with_guards_and_merge_when_they_touch(sessions):
    session, clips = sessions[1]
    lengths = {name: len(clip) for name, clip in clips.items()}
    chunks = speech_chunks(session.script, lengths)
    assert all(a.stop < b.first for a, b in zip(chunks, chunks[1:], strict=False))
    for cue in session.script.cues:
        first = (cue.start + 1105) // FRAME_SAMPLES
        last = (cue.start + lengths[cue.clip] + 1105) // FRAME_SAMPLES
        assert any(chunk.first < first and last < chunk.stop for chunk in chunks), cue


@pytest.mark.parametrize("samples", [220500, 22050 * 90 + 17, 22050 * 60 * 12 + 5])
def test_info_header_is_the_encoders_own(samples):
    """The Info frame we write equals the one ffmpeg writes for its own frames.

    These lengths need at most 1105 samples of padding, the most that ffmpeg declares.
    """
    noise = (np.random.default_rng(samples).standard_normal(samples) * 3000).astype(np.int16)
    frames = encode_frames(noise)
    template = InfoTemplate.from_frame(encode_frames(np.zeros(5000, np.int16))[0])
    assert len(frames) - 1 == audio_frame_count(samples)
    layout = [(FrameRun.of(frames[1:2]), 1), (FrameRun.of(frames[2:]), 1)]
    assert info_frame(template, layout, samples) == frames[0]


def test_joined_crcs_equal_the_crc_of_the_joined_bytes():
    rng = np.random.default_rng(7)
    sizes, repeats = rng.integers(0, 5000, 40).tolist(), rng.integers(1, 9, 40).tolist()
    blocks = [(rng.bytes(size), times) for size, times in zip(sizes, repeats, strict=True)]
    blocks += [(b"\xff" * 209, 100_000), (b"", 3), (rng.bytes(208), 1)]
    joiner, crc = CrcJoiner(), 0
    for block, times in blocks:
        crc = joiner.join(crc, crc16(block), len(block), times)
    assert crc == crc16(b"".join(block * times for block, times in blocks))
    assert crc16(b"123456789") == 0xBB3D  # the CRC-16/ARC check value
    assert split_frames(b"") == []


def test_spliced_session_decodes_to_its_exact_length_where_ffmpeg_would_not(sessions, settings, tmp_path):
    """A length just past a frame boundary needs more padding than ffmpeg declares (1116 > 1105)."""
    session, clips = sessions[0]
    first = session.script.cues[0]
    total = FRAME_SAMPLES * 300 + 36
    script = type(session.script)(**{**session.script.__dict__, "cues": (first,), "total": total})
    path = tmp_path / "exact.mp3"
    with path.open("wb") as file:
        assert write_spliced(file, script, clips, encoder_in(tmp_path / "cache", settings))
    assert len(decode_to_samples(path)) == total


def test_a_damaged_chunk_in_the_cache_is_encoded_again(sessions, settings, tmp_path):
    session, clips = sessions[0]
    encoder = encoder_in(tmp_path / "cache", settings)
    first = io.BytesIO()
    write_spliced(first, session.script, clips, encoder)
    entry = max((tmp_path / "cache" / "frames").rglob("*.mp3"), key=lambda path: path.stat().st_size)
    damaged = bytearray(entry.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # one flipped byte inside a frame: still parses as MP3
    entry.write_bytes(bytes(damaged))
    again = io.BytesIO()
    assert write_spliced(again, session.script, clips, encoder).encoded == 1
    assert again.getvalue() == first.getvalue()
