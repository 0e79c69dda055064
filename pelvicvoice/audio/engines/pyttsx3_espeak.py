"""The espeak-ng edge: pyttsx3 driving the espeak-ng bundled by espeakng-loader (loaded only in workers)."""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import tempfile
import wave
from pathlib import Path

import numpy as np

from pelvicvoice.audio.engines.espeak import EspeakNg
from pelvicvoice.audio.samples import SILENCE_THRESHOLD
from pelvicvoice.errors import Location, SpeechError
from pelvicvoice.model import VoiceProfile

_TEXT_MODE_UTF8 = 1


class EspeakEngine:
    """Speak text to 16-bit mono samples with pyttsx3 and the bundled espeak-ng.

    espeak-ng initializes once per process and is not thread-safe: make one engine per
    process and call it from one thread.
    """

    name = "espeak-ng"

    def __init__(self) -> None:
        self._library, self._pyttsx3_engine = _start_pyttsx3()
        # A first, empty run settles pyttsx3's start-up commands; afterwards its commands
        # run at once instead of waiting in its queue.
        self._pyttsx3_engine.runAndWait()
        self.version = _check_pyttsx3_uses(self._library)
        self._voice_ids = {voice.id for voice in self._pyttsx3_engine.getProperty("voices")}
        self._workdir = tempfile.TemporaryDirectory(prefix="pelvicvoice-speech-")

    def voices(self) -> list[tuple[str, str, str]]:
        """List (id, name, language) of every installed voice."""
        return sorted(
            (voice.id, voice.name, (voice.languages or [""])[0]) for voice in self._pyttsx3_engine.getProperty("voices")
        )

    def synthesize(self, text: str, profile: VoiceProfile) -> np.ndarray:
        """Speak text with profile's voice; return int16 samples at EspeakNg.sample_rate (empty if lost)."""
        options = profile.options
        where = f"{profile.language!r} voice {options.voice!r}"
        if not text.strip():
            raise SpeechError.at(profile.location, f"cannot speak an empty phrase with {where}")
        if options.voice not in self._voice_ids:
            raise SpeechError.at(
                profile.location, f"voice {options.voice!r} is not installed; `pelvicvoice voices` lists the ids"
            )
        self._apply_settings(profile)
        engine = self._pyttsx3_engine
        target = Path(self._workdir.name) / "phrase.wav"
        target.unlink(missing_ok=True)
        # pyttsx3 prints "Audio saved to ..." and swallows callback errors: keep stdout clean
        # and judge success by the file alone.
        with contextlib.redirect_stdout(io.StringIO()):
            engine.save_to_file(text, str(target))
            engine.runAndWait()
        if not target.exists():
            return np.zeros(0, dtype=np.int16)
        with wave.open(str(target), "rb") as wav:
            if (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) != (1, 2, EspeakNg.sample_rate):
                raise SpeechError.at(profile.location, f"unexpected audio format from espeak-ng for {text!r}")
            return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.int16)

    def phonemes(self, text: str, profile: VoiceProfile) -> str:
        """Return espeak-ng's phonemes for text in profile's voice; `(xx)` marks a language switch."""
        self._apply_settings(profile)
        to_phonemes = self._library.espeak_TextToPhonemes
        to_phonemes.restype = ctypes.c_char_p
        to_phonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
        remaining = ctypes.pointer(ctypes.c_char_p(text.encode("utf-8")))
        clauses = []
        while remaining.contents.value:
            clause = to_phonemes(remaining, _TEXT_MODE_UTF8, 0)
            clauses.append(clause.decode("utf-8", errors="replace") if clause else "")
        return " | ".join(clauses)

    def _apply_settings(self, profile: VoiceProfile) -> None:
        """Set voice, rate and volume, and wait until espeak-ng really uses them.

        espeak-ng applies settings on its own thread, and pyttsx3 cancels that thread's
        queue when a run ends: a phrase started too early comes out at the default rate.
        """
        engine = self._pyttsx3_engine
        options = profile.options
        engine.setProperty("voice", options.voice)
        engine.setProperty("rate", options.rate)
        engine.setProperty("volume", options.volume)
        self._library.espeak_Synchronize()
        applied = (engine.getProperty("voice"), engine.getProperty("rate"))
        if applied != (options.voice, options.rate):
            raise SpeechError.at(
                profile.location, f"espeak-ng did not take voice {options.voice!r} at rate {options.rate}: {applied}"
            )


def _start_pyttsx3():
    """Load the bundled libespeak-ng before pyttsx3 looks for one by name, then start pyttsx3."""
    import espeakng_loader

    # pyttsx3 opens "libespeak-ng.so.1" by name; a library already loaded globally under that
    # soname wins, so the bundled 1.52 is used even where the system has its own espeak-ng.
    library = ctypes.CDLL(espeakng_loader.get_library_path(), mode=ctypes.RTLD_GLOBAL)
    os.environ["ESPEAK_DATA_PATH"] = espeakng_loader.get_data_path()
    import pyttsx3

    return library, pyttsx3.init("espeak")


def _check_pyttsx3_uses(library: ctypes.CDLL) -> str:
    """Return the espeak-ng version, after making sure pyttsx3 drives the bundled library."""
    from pyttsx3.drivers import _espeak

    if _espeak.dll._handle != library._handle:
        raise SpeechError.at(
            Location("espeak-ng"), "pyttsx3 loaded another espeak-ng than the bundled one; start a new process"
        )
    info = library.espeak_Info
    info.restype = ctypes.c_char_p
    info.argtypes = [ctypes.c_void_p]
    return info(None).decode()


_TRAILING_SILENCE_SAMPLES = round(0.05 * EspeakNg.sample_rate)


def speak_in_fresh_process(text: str, profile: VoiceProfile) -> np.ndarray | None:
    """Worker body: speak one phrase; None when pyttsx3 lost audio (empty or cut-off file).

    Every phrase is spoken by a fresh process: espeak-ng carries state from one utterance to
    the next (seeds and re-initializing do not reset it), so the same phrase would otherwise
    sound slightly different depending on what was said before it.
    """
    samples = EspeakEngine().synthesize(text, profile)
    # espeak-ng ends every utterance with a pause: a loud end means audio was dropped.
    complete = samples.any() and np.abs(samples[-_TRAILING_SILENCE_SAMPLES:].astype(np.int32)).max() < SILENCE_THRESHOLD
    return samples if complete else None
