"""Pure sample operations on int16 mono clips."""

from __future__ import annotations

import numpy as np

from pelvicvoice.model import SAMPLE_RATE, Clip

# -40 dBFS: below it a sample counts as silence when trimming and finding speech onsets.
SILENCE_THRESHOLD = 328
_TAIL_SAMPLES = round(0.03 * SAMPLE_RATE)  # keep the decay of the last sound
_FADE_IN_SAMPLES = round(0.001 * SAMPLE_RATE)
_FADE_OUT_SAMPLES = round(0.01 * SAMPLE_RATE)


def clip_of(samples: np.ndarray) -> Clip:
    """Wrap int16 samples as a clip."""
    return Clip(samples.astype("<i2").tobytes())


def samples_of(clip: Clip) -> np.ndarray:
    """View a clip's samples as a (read-only) int16 array."""
    return np.frombuffer(clip.pcm, dtype="<i2")


def trimmed_clip(samples: np.ndarray) -> Clip:
    """Trim speech or a recording (see trim_silence) into a clip."""
    return clip_of(trim_silence(samples))


def trim_silence(samples: np.ndarray) -> np.ndarray:
    """Cut leading silence (speech starts at sample 0) and trailing silence, with short fades."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_THRESHOLD)
    if loud.size == 0:
        return np.zeros(0, dtype=np.int16)
    start = int(loud[0])
    stop = min(len(samples), int(loud[-1]) + 1 + _TAIL_SAMPLES)
    clip = samples[start:stop].astype(np.float32)
    fade_in = min(_FADE_IN_SAMPLES, len(clip))
    clip[:fade_in] *= np.linspace(0.5, 1.0, fade_in, dtype=np.float32)
    fade_out = min(_FADE_OUT_SAMPLES, len(clip))
    clip[len(clip) - fade_out :] *= np.linspace(1.0, 0.0, fade_out, dtype=np.float32)
    return np.clip(np.round(clip), -32768, 32767).astype(np.int16)


def speech_onsets(samples: np.ndarray, expected: list[int], window: int) -> list[int | None]:
    """Find, near each expected sample, the first sample above the silence threshold."""
    onsets: list[int | None] = []
    for position in expected:
        low = max(0, position - window)
        loud = np.flatnonzero(np.abs(samples[low : position + window].astype(np.int32)) > SILENCE_THRESHOLD)
        onsets.append(low + int(loud[0]) if loud.size else None)
    return onsets
