"""espeak-ng through pyttsx3: its voice profile schema, identity, speech estimate and worker policy.

Light on purpose: this module is imported by every build, including warm builds that speak
nothing, so pyttsx3, espeak-ng and numpy load only in the workers (pyttsx3_espeak.py).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from pelvicvoice.audio.engines.settings import read_volume
from pelvicvoice.definitions.schema import expect_number, expect_text
from pelvicvoice.definitions.source import ProblemList
from pelvicvoice.errors import DefinitionError, Location
from pelvicvoice.installed import distribution_version

MIN_RATE, MAX_RATE = 80, 450


@dataclass(frozen=True)
class EspeakVoice:
    """An espeak-ng voice id, its rate in words per minute, and its volume."""

    voice: str
    rate: int
    volume: float


# Speech-length estimate at REFERENCE_RATE words per minute, fitted on the clips of the built-in
# programs (espeak-ng 1.52, all six languages) and padded by ESTIMATE_MARGIN: real speech took
# 0.71-0.79 of the estimate (median) and at most 0.92 of it.
REFERENCE_RATE = 160
ESTIMATE_MARGIN = 1.15
_LETTER_SECONDS = {"nl": 0.052, "nb": 0.055, "nn": 0.055, "no": 0.055}
_DEFAULT_LETTER_SECONDS = 0.05
_DIGIT_SECONDS = {"ko": 0.32}  # Korean numbers are long: 12 is "sibi", 8 is "pal"
_DEFAULT_DIGIT_SECONDS = 0.2
_HAN_SECONDS = 0.28
_HANGUL_SECONDS = 0.18
_SPACE_SECONDS = 0.1
_COMMA_SECONDS = 0.35  # espeak-ng pauses at commas
_STOP_SECONDS = 0.22
_UTTERANCE_SECONDS = 0.15
_SHORTEST_SECONDS = 0.6


def estimate_speech_seconds(text: str, language: str, rate: int) -> float:
    """Estimate, generously, how long a voice at `rate` words/min takes to say text."""
    letter = _LETTER_SECONDS.get(language, _DEFAULT_LETTER_SECONDS)
    digit = _DIGIT_SECONDS.get(language, _DEFAULT_DIGIT_SECONDS)
    seconds = _UTTERANCE_SECONDS
    for char in text:
        if char.isdigit():
            seconds += digit
        elif "\uac00" <= char <= "\ud7a3":
            seconds += _HANGUL_SECONDS
        elif unicodedata.category(char) == "Lo":
            seconds += _HAN_SECONDS
        elif char.isalpha():
            seconds += letter
        elif char.isspace():
            seconds += _SPACE_SECONDS
        elif char in ",;:、，；：—–":
            seconds += _COMMA_SECONDS
        elif char in ".!?。！？…":
            seconds += _STOP_SECONDS
    return max(_SHORTEST_SECONDS, seconds * (REFERENCE_RATE / rate) * ESTIMATE_MARGIN)


class EspeakNg:
    """The bundled espeak-ng, driven by pyttsx3; every phrase spoken by a fresh process."""

    name = "espeak-ng"
    sample_rate = 22050  # what pyttsx3 writes for espeak-ng
    profile_keys = (("voice",), ("rate", "volume"))
    speech_lufs = -17.2  # measured: 311 clips of three programs in five languages; 10th-90th percentile -18.5 to -15.2

    def read_options(self, problems: ProblemList, data: dict[str, Any], folder: Path) -> EspeakVoice:
        """Read the profile's voice, rate and volume, reporting every bad value."""
        voice = expect_text(problems, ("voice",), data.get("voice"), "voice") if "voice" in data else None
        rate = expect_number(problems, ("rate",), data.get("rate", 175), "rate")
        if rate is not None and not (MIN_RATE <= rate <= MAX_RATE and float(rate).is_integer()):
            problems.add(("rate",), f"rate must be a whole number of words per minute from {MIN_RATE} to {MAX_RATE}")
        return EspeakVoice(voice or "", int(rate or 0), read_volume(problems, data))

    def identity(self) -> str:
        """Name the engine and its versions without loading it."""
        return (
            f"espeak-ng/espeakng-loader {distribution_version('espeakng-loader')}"
            f"/pyttsx3 {distribution_version('pyttsx3')}"
        )

    def estimate_seconds(self, text: str, language: str, options: EspeakVoice) -> float:
        """Estimate, generously, how long this voice takes to say text."""
        return estimate_speech_seconds(text, language, options.rate)

    def overridden(self, options: EspeakVoice, voice: str | None, rate: int | None, origin: Location) -> EspeakVoice:
        """Return the options with another voice id or rate; a bad rate is reported at origin."""
        if rate is not None and not MIN_RATE <= rate <= MAX_RATE:
            raise DefinitionError.at(origin, f"rate must be {MIN_RATE}-{MAX_RATE} words per minute")
        return replace(options, voice=voice or options.voice, rate=rate or options.rate)

    def describe(self, options: EspeakVoice) -> tuple[str, str, str]:
        """Return the voice, rate and volume as `pelvicvoice voices` shows them."""
        return options.voice, str(options.rate), f"{options.volume:g}"

    def speaker(self, workers: int, cache_dir: Path):
        """Return a pool that speaks each phrase in a fresh process forked from a clean server."""
        from pelvicvoice.audio.engines.pyttsx3_espeak import speak_in_fresh_process
        from pelvicvoice.audio.workers import WorkerPool

        return WorkerPool(
            self.name,
            speak_in_fresh_process,
            workers,
            fresh_per_phrase=True,
            context=_clean_context(),
            voice_of=lambda options: options.voice,
        )

    def installed_voices(self) -> list[tuple[str, str, str]]:
        """List (id, name, language) of every installed voice."""
        from pelvicvoice.audio.engines.pyttsx3_espeak import EspeakEngine

        return EspeakEngine().voices()


@cache
def _clean_context():
    """Return a forkserver context whose server imported, but never used, the engine.

    The forkserver is one per process (multiprocessing's design), so it is configured once,
    before its first use; where there is none, each worker is spawned.
    """
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["numpy", "pyttsx3", "pelvicvoice.audio.engines.pyttsx3_espeak"])
    return context
