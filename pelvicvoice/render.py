"""Place every clip at its scheduled sample: speech never moves a later cue."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from pelvicvoice.errors import Problem
from pelvicvoice.expand import MIN_GAP_SECONDS, to_samples
from pelvicvoice.model import CueScript

BLOCK_SAMPLES = 1 << 16  # streamed in blocks: memory does not grow with session length


def overflow_problems(script: CueScript, clips: dict[str, np.ndarray]) -> list[Problem]:
    """Report every cue whose clip, plus the minimum gap, does not end before the next cue."""
    gap = to_samples(MIN_GAP_SECONDS)
    rate = script.sample_rate
    problems = []
    for cue in script.cues:
        length = len(clips[cue.clip])
        slot = cue.end - cue.start
        if length + gap > slot:
            overflow_ms = round((length + gap - slot) * 1000 / rate)
            problems.append(
                Problem(
                    cue.origin,
                    f"{script.program_id} [{script.language}] at {cue.start / rate:.2f} s: {cue.text!r} takes "
                    f"{length / rate:.2f} s, {overflow_ms} ms more than its {slot / rate:.2f} s slot allows; "
                    "give the step more seconds, shorten the phrase or raise the voice rate",
                )
            )
    return problems


def render_blocks(script: CueScript, clips: dict[str, np.ndarray]) -> Iterator[bytes]:
    """Yield the session as s16le PCM blocks, each clip placed at its cue's start sample."""
    cues = sorted(script.cues, key=lambda cue: cue.start)
    next_cue = 0
    for block_start in range(0, script.total, BLOCK_SAMPLES):
        block_end = min(script.total, block_start + BLOCK_SAMPLES)
        block = np.zeros(block_end - block_start, dtype=np.int16)
        # Cues are sorted and never overlap (checked by overflow_problems), so a cue that
        # ended before this block can be skipped for good.
        while next_cue < len(cues) and cues[next_cue].start + len(clips[cues[next_cue].clip]) <= block_start:
            next_cue += 1
        index = next_cue
        while index < len(cues) and cues[index].start < block_end:
            cue = cues[index]
            clip = clips[cue.clip]
            low = max(cue.start, block_start)
            high = min(cue.start + len(clip), block_end)
            if high > low:
                block[low - block_start : high - block_start] = clip[low - cue.start : high - cue.start]
            index += 1
        yield block.astype("<i2").tobytes()
