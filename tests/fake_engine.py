"""A real engine of our own for the tests: deterministic tones, at another sample rate, in long-lived workers.

It proves the engine seam: its own profile keys, identity, speech estimate, native rate
(16 kHz, resampled to the session's) and worker policy, with no speech engine installed.
Each worker notes in $FAKE_ENGINE_LOG when it loads and when it speaks.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pelvicvoice.audio.workers import WorkerPool
from pelvicvoice.definitions.schema import expect_number
from pelvicvoice.model import VoiceProfile

LANGUAGES = ("en", "nl", "nb", "nn", "zh", "ko")
_TONE_SECONDS = 0.06
_TAIL_SECONDS = 0.2


@dataclass(frozen=True)
class ToneVoice:
    """A tone's pitch in Hz and how many characters it says a second."""

    pitch: float
    speed: float


class ToneEngine:
    """Say each letter as a short tone and each space as a pause."""

    name = "fake-tones"
    sample_rate = 16000
    profile_keys = (("pitch",), ("speed",))
    speech_lufs = -17.0

    def read_options(self, problems, data, folder):
        pitch = expect_number(problems, ("pitch",), data.get("pitch"), "pitch")
        speed = expect_number(problems, ("speed",), data.get("speed", 1 / _TONE_SECONDS), "speed")
        return ToneVoice(float(pitch or 0), float(speed or 1))

    def identity(self) -> str:
        return "fake-tones 1"

    def estimate_seconds(self, text: str, language: str, options: ToneVoice) -> float:
        return 0.3 + len(text) / options.speed

    def overridden(self, options: ToneVoice, voice: str | None, rate: int | None, origin) -> ToneVoice:
        return replace(options, speed=rate / 10) if rate else options

    def describe(self, options: ToneVoice) -> tuple[str, str, str]:
        return f"{options.pitch:g} Hz", f"{options.speed:g}", "1"

    def speaker(self, workers: int, cache_dir) -> WorkerPool:
        return WorkerPool(self.name, speak_tones, workers, fresh_per_phrase=False, initializer=load_tones)

    def installed_voices(self) -> list[tuple[str, str, str]]:
        return [("tones", "Tones", "en")]


def load_tones() -> None:
    """Worker start: where a neural engine would load its model."""
    _note("load")


def speak_tones(text: str, profile: VoiceProfile) -> np.ndarray:
    """Speak text as tones at 16 kHz, with silence after it as a real engine leaves."""
    _note("speak")
    if text.startswith("(hang)"):
        time.sleep(60)  # an engine stuck on a phrase
    if text.startswith("(crash)") or (text.startswith("(crash once)") and _first_time(text)):
        os.kill(os.getpid(), signal.SIGKILL)  # an engine that takes its process down with it
    options = profile.options
    rate = ToneEngine.sample_rate
    step = round(rate / options.speed)
    seconds = np.arange(step) / rate
    pieces = []
    for index, char in enumerate(text):
        pitch = options.pitch * (1 + (index % 5) / 10)
        tone = np.sin(2 * np.pi * pitch * seconds) * (8000 if char.isalnum() else 0)
        pieces.append(tone)
    pieces.append(np.zeros(round(_TAIL_SECONDS * rate)))
    return np.round(np.concatenate(pieces)).astype(np.int16)


def _first_time(text: str) -> bool:
    """Tell whether any worker met text before, by a file beside the log."""
    marker = Path(f"{os.environ['FAKE_ENGINE_LOG']}.{text.encode().hex()}")
    try:
        marker.touch(exist_ok=False)
    except FileExistsError:
        return False
    return True


def _note(event: str) -> None:
    log = os.environ.get("FAKE_ENGINE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as file:
            file.write(f"{event} {os.getpid()}\n")


def write_tone_profiles(folder: Path) -> Path:
    """Write a tone voice profile for every language of the built-in library."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, language in enumerate(LANGUAGES):
        text = f"language: {language}\nengine: fake-tones\npitch: {300 + 40 * index}\n"
        (folder / f"{language}.yaml").write_text(text, encoding="utf-8")
    return folder
