"""A recorded voice pack, <pack>/<lang>/<clip>.<ext>: find a clip's recording and make it a clip like a spoken one."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pelvicvoice.errors import Location, OutputError, SpeechError
from pelvicvoice.model import SAMPLE_RATE, Clip
from pelvicvoice.settings import LoudnessTarget

if TYPE_CHECKING:
    import numpy as np

# What a pack's recordings may be; ffmpeg decodes each of them.
FORMATS = (".wav", ".mp3", ".ogg", ".flac", ".m4a")
# A clip is one phrase; a recording longer than this is the wrong file, or a header that lies.
MAX_RECORDING_SECONDS = 60
# 60 s of 96 kHz 24-bit stereo WAV is 35 MB: a larger file is not one phrase.
MAX_RECORDING_BYTES = 100_000_000
# A recording this much quieter than the voice is silence or noise, not speech.
_QUIETEST_BELOW_VOICE_LU = 30.0


@dataclass(frozen=True)
class Recording:
    """A clip's recorded file, and the SHA-256 of its bytes: a changed file is a new clip."""

    path: Path
    digest: str


class VoicePack:
    """Look recordings up by clip name; each language's folder is listed once."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._listings: dict[str, dict[str, list[Path]]] = {}

    def find(self, language: str, name: str) -> Recording | SpeechError | None:
        """Return the recording of a clip, None when the pack has none, or what keeps it from being used."""
        paths = self._listing(language).get(name)
        if not paths:
            return None
        path = paths[0]
        where = Location(str(path))
        if len(paths) > 1:
            names = " and ".join(other.name for other in paths)
            return SpeechError.at(where, f"{name!r} is recorded twice, as {names}; keep one of them")
        # A pack may come from someone else: it reads only what is in it.
        real = path.resolve()
        if not real.is_relative_to(self.folder.resolve()):
            return SpeechError.at(where, f"links outside the voice pack, to {real}; copy the recording into the pack")
        try:
            size = real.stat().st_size
            if not size:
                return SpeechError.at(where, "recorded clip is empty; record it again")
            if size > MAX_RECORDING_BYTES:
                return SpeechError.at(
                    where, f"recorded clip is {size:,} bytes, more than {MAX_RECORDING_BYTES:,}; a clip is one phrase"
                )
            with real.open("rb") as file:
                digest = hashlib.file_digest(file, "sha256").hexdigest()
        except OSError as error:
            return SpeechError.at(where, f"cannot be read ({error.strerror}); check the file")
        return Recording(path, digest)

    def _listing(self, language: str) -> dict[str, list[Path]]:
        if language not in self._listings:
            listing: dict[str, list[Path]] = {}
            folder = self.folder / language
            for path in sorted(folder.iterdir()) if folder.is_dir() else ():
                if path.suffix.lower() in FORMATS and (path.is_file() or path.is_symlink()):
                    listing.setdefault(path.name[: -len(path.suffix)], []).append(path)
            self._listings[language] = listing
        return self._listings[language]


def recorded_clip(
    recording: Recording, level_lufs: float, target: LoudnessTarget, decode: Callable[[Path, float], np.ndarray]
) -> Clip | SpeechError:
    """Decode a recording to mono 16-bit at SAMPLE_RATE, set it to the voice's level_lufs, and trim its silence.

    The level is set before trimming, so that what counts as silence (samples.SILENCE_THRESHOLD)
    lies as far below the voice in a recording as in synthesized speech, whatever level it was
    made at; and again after, because the voice's level is that of trimmed clips.
    """
    from pelvicvoice.audio.loudness import clip_loudness, with_gain  # numpy: loaded only for voice packs
    from pelvicvoice.audio.samples import clip_of, trim_silence

    where = Location(str(recording.path))
    try:
        # A second past the limit tells a recording that is too long from one that just fits.
        samples = decode(recording.path, MAX_RECORDING_SECONDS + 1)
    except OutputError as error:
        reason = error.problems[0].message
        return SpeechError.at(where, f"{reason}; save it as one of {', '.join(FORMATS)}")
    if len(samples) > MAX_RECORDING_SECONDS * SAMPLE_RATE:
        return SpeechError.at(where, f"recorded clip lasts more than {MAX_RECORDING_SECONDS} s; a clip is one phrase")
    loudness = clip_loudness(samples)
    # Raised this far, a recording of room noise alone would be heard as a clip.
    if not loudness > level_lufs - _QUIETEST_BELOW_VOICE_LU:
        return SpeechError.at(where, "recorded clip is silent; record it again")
    trimmed = trim_silence(with_gain(samples, level_lufs - loudness, target))
    return clip_of(with_gain(trimmed, level_lufs - clip_loudness(trimmed), target))
