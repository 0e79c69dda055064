"""Place every clip at its scheduled sample: speech never moves a later cue."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from pelvicvoice.audio.samples import samples_of
from pelvicvoice.model import Clip, Cue, CueScript, Tone

BLOCK_SAMPLES = 1 << 16  # streamed in blocks: memory does not grow with session length


def render_range(sounds: Sequence[Cue | Tone], clips: dict[str, Clip], total: int, start: int, stop: int) -> np.ndarray:
    """Return samples start..stop of a session of `total` samples; outside it is silence.

    Sounds that meet are added: speech never overlaps speech (build.overflow_problems), but a
    hold's start tone sounds under its first word.
    """
    block = np.zeros(stop - start, dtype=np.int32)
    for sound in sounds:
        clip = samples_of(clips[sound.clip])
        low = max(sound.start, start, 0)
        high = min(sound.start + len(clip), stop, total)
        if high > low:
            block[low - start : high - start] += clip[low - sound.start : high - sound.start]
    return np.clip(block, -32768, 32767).astype(np.int16)


def render_blocks(script: CueScript, clips: dict[str, Clip]) -> Iterator[bytes]:
    """Yield the session as s16le PCM blocks, each clip placed at its cue's start sample."""
    sounds = script.sounds
    first = 0
    for block_start in range(0, script.total, BLOCK_SAMPLES):
        block_end = min(script.total, block_start + BLOCK_SAMPLES)
        # A sound that ended before this block is skipped for good; the first one still sounding
        # stops the skipping, so a sound is never skipped while it may reach into the block.
        while first < len(sounds) and sounds[first].start + len(clips[sounds[first].clip]) <= block_start:
            first += 1
        last = first
        while last < len(sounds) and sounds[last].start < block_end:
            last += 1
        yield render_range(sounds[first:last], clips, script.total, block_start, block_end).astype("<i2").tobytes()
