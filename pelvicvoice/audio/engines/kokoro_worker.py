"""The Kokoro edge: load the model and a language's front end once per worker process, and speak."""

from __future__ import annotations

import logging
from functools import cache

import numpy as np

from pelvicvoice.audio.engines.kokoro import voice_data
from pelvicvoice.errors import SpeechError
from pelvicvoice.model import SAMPLE_RATE, VoiceProfile

KOKORO_RATE = 24000
_ESPEAK_LANGUAGES = {"ko": "ko", "nl": "nl", "nb": "nb", "nn": "nb"}
# espeak-ng phonemes that are not in Kokoro's vocabulary, which kokoro-onnx would drop without a
# word: each becomes the nearest one it has.
_PHONEME_FIXES = {
    "ko": (("tɕ", "ʨ"), ("dʑ", "ʥ"), ("ʑ", "ʥ"), ("ɫ", "l")),
    "nl": (("ɵ", "ø"),),
    "nb": (("ʉ", "y"),),
    "nn": (("ʉ", "y"),),
}
# pypinyin reads these words of the built-in texts wrongly (长 as zhǎng, 地 and 得 as dì and dé).
_MANDARIN_READINGS = {
    "长时间": [["cháng"], ["shí"], ["jiān"]],
    "最长": [["zuì"], ["cháng"]],
    "悄悄地": [["qiāo"], ["qiāo"], ["de"]],
    "温柔地": [["wēn"], ["róu"], ["de"]],
    "做得": [["zuò"], ["de"]],
}


@cache
def _loaded_model(model: str):
    """Load the model on one thread; once per worker process."""
    import onnxruntime
    from kokoro_onnx import Kokoro

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
    return Kokoro.from_session(session, str(voice_data("voices_ja.npz")))


@cache
def _front_end(language: str):
    """Return the text-to-phonemes function of a language; once per worker process."""
    if language == "zh":
        import jieba
        from misaki import zh
        from pypinyin import load_phrases_dict

        jieba.setLogLevel(logging.WARNING)  # else it prints "Building prefix dict ..." on stderr
        load_phrases_dict(_MANDARIN_READINGS)
        for word in _MANDARIN_READINGS:
            jieba.add_word(word)
        g2p = zh.ZHG2P()
    else:
        from misaki.espeak import EspeakG2P

        g2p = EspeakG2P(language=_ESPEAK_LANGUAGES[language])
    fixes = _PHONEME_FIXES.get(language, ())

    def phonemes(text: str) -> str:
        result, _ = g2p(text)
        for old, new in fixes:
            result = result.replace(old, new)
        return result

    return phonemes


def speak_with_kokoro(model: str, text: str, profile: VoiceProfile) -> np.ndarray:
    """Worker body: speak one phrase with the model file; return int16 samples at SAMPLE_RATE."""
    options = profile.options
    if not text.strip():
        raise SpeechError.at(profile.location, "cannot speak an empty phrase")
    try:
        kokoro = _loaded_model(model)
    except Exception as error:  # noqa: BLE001 - onnxruntime raises many kinds for a bad model
        raise SpeechError.at(profile.location, f"cannot load the kokoro model {model}: {error}") from None
    phonemes = _front_end(profile.language)(text)
    if not phonemes.strip():
        raise SpeechError.at(profile.location, f"kokoro found nothing to say in {text!r}")
    audio, rate = kokoro.create(phonemes, voice=options.voice, speed=options.speed, is_phonemes=True)
    if rate != KOKORO_RATE:
        raise SpeechError.at(profile.location, f"kokoro spoke at {rate} Hz, not {KOKORO_RATE} Hz")
    import soxr

    audio = soxr.resample(np.asarray(audio, dtype=np.float32) * options.volume, KOKORO_RATE, SAMPLE_RATE, quality="HQ")
    return (np.clip(audio, -1.0, 1.0) * 32767).round().astype(np.int16)
