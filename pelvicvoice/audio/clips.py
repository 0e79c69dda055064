"""Get one trimmed clip per unique phrase: recorded, cached, or synthesized once by its engine; and the tones."""

from __future__ import annotations

import io
import wave
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pelvicvoice.audio.voice_pack import Recording, VoicePack, recorded_clip
from pelvicvoice.cache import read_entry, write_entry
from pelvicvoice.errors import SpeechError
from pelvicvoice.model import SAMPLE_RATE, Clip, CueScript, VoiceProfile
from pelvicvoice.mp3.ffmpeg import decode_to_samples
from pelvicvoice.settings import BuildSettings

if TYPE_CHECKING:
    import numpy as np

    from pelvicvoice.audio.engines import Engine, Speaker


@dataclass(frozen=True)
class GatheredClips:
    """Each session's clips (or the errors that keep it from being made), and how they were obtained.

    A tone made (not taken from the cache) counts as synthesized.
    """

    sessions: list[dict[str, Clip] | SpeechError]
    synthesized: int
    cached: int
    recorded: int


class ClipCache:
    """Content-addressed WAV files of trimmed clips, keyed by BuildSettings.clip_key."""

    def __init__(self, folder: Path):
        self.folder = folder

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


class ClipProvider:
    """Provide trimmed clips for cue scripts; start an engine only if one of its clips is missing.

    An engine's workers, once started, serve every later request until close().
    """

    def __init__(
        self,
        cache_dir: Path,
        settings: BuildSettings,
        engines: Mapping[str, Engine],
        workers: int,
        recorded_pack: Path | None = None,
        decode: Callable[[Path, float], np.ndarray] = decode_to_samples,
    ):
        self.cache = ClipCache(cache_dir)
        self.settings = settings
        self.engines = engines
        self.workers = workers
        self.pack = VoicePack(recorded_pack) if recorded_pack is not None else None
        self.decode = decode
        self._speakers: dict[str, Speaker] = {}

    def clips_for(self, sessions: list[tuple[CueScript, VoiceProfile]], leveled: bool = False) -> GatheredClips:
        """Return {clip name: clip} for each session, or the errors that keep it from being made.

        Every unique clip is made once; a clip that cannot be made fails only its sessions.
        With `leveled`, every spoken or recorded clip is set to the loudness target, once, and
        cached so: tones keep their own soft level.
        """
        spoken: dict[str, tuple[str, VoiceProfile]] = {}
        recorded: dict[str, tuple[Recording, float] | SpeechError] = {}
        tones: dict[str, str] = {}
        names_per_session = []
        for script, profile in sessions:
            names: dict[str, str] = {}
            for cue in script.cues:
                if cue.clip in names:
                    continue
                found = self.pack.find(profile.language, cue.clip) if self.pack else None
                if isinstance(found, Recording):
                    # A recording is set to the level of the voice it speaks among.
                    level = self.engines[profile.engine].speech_lufs
                    key = self.settings.recorded_clip_key(found.digest, level)
                    recorded.setdefault(key, (found, level))
                elif isinstance(found, SpeechError):  # it fails the sessions that need it, under a key of its own
                    key = f"unusable {found.problems[0].location}"
                    recorded[key] = found
                else:
                    key = self.settings.clip_key(profile, cue.text)
                    spoken.setdefault(key, (cue.text, profile))
                names[cue.clip] = key
            for tone in script.tones:
                names[tone.clip] = self.settings.tone_key(tone.clip)
                tones[names[tone.clip]] = tone.kind
            names_per_session.append(names)
        clips: dict[str, Clip | SpeechError] = {
            key: found for key, found in recorded.items() if isinstance(found, SpeechError)
        }
        if leveled:
            for key in [*spoken, *recorded]:
                if key not in clips and (found := self.cache.load(self.settings.leveled_clip_key(key))) is not None:
                    clips[key] = found
            to_level = [key for key in [*spoken, *recorded] if key not in clips]
        for key in [*spoken, *recorded, *tones]:
            if key not in clips and (found := self.cache.load(key)) is not None:
                clips[key] = found
        made = [key for key in [*spoken, *tones] if key not in clips]
        # numpy's FFTs and soxr let go of the GIL: threads trim and level clips on every core,
        # each as soon as it is spoken, while the engine's workers speak the others.
        with ThreadPoolExecutor(max(1, self.workers)) as pool:
            finish = self._leveled if leveled else lambda key, clip: clip
            synthesized = self._synthesize({key: spoken[key] for key in made if key in spoken}, pool, finish)
            clips.update({key: self._keep(key, _tone(tones[key])) for key in made if key in tones})
            clips.update(
                {key: self._keep(key, self._recorded(found)) for key, found in recorded.items() if key not in clips}
            )
            if leveled:
                rest = [key for key in to_level if key not in synthesized]
                clips.update(zip(rest, pool.map(self._leveled, rest, [clips[key] for key in rest]), strict=True))
            clips.update(synthesized)
        return GatheredClips(
            [_session_clips(names, clips) for names in names_per_session],
            synthesized=len(made),
            cached=len(spoken) + len(tones) - len(made),
            recorded=len(recorded),
        )

    def close(self) -> None:
        """Stop every engine's workers."""
        for speaker in self._speakers.values():
            speaker.close()
        self._speakers.clear()

    def _synthesize(
        self,
        wanted: dict[str, tuple[str, VoiceProfile]],
        pool: ThreadPoolExecutor,
        finish: Callable[[str, Clip | SpeechError], Clip | SpeechError],
    ) -> dict[str, Clip | SpeechError]:
        """Speak every wanted phrase with its profile's engine, then trim, resample, cache and finish it in the pool."""
        made: dict[str, Future[Clip | SpeechError]] = {}
        by_engine: dict[str, list[str]] = {}
        for key, (_text, profile) in wanted.items():
            by_engine.setdefault(profile.engine, []).append(key)
        for name, keys in by_engine.items():
            engine = self.engines[name]
            if name not in self._speakers:
                self._speakers[name] = engine.speaker(self.workers, self.cache.folder)

            def kept(key: str, samples: np.ndarray | SpeechError, rate: int = engine.sample_rate) -> Clip | SpeechError:
                return finish(key, self._keep_spoken(key, wanted[key], samples, rate))

            def on_spoken(index: int, samples: np.ndarray, keys: list[str] = keys) -> None:
                made[keys[index]] = pool.submit(kept, keys[index], samples)

            spoken = self._speakers[name].synthesize_many([wanted[key] for key in keys], on_spoken)
            for key, samples in zip(keys, spoken, strict=True):
                if key not in made:  # an error, or a speaker that does not call on_spoken
                    made[key] = pool.submit(kept, key, samples)
        return {key: future.result() for key, future in made.items()}

    def _keep_spoken(
        self, key: str, need: tuple[str, VoiceProfile], samples: np.ndarray | SpeechError, rate: int
    ) -> Clip | SpeechError:
        if isinstance(samples, SpeechError):
            return samples
        from pelvicvoice.audio.samples import trimmed_clip  # numpy: loaded only when speech was made

        if rate != SAMPLE_RATE:
            from pelvicvoice.mp3.ffmpeg import resample

            samples = resample(samples, rate, SAMPLE_RATE)
        text, profile = need
        clip = trimmed_clip(samples)
        if len(clip) == 0:
            return SpeechError.at(profile.location, f"{profile.engine} spoke {text!r} as silence; reword the phrase")
        return self._keep(key, clip)

    def _recorded(self, found: tuple[Recording, float] | SpeechError) -> Clip | SpeechError:
        if isinstance(found, SpeechError):
            return found
        recording, level = found
        return recorded_clip(recording, level, self.settings.loudness, self.decode)

    def _leveled(self, key: str, clip: Clip | SpeechError) -> Clip | SpeechError:
        """Set a clip to the loudness target and cache it under its leveled key."""
        if isinstance(clip, SpeechError):
            return clip
        from pelvicvoice.audio.loudness import leveled_clip  # numpy: loaded only when a clip must be leveled

        return self._keep(self.settings.leveled_clip_key(key), leveled_clip(clip, self.settings.loudness))

    def _keep(self, key: str, clip: Clip | SpeechError) -> Clip | SpeechError:
        """Cache a clip that was made; an error is only passed on."""
        if isinstance(clip, Clip):
            self.cache.store(key, clip)
        return clip


def _tone(kind: str) -> Clip:
    from pelvicvoice.audio.tones import tone_clip  # pydub: loaded only when a tone is not in the cache

    return tone_clip(kind)


def _session_clips(names: dict[str, str], clips: dict[str, Clip | SpeechError]) -> dict[str, Clip] | SpeechError:
    """Gather a session's clips, or all the errors of the clips it lacks."""
    errors = [clips[key] for key in dict.fromkeys(names.values()) if isinstance(clips[key], SpeechError)]
    if errors:
        return SpeechError([problem for error in errors for problem in error.problems])
    return {name: clips[key] for name, key in names.items()}
