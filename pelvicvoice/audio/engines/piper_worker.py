"""The Piper edge: load a voice model once per worker process and speak phrases with it."""

from __future__ import annotations

import json
from functools import cache

import numpy as np

from pelvicvoice.audio.engines.piper import config_file, model_file
from pelvicvoice.errors import SpeechError
from pelvicvoice.model import SAMPLE_RATE, VoiceProfile

# Piper speaks sentence by sentence; between two sentences of one phrase it leaves this pause,
# about what espeak-ng leaves at a full stop.
SENTENCE_PAUSE_SECONDS = 0.3


@cache
def _loaded_voice(model: str):
    """Load a model on one thread; once per worker process, which serves one build or service."""
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    path = model_file(model)
    options = onnxruntime.SessionOptions()
    # One thread per worker: the pool runs one worker per core, and a single thread adds its
    # floating-point sums in one fixed order.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    config = PiperConfig.from_dict(json.loads(config_file(path).read_text(encoding="utf-8")))
    session = onnxruntime.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(session=session, config=config)


def speak_with_piper(text: str, profile: VoiceProfile) -> np.ndarray:
    """Worker body: speak one phrase; return int16 samples at SAMPLE_RATE."""
    from piper import SynthesisConfig

    options = profile.options
    if not text.strip():
        raise SpeechError.at(profile.location, "cannot speak an empty phrase")
    try:
        voice = _loaded_voice(options.model)
    except Exception as error:  # noqa: BLE001 - onnxruntime and piper raise many kinds for a bad model
        raise SpeechError.at(profile.location, f"cannot load the piper model {options.model}: {error}") from None
    # Piper draws its noise inside the model from an unseeded generator: without noise the same
    # text gives the same samples every time, which byte-identical rebuilds need.
    config = SynthesisConfig(
        length_scale=1.0 / options.speed,
        noise_scale=0.0,
        noise_w_scale=0.0,
        normalize_audio=False,
        volume=options.volume,
    )
    pause = np.zeros(round(SENTENCE_PAUSE_SECONDS * voice.config.sample_rate), dtype=np.float32)
    sentences = [chunk.audio_float_array for chunk in voice.synthesize(text, config)]
    if not sentences:
        raise SpeechError.at(profile.location, f"piper found nothing to say in {text!r}")
    parts = [part for sentence in sentences for part in (pause, sentence)][1:]
    audio = np.concatenate(parts)
    if voice.config.sample_rate != SAMPLE_RATE:
        import soxr

        audio = soxr.resample(audio, voice.config.sample_rate, SAMPLE_RATE, quality="HQ")
    return (np.clip(audio, -1.0, 1.0) * 32767).round().astype(np.int16)
