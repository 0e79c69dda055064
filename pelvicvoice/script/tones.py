"""Hold tones: a layer of the cue script of its own, heard but not spoken, on the frame grid like speech."""

from __future__ import annotations

from pelvicvoice.errors import Location
from pelvicvoice.model import FRAME_SAMPLES, TONE_FRAMES, Tone

TONE_SAMPLES = TONE_FRAMES * FRAME_SAMPLES


def hold_tones(holds: list[tuple[int, int, Location]]) -> tuple[Tone, ...]:
    """Place a tone that starts where each hold starts and one that ends where it ends.

    holds are (start, end, origin), already on the frame grid. The end tone ends on the frame
    where the next cue starts, so the hold is still heard to end exactly when it says. A hold
    too short for its two tones side by side gets only the first.
    """
    tones = []
    for start, end, origin in holds:
        tones.append(Tone(start, "start", origin))
        if end - TONE_SAMPLES >= start + TONE_SAMPLES:
            tones.append(Tone(end - TONE_SAMPLES, "end", origin))
    return tuple(tones)
