"""Assemble a session's MP3 from encoded speech chunks and one encoded silence frame.

With CBR and the bit reservoir off, frames encoded separately can be joined wherever the
audio is silent: only the frames around speech are encoded (once per distinct chunk, then
cached), every other frame is the same silence frame, and the Info header is written for
the whole. The result decodes like an encode of the whole timeline (tested).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pelvicvoice.cache import read_entry, write_entry
from pelvicvoice.model import FRAME_SAMPLES, Clip, Cue, CueScript, Tone
from pelvicvoice.mp3.ffmpeg import encode_frames
from pelvicvoice.mp3.frames import (
    STREAM_OFFSET,
    FrameError,
    FrameRun,
    InfoTemplate,
    audio_frame_count,
    info_frame,
    split_frames,
)
from pelvicvoice.settings import BuildSettings

# Frames encoded before and after a chunk and thrown away: the encoder's run-up and run-out.
CONTEXT_FRAMES = 3
# Frames kept around speech, so that every join between chunks falls in silence.
GUARD_FRAMES = 2
# When speech fills more of the session than this, encoding the whole timeline is as fast.
MOSTLY_SPEECH = 0.8
_SILENCE_FRAMES = 24


@dataclass(frozen=True)
class Chunk:
    """Session frames first..stop-1, which carry speech and are encoded together."""

    first: int
    stop: int


def speech_chunks(script: CueScript, clip_lengths: dict[str, int]) -> list[Chunk]:
    """Find the frames that carry speech or tones, with guards, merging chunks that touch."""
    frame_count = audio_frame_count(script.total)
    chunks: list[Chunk] = []
    for sound in script.sounds:
        end = sound.start + clip_lengths[sound.clip]
        first = max(0, (sound.start + STREAM_OFFSET) // FRAME_SAMPLES - GUARD_FRAMES)
        stop = min(frame_count, -(-(end + STREAM_OFFSET) // FRAME_SAMPLES) + GUARD_FRAMES)
        if chunks and first <= chunks[-1].stop:
            chunks[-1] = Chunk(chunks[-1].first, max(stop, chunks[-1].stop))
        else:
            chunks.append(Chunk(first, stop))
    return chunks


class ChunkRenderer:
    """Render the s16le PCM a chunk is encoded from, with its run-up and run-out, or describe it."""

    def __init__(self, script: CueScript, clips: dict[str, Clip]):
        self.script = script
        self.clips = clips
        self.sounds = script.sounds
        self.starts = [sound.start for sound in self.sounds]
        self.longest = max((len(clip) for clip in clips.values()), default=0)
        self.digests = {
            name: hashlib.sha256(clips[name].pcm).hexdigest()
            for name in dict.fromkeys(sound.clip for sound in self.sounds)
        }

    def __call__(self, chunk: Chunk) -> bytes:
        from pelvicvoice.audio.render import render_range  # numpy: loaded only when a chunk must be encoded

        start, stop = _span(chunk)
        samples = render_range(self._nearby(start, stop), self.clips, self.script.total, start, stop)
        return samples.astype("<i2").tobytes()

    def placement(self, chunk: Chunk) -> list:
        """Describe everything the chunk's samples are made from: equal descriptions, equal samples."""
        start, stop = _span(chunk)
        # render_range writes only within the session, and adds every sound that reaches into it.
        low, high = max(start, 0), min(stop, self.script.total)
        placed = [
            [self.digests[sound.clip], sound.start - start]
            for sound in self._nearby(start, stop)
            if sound.start < high and sound.start + len(self.clips[sound.clip]) > low
        ]
        return [stop - start, low - start, high - start, placed]

    def _nearby(self, start: int, stop: int) -> tuple[Cue | Tone, ...]:
        # Only sounds that can reach into the range: a long session has thousands.
        return self.sounds[bisect_left(self.starts, start - self.longest) : bisect_left(self.starts, stop)]


def _span(chunk: Chunk) -> tuple[int, int]:
    """Return the samples a chunk is encoded from: its frames and the encoder's run-up and run-out."""
    return (chunk.first - CONTEXT_FRAMES) * FRAME_SAMPLES, (chunk.stop + CONTEXT_FRAMES) * FRAME_SAMPLES


@dataclass(frozen=True)
class ChunkCounts:
    """How many chunks a session encoded, and how many it took from the cache."""

    encoded: int = 0
    cached: int = 0

    def __add__(self, other: ChunkCounts) -> ChunkCounts:
        return ChunkCounts(self.encoded + other.encoded, self.cached + other.cached)


@dataclass(frozen=True)
class ChunkEncoder:
    """Encode chunks (in parallel) or take them from a content-addressed frame cache."""

    folder: Path
    settings: BuildSettings  # its encoder identity is part of every chunk key
    workers: int
    encode: Callable[[bytes], list[bytes]] = encode_frames  # s16le PCM -> MP3 frames, Info frame first

    def silence(self) -> tuple[FrameRun, InfoTemplate, ChunkCounts]:
        """Return one encoded frame of silence and an Info frame to write headers from."""
        key = self.key(["silence", _SILENCE_FRAMES])
        found, counts = self.runs([key], lambda _: bytes(2 * _SILENCE_FRAMES * FRAME_SAMPLES), keep=None)
        frames = split_frames(found[key].data)
        return FrameRun.of([frames[len(frames) // 2]]), InfoTemplate.from_frame(frames[0]), counts

    def runs(
        self, keys: list[str], render: Callable[[str], bytes], keep: dict[str, int] | None
    ) -> tuple[dict[str, FrameRun], ChunkCounts]:
        """Return the frames of each key: from the cache, or rendered, encoded (in parallel) and cached.

        With keep, the run-up and run-out are removed and keep[key] frames remain.
        """
        found = {}
        for key in dict.fromkeys(keys):
            run = self._load(key)
            # A damaged entry (cut at a frame boundary) would shift every later frame: re-encode it.
            if run is not None and (keep is None or len(run.sizes) == keep[key]):
                found[key] = run
        missing = [key for key in dict.fromkeys(keys) if key not in found]
        encoded = []
        if missing:
            # Imported here: a warm build encodes nothing, and start-up counts in its time.
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                encoded = list(pool.map(lambda key: self.encode(render(key)), missing))
        if keep is not None:
            encoded = [
                frames[1:][CONTEXT_FRAMES : CONTEXT_FRAMES + keep[key]]
                for key, frames in zip(missing, encoded, strict=True)
            ]
            for key, frames in zip(missing, encoded, strict=True):
                if len(frames) != keep[key]:
                    raise FrameError(f"the encoder returned {len(frames)} frames, not {keep[key]}")
        for key, run in zip(missing, map(FrameRun.of, encoded), strict=True):
            write_entry(self._path(key), run.crc.to_bytes(2, "big") + run.data)
            found[key] = run
        return found, ChunkCounts(len(missing), len(found) - len(missing))

    def key(self, description: list) -> str:
        """Return the cache key of a chunk described by what its samples are made from."""
        return self.settings.chunk_key([CONTEXT_FRAMES, description])

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.mp3"

    def _load(self, key: str) -> FrameRun | None:
        payload = read_entry(self._path(key))
        if payload is None or len(payload) < 2:
            return None
        try:
            sizes = tuple(len(frame) for frame in split_frames(payload[2:]))
        except FrameError:
            return None
        return FrameRun(payload[2:], sizes, int.from_bytes(payload[:2], "big"))


def write_spliced(
    file: BinaryIO, script: CueScript, clips: dict[str, Clip], encoder: ChunkEncoder
) -> ChunkCounts | None:
    """Write the session as MP3 (Info frame first) and count its chunks, or return None where splicing gains nothing."""
    frame_count = audio_frame_count(script.total)
    chunks = speech_chunks(script, {name: len(clip) for name, clip in clips.items()})
    if sum(chunk.stop - chunk.first for chunk in chunks) > MOSTLY_SPEECH * frame_count:
        return None
    # Chunks are keyed by what they are made of, so samples are rendered only for chunks that
    # must be encoded: a warm build renders nothing, and a long session holds little audio at once.
    render = ChunkRenderer(script, clips)
    keys = [encoder.key(render.placement(chunk)) for chunk in chunks]
    chunk_of = dict(zip(keys, chunks, strict=True))
    lengths = {key: chunk.stop - chunk.first for key, chunk in chunk_of.items()}
    found, counts = encoder.runs(keys, lambda key: render(chunk_of[key]), lengths)
    silence, template, silence_counts = encoder.silence()
    layout: list[tuple[FrameRun, int]] = []
    position = 0
    for chunk, key in zip(chunks, keys, strict=True):
        if chunk.first > position:
            layout.append((silence, chunk.first - position))
        layout.append((found[key], 1))
        position = chunk.stop
    if frame_count > position:
        layout.append((silence, frame_count - position))
    file.write(info_frame(template, layout, script.total))
    for run, times in layout:
        file.write(run.data * times)
    return counts + silence_counts


def chunk_encoder(cache_dir: Path, settings: BuildSettings, workers: int) -> ChunkEncoder:
    """Make a chunk encoder for the bundled ffmpeg, caching frames under cache_dir/frames."""
    return ChunkEncoder(cache_dir / "frames", settings, workers)
