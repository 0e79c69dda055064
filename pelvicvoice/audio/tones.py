"""Make the hold tones with pydub: the one module that uses it.

pydub edits single clips well; the session timeline is not built with it, because every `+`
copies the whole session (see the README, "Where pydub is used").
"""

from __future__ import annotations

import warnings

from pelvicvoice.model import FRAME_SAMPLES, SAMPLE_RATE, TONE_FRAMES, Clip

# A higher tone where a hold starts and a lower one where it ends, an octave-free fifth apart
# so that the two are told apart without words.
TONE_HZ = {"start": 660.0, "end": 440.0}
# Soft beside the voice: a sine with this peak measures about -24.6 LUFS, 7 LU below the
# synthesized voice (-17.5 LUFS); at -18 dBFS it would be within about 1 LU of the voice.
TONE_PEAK_DBFS = -24.0
TONE_FADE_MS = 20  # no click at either end


def tone_clip(kind: str) -> Clip:
    """Make the tone of a hold's start or end: a sine with fades, exactly TONE_FRAMES frames long."""
    with warnings.catch_warnings():
        # pydub looks for ffmpeg on $PATH when it is imported and warns when there is none;
        # tones are generated in memory and never run it.
        warnings.filterwarnings("ignore", "Couldn't find ffmpeg or avconv", RuntimeWarning)
        warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
        from pydub.generators import Sine

    samples = TONE_FRAMES * FRAME_SAMPLES
    # Half a sample more, so that pydub's rounding down of duration * rate gives every sample.
    duration_ms = (samples + 0.5) * 1000 / SAMPLE_RATE
    tone = Sine(TONE_HZ[kind], sample_rate=SAMPLE_RATE, bit_depth=16).to_audio_segment(duration_ms, TONE_PEAK_DBFS)
    # pydub cuts and fades by the millisecond, and a fade-out would end short of the last
    # sample of a tone that is not a whole number of milliseconds long (pads it, too). So the
    # tone is faded in, cut back to its samples, and the same is done to it reversed.
    for _ in ("in", "out"):
        tone = tone.fade_in(TONE_FADE_MS).get_sample_slice(0, samples).reverse()
    assert len(tone.raw_data) == 2 * samples, "a tone that is not on the frame grid would not splice"
    return Clip(tone.raw_data)
