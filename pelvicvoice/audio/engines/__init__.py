"""Speech engines, keyed by the `engine` of a voice profile (as pelican keys its readers).

An engine owns what is particular to it: the keys of its voice profiles, its identity in
cache keys, how long its speech takes (to size slots before anything is spoken), its native
sample rate, and its worker policy (see audio/workers.py). Nothing here loads an engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from pelvicvoice.errors import Location, SpeechError
from pelvicvoice.model import VoiceProfile

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

    from pelvicvoice.audio.workers import OnSpoken
    from pelvicvoice.definitions.source import ProblemList


class Speaker(Protocol):
    """Speaks phrases; made by an engine, with that engine's worker policy."""

    def synthesize_many(
        self, items: list[tuple[str, VoiceProfile]], on_spoken: OnSpoken = ...
    ) -> list[np.ndarray | SpeechError]:
        """Return int16 samples at the engine's sample rate for each (text, profile), or its error.

        on_spoken(index, samples), if given, is called with each phrase's samples as they arrive.
        """

    def close(self) -> None:
        """Stop any workers."""


class Engine(Protocol):
    """What pelvicvoice needs to know of a speech engine."""

    name: str
    sample_rate: int
    profile_keys: tuple[tuple[str, ...], tuple[str, ...]]  # required and optional keys of its profiles
    # The median loudness of its trimmed clips at volume 1 (audio/loudness.clip_loudness, LUFS):
    # recorded clips among its speech are set to it.
    speech_lufs: float

    def read_options(self, problems: ProblemList, data: dict[str, Any], folder: Path) -> Any:
        """Read a profile's engine settings into a frozen dataclass, reporting every bad value.

        A file the profile names is relative to folder, the profile's own.
        """

    def identity(self) -> str:
        """Name the engine, its package versions and model, without loading it."""

    def estimate_seconds(self, text: str, language: str, options: Any) -> float:
        """Estimate, generously, how long the voice takes to say text."""

    def overridden(self, options: Any, voice: str | None, rate: int | None, origin: Location) -> Any:
        """Return options with a voice or rate chosen for one build; report a bad one at origin."""

    def describe(self, options: Any) -> tuple[str, str, str]:
        """Return the voice, rate and volume as `pelvicvoice voices` shows them."""

    def speaker(self, workers: int, cache_dir: Path) -> Speaker:
        """Start speaking with this many workers; a model it must unpack first goes in cache_dir."""

    def installed_voices(self) -> list[tuple[str, str, str]]:
        """List (id, name, language) of the voices this engine can use."""


def engine_registry() -> dict[str, Engine]:
    """Return the engines pelvicvoice ships, by name."""
    from pelvicvoice.audio.engines.espeak import EspeakNg
    from pelvicvoice.audio.engines.kokoro import Kokoro
    from pelvicvoice.audio.engines.piper import Piper

    return {engine.name: engine for engine in (EspeakNg(), Piper(), Kokoro())}
