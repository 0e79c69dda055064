"""Place every clip at its scheduled sample: speech never moves a later cue."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from pelvicvoice.audio.samples import samples_of
from pelvicvoice.model import Clip, Cue, CueScript

BLOCK_SAMPLES = 1 << 16  # streamed in blocks: memory does not grow with session length


def render_range(cues: Sequence[Cue], clips: dict[str, Clip], total: int, start: int, stop: int) -> np.ndarray:
    """Return samples start..stop of a session of `total` samples; outside it is silence."""
    block = np.zeros(stop - start, dtype=np.int16)
    for cue in cues:
        clip = samples_of(clips[cue.clip])
        low = max(cue.start, start, 0)
        high = min(cue.start + len(clip), stop, total)
        if high > low:
            block[low - start : high - start] = clip[low - cue.start : high - cue.start]
    return block


def render_blocks(script: CueScript, clips: dict[str, Clip]) -> Iterator[bytes]:
    """Yield the session as s16le PCM blocks, each clip placed at its cue's start sample."""
    cues = sorted(script.cues, key=lambda cue: cue.start)
    first = 0
    for block_start in range(0, script.total, BLOCK_SAMPLES):
        block_end = min(script.total, block_start + BLOCK_SAMPLES)
        # Cues are sorted and never overlap (checked by build.overflow_problems), so a cue that
        # ended before this block can be skipped for good.
        while first < len(cues) and cues[first].start + len(clips[cues[first].clip]) <= block_start:
            first += 1
        last = first
        while last < len(cues) and cues[last].start < block_end:
            last += 1
        yield render_range(cues[first:last], clips, script.total, block_start, block_end).astype("<i2").tobytes()
