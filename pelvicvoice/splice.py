"""Assemble a session's MP3 from encoded speech chunks and one encoded silence frame.

With CBR and the bit reservoir off, frames encoded separately can be joined wherever the
audio is silent: only the frames around speech are encoded (once per distinct chunk, then
cached), every other frame is the same silence frame, and the Info header is written for
the whole. The result decodes like an encode of the whole timeline (tested).
"""

from __future__ import annotations

import hashlib
import os
from bisect import bisect_left
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from pelvicvoice.ffmpeg import encode_frames, encoder_identity
from pelvicvoice.model import FRAME_SAMPLES, CueScript
from pelvicvoice.mp3frames import STREAM_OFFSET, FrameError, InfoTemplate, audio_frame_count, info_frame, split_frames
from pelvicvoice.render import render_range
from pelvicvoice.store import read_entry, write_entry

# Frames encoded before and after a chunk and thrown away: the encoder's run-up and run-out.
CONTEXT_FRAMES = 3
# Frames kept around speech, so that every join between chunks falls in silence.
GUARD_FRAMES = 2
# When speech fills more of the session than this, encoding the whole timeline is as fast.
MOSTLY_SPEECH = 0.8
_SILENCE_FRAMES = 24
_WRITE_FRAMES = 4096


@dataclass(frozen=True)
class Chunk:
    """Session frames first..stop-1, which carry speech and are encoded together."""

    first: int
    stop: int


def plan_chunks(script: CueScript, clip_lengths: dict[str, int]) -> list[Chunk]:
    """Find the frames that carry speech, with guards, merging chunks that touch."""
    frame_count = audio_frame_count(script.total)
    chunks: list[Chunk] = []
    for cue in sorted(script.cues, key=lambda cue: cue.start):
        end = cue.start + clip_lengths[cue.clip]
        first = max(0, (cue.start + STREAM_OFFSET) // FRAME_SAMPLES - GUARD_FRAMES)
        stop = min(frame_count, -(-(end + STREAM_OFFSET) // FRAME_SAMPLES) + GUARD_FRAMES)
        if chunks and first <= chunks[-1].stop:
            chunks[-1] = Chunk(chunks[-1].first, max(stop, chunks[-1].stop))
        else:
            chunks.append(Chunk(first, stop))
    return chunks


class ChunkRenderer:
    """Render the samples a chunk is encoded from, with its run-up and run-out."""

    def __init__(self, script: CueScript, clips: dict[str, np.ndarray]):
        self.script = script
        self.clips = clips
        self.cues = sorted(script.cues, key=lambda cue: cue.start)
        self.starts = [cue.start for cue in self.cues]
        self.longest = max((len(clip) for clip in clips.values()), default=0)

    def __call__(self, chunk: Chunk) -> np.ndarray:
        start = (chunk.first - CONTEXT_FRAMES) * FRAME_SAMPLES
        stop = (chunk.stop + CONTEXT_FRAMES) * FRAME_SAMPLES
        # Only cues that can reach into the range: a long session has thousands.
        nearby = self.cues[bisect_left(self.starts, start - self.longest) : bisect_left(self.starts, stop)]
        return render_range(nearby, self.clips, self.script.total, start, stop)


@dataclass
class SpliceStats:
    """How the chunks of a build were obtained."""

    encoded: int = 0
    cached: int = 0


@dataclass
class ChunkEncoder:
    """Encode chunks (in parallel) or take them from a content-addressed frame cache."""

    folder: Path
    identity: str  # the encoder and its settings: part of every cache key
    encode: Callable[[np.ndarray], list[bytes]]  # PCM -> MP3 frames, Info frame first
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    stats: SpliceStats = field(default_factory=SpliceStats)

    def silence(self) -> tuple[bytes, InfoTemplate]:
        """Return one encoded frame of silence and an Info frame to write headers from."""
        pcm = np.zeros(_SILENCE_FRAMES * FRAME_SAMPLES, np.int16)
        key = self.key(pcm)
        frames = self.frames([key], lambda _: pcm, keep=None)[key]
        return frames[len(frames) // 2], InfoTemplate.from_frame(frames[0])

    def frames(
        self, keys: list[str], render: Callable[[str], np.ndarray], keep: dict[str, int] | None
    ) -> dict[str, list[bytes]]:
        """Return frames for each key: from the cache, or rendered, encoded (in parallel) and cached.

        With keep, the run-up and run-out are removed and keep[key] frames remain.
        """
        found = {}
        for key in dict.fromkeys(keys):
            frames = self._load(key)
            # A damaged entry (cut at a frame boundary) would shift every later frame: re-encode it.
            if frames is not None and (keep is None or len(frames) == keep[key]):
                found[key] = frames
        missing = [key for key in dict.fromkeys(keys) if key not in found]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            encoded = list(pool.map(lambda key: self.encode(render(key)), missing))
        for key, frames in zip(missing, encoded, strict=True):
            if keep is not None:
                frames = frames[1:][CONTEXT_FRAMES : CONTEXT_FRAMES + keep[key]]
                if len(frames) != keep[key]:
                    raise FrameError(f"the encoder returned {len(frames)} frames, not {keep[key]}")
            self._store(key, frames)
            found[key] = frames
        self.stats.encoded += len(missing)
        self.stats.cached += len(found) - len(missing)
        return found

    def key(self, pcm: np.ndarray) -> str:
        """Return the cache key of a chunk's samples."""
        digest = hashlib.sha256(f"{self.identity}|{CONTEXT_FRAMES}|".encode())
        digest.update(pcm.astype("<i2").tobytes())
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.mp3"

    def _load(self, key: str) -> list[bytes] | None:
        payload = read_entry(self._path(key))
        try:
            return split_frames(payload) if payload is not None else None
        except FrameError:
            return None

    def _store(self, key: str, frames: list[bytes]) -> None:
        write_entry(self._path(key), b"".join(frames))


def write_spliced(file: BinaryIO, script: CueScript, clips: dict[str, np.ndarray], encoder: ChunkEncoder) -> bool:
    """Write the session as MP3 (Info frame first) and return True, or False where splicing gains nothing."""
    frame_count = audio_frame_count(script.total)
    chunks = plan_chunks(script, {name: len(clip) for name, clip in clips.items()})
    if sum(chunk.stop - chunk.first for chunk in chunks) > MOSTLY_SPEECH * frame_count:
        return False
    # Only keys are kept, and samples are rendered again for what must be encoded: a long
    # session holds little audio at once.
    render = ChunkRenderer(script, clips)
    keys = [encoder.key(render(chunk)) for chunk in chunks]
    chunk_of = dict(zip(keys, chunks, strict=True))
    lengths = {key: chunk.stop - chunk.first for key, chunk in chunk_of.items()}
    found = encoder.frames(keys, lambda key: render(chunk_of[key]), lengths)
    silence, template = encoder.silence()
    frames = [silence] * frame_count
    for chunk, key in zip(chunks, keys, strict=True):
        frames[chunk.first : chunk.stop] = found[key]
    file.write(info_frame(template, frames, script.total))
    for first in range(0, len(frames), _WRITE_FRAMES):
        file.write(b"".join(frames[first : first + _WRITE_FRAMES]))
    return True


def chunk_encoder(cache_dir: Path, workers: int | None = None) -> ChunkEncoder:
    """Make a chunk encoder for the bundled ffmpeg, caching frames under cache_dir/frames."""
    return ChunkEncoder(cache_dir / "frames", encoder_identity(), encode_frames, workers or os.cpu_count() or 1)
