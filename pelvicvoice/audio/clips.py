"""Get one trimmed clip per unique phrase: recorded, cached, or synthesized once."""

from __future__ import annotations

import hashlib
import io
import json
import os
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pelvicvoice.errors import Location, SpeechError
from pelvicvoice.mp3.ffmpeg import decode_to_samples
from pelvicvoice.installed import distribution_version
from pelvicvoice.model import SAMPLE_RATE, Clip, CueScript, VoiceProfile
from pelvicvoice.cache import read_entry, write_entry

if TYPE_CHECKING:
    import numpy as np

# Bump when trimming or anything else that shapes a cached clip changes.
CLIP_FORMAT_VERSION = 2


class Engine(Protocol):
    """What the clip provider needs from a speech engine."""

    def synthesize_many(self, items: list[tuple[str, VoiceProfile]]) -> list[np.ndarray | SpeechError]: ...


def engine_identity() -> str:
    """Name the speech engine and its versions without loading it (part of every clip cache key)."""
    return (
        f"espeak-ng/espeakng-loader {distribution_version('espeakng-loader')}/pyttsx3 {distribution_version('pyttsx3')}"
    )


def isolated_speech(workers: int | None = None) -> Engine:
    """Start the bundled espeak-ng, each phrase spoken in a fresh process (see speech.IsolatedSpeech)."""
    # Imported here: the engine and numpy load only when a clip is missing.
    from pelvicvoice.audio.engines.pyttsx3_espeak import IsolatedSpeech

    return IsolatedSpeech(workers=workers)


def _session_clips(names: dict[str, str], clips: dict[str, Clip | SpeechError]) -> dict[str, Clip] | SpeechError:
    """Gather a session's clips, or all the errors of the clips it lacks."""
    errors = [clips[key] for key in dict.fromkeys(names.values()) if isinstance(clips[key], SpeechError)]
    if errors:
        return SpeechError([problem for error in errors for problem in error.problems])
    return {name: clips[key] for name, key in names.items()}


def default_cache_dir() -> Path:
    """Return the user cache folder: $PELVICVOICE_CACHE, else $XDG_CACHE_HOME/pelvicvoice."""
    if os.environ.get("PELVICVOICE_CACHE"):
        return Path(os.environ["PELVICVOICE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pelvicvoice"


class ClipCache:
    """Content-addressed WAV files of trimmed clips, keyed by everything that shapes them."""

    def __init__(self, folder: Path):
        self.folder = folder

    @staticmethod
    def key(engine: str, profile: VoiceProfile, text: str) -> str:
        """Hash engine identity, voice, rate, volume and text into a cache key."""
        material = json.dumps(
            [CLIP_FORMAT_VERSION, engine, profile.voice, profile.rate, profile.volume, text], ensure_ascii=False
        )
        return hashlib.sha256(material.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.wav"

    def load(self, key: str) -> Clip | None:
        """Return the cached clip, or None when it is missing or damaged (it is then made again)."""
        payload = read_entry(self._path(key))
        if payload is None:
            return None
        try:
            with wave.open(io.BytesIO(payload), "rb") as wav:
                if (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) != (1, 2, SAMPLE_RATE):
                    return None
                data = wav.readframes(wav.getnframes())
        except (EOFError, wave.Error):
            return None
        return Clip(data) if data else None

    def store(self, key: str, clip: Clip) -> None:
        """Write a clip as a checksummed WAV, atomically."""
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(SAMPLE_RATE)
            wav.writeframes(clip.pcm)
        write_entry(self._path(key), buffer.getvalue())


@dataclass
class ClipStats:
    """How each unique clip of a build was obtained."""

    synthesized: int = 0
    cached: int = 0
    recorded: int = 0


@dataclass
class ClipProvider:
    """Provide trimmed clips for cue scripts; start the engine only if something is missing."""

    cache: ClipCache
    engine_identity: str
    engine_factory: Callable[[], Engine]
    decode: Callable[[Path], np.ndarray]
    recorded_pack: Path | None = None
    stats: ClipStats = field(default_factory=ClipStats)

    def clips_for(self, sessions: list[tuple[CueScript, VoiceProfile]]) -> list[dict[str, Clip] | SpeechError]:
        """Return {clip name: clip} for each session, or the errors that keep it from being made.

        Every unique clip is made once; a clip that cannot be made fails only its sessions.
        """
        needs: dict[str, tuple[str, VoiceProfile, Path | None]] = {}
        names_per_session = []
        for script, profile in sessions:
            names: dict[str, str] = {}
            for cue in script.cues:
                if cue.clip in names:
                    continue
                recorded = self._recorded_path(profile.language, cue.clip)
                key = str(recorded) if recorded else ClipCache.key(self.engine_identity, profile, cue.text)
                names[cue.clip] = key
                needs.setdefault(key, (cue.text, profile, recorded))
            names_per_session.append(names)
        clips: dict[str, Clip | SpeechError] = {}
        missing = []
        for key, (_text, _profile, recorded) in needs.items():
            if recorded is not None:
                clips[key] = self._recorded_clip(recorded)
                continue
            cached = self.cache.load(key)
            if cached is None:
                missing.append(key)
            else:
                clips[key] = cached
                self.stats.cached += 1
        if missing:
            spoken = self.engine_factory().synthesize_many([needs[key][:2] for key in missing])
            for key, samples in zip(missing, spoken, strict=True):
                clips[key] = self._keep_spoken(key, needs[key], samples)
        return [_session_clips(names, clips) for names in names_per_session]

    def _keep_spoken(
        self, key: str, need: tuple[str, VoiceProfile, Path | None], samples: np.ndarray | SpeechError
    ) -> Clip | SpeechError:
        if isinstance(samples, SpeechError):
            return samples
        from pelvicvoice.audio.samples import trimmed_clip  # numpy: loaded only when speech was made

        text, profile, _ = need
        clip = trimmed_clip(samples)
        if len(clip) == 0:
            return SpeechError.at(profile.location, f"{profile.voice!r} spoke {text!r} as silence; reword the phrase")
        self.cache.store(key, clip)
        self.stats.synthesized += 1
        return clip

    def _recorded_clip(self, path: Path) -> Clip | SpeechError:
        from pelvicvoice.audio.samples import trimmed_clip  # numpy: loaded only for recorded voice packs

        clip = trimmed_clip(self.decode(path))
        if len(clip) == 0:
            return SpeechError.at(Location(str(path)), "recorded clip is silent; record it again")
        self.stats.recorded += 1
        return clip

    def _recorded_path(self, language: str, name: str) -> Path | None:
        if self.recorded_pack is None:
            return None
        path = self.recorded_pack / language / f"{name}.wav"
        return path if path.is_file() else None


def clip_provider(
    cache_dir: Path,
    recorded_pack: Path | None = None,
    engine_factory: Callable[[], Engine] = isolated_speech,
    decode: Callable[[Path], np.ndarray] = decode_to_samples,
) -> ClipProvider:
    """Make a clip provider for the bundled espeak-ng (or the given engine) and cache folder."""
    return ClipProvider(ClipCache(cache_dir), engine_identity(), engine_factory, decode, recorded_pack)
