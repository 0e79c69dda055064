"""One frozen identity of everything that shapes the audio; every cache key and the episode key derive from it.

Like black's `Mode.get_cache_key`: a key is never assembled by hand from a list of inputs
that someone must remember to extend. A new input goes into BuildSettings, and the keys
that depend on it change with it (tests/test_settings.py changes each input in turn).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from pelvicvoice import __version__
from pelvicvoice.installed import distribution_version
from pelvicvoice.model import SAMPLE_RATE, VoiceProfile

if TYPE_CHECKING:
    from pelvicvoice.audio.engines import Engine

# Bump when trimming or anything else that shapes a cached clip changes.
CLIP_FORMAT = 2
# Bump when what a chunk's samples are made of, or how its frames are cut, changes.
CHUNK_FORMAT = 1
# Bump when anything else that shapes a published episode's files changes.
EPISODE_FORMAT = 2
# Bump when the hold tones (audio/tones.py) sound different.
TONE_FORMAT = 1
# Bump when setting a clip's level or limiting its peaks (audio/loudness.py) changes.
LEVEL_FORMAT = 2
# Bump when what a voice-pack recording may be (audio/voice_pack.py: its longest, its largest) changes.
RECORDING_FORMAT = 2


@dataclass(frozen=True)
class LoudnessTarget:
    """Podcast loudness: integrated LUFS measured as dual-mono, and the true-peak ceiling."""

    integrated_lufs: float = -16.0
    true_peak_dbtp: float = -1.0
    # MP3 coding can raise peaks a little: limit this much below the ceiling (measured: up to 0.6 dB).
    encoder_margin_db: float = 0.8
    # Clips are set this much above integrated_lufs. Measured with ebur128 on the whole library,
    # episodes of clips at exactly -16 LUFS came out 0.3-0.9 LU low (en -16.9 to -16.5, zh -16.4
    # to -16.3): pauses within and around phrases weigh more in an episode than in one clip.
    clip_offset_lu: float = 0.4


@dataclass(frozen=True)
class BuildSettings:
    """What shapes a session's audio besides its cue script and voice."""

    package_version: str
    engines: tuple[tuple[str, str], ...]  # (engine name, its identity: package versions, model hash)
    encoder: str  # the encoder and its settings
    loudness: LoudnessTarget = field(default_factory=LoudnessTarget)
    clip_format: int = CLIP_FORMAT
    chunk_format: int = CHUNK_FORMAT
    episode_format: int = EPISODE_FORMAT
    recording_format: int = RECORDING_FORMAT
    tones: str = field(default_factory=lambda: f"pydub {distribution_version('pydub')}, tone format {TONE_FORMAT}")
    leveler: str = field(default_factory=lambda: f"soxr {distribution_version('soxr')}, level format {LEVEL_FORMAT}")

    def engine_identity(self, engine: str) -> str:
        """Return the identity of one engine."""
        return dict(self.engines)[engine]

    def clip_key(self, profile: VoiceProfile, text: str) -> str:
        """Key a synthesized clip: its engine and voice settings, the clip format and the text."""
        engine = profile.engine
        return _digest(
            [self.clip_format, SAMPLE_RATE, engine, self.engine_identity(engine), asdict(profile.options), text]
        )

    def recorded_clip_key(self, file_digest: str, level_lufs: float) -> str:
        """Key a recorded clip by its file's content, the decoder, what a recording may be, and how it is leveled."""
        loudness = [asdict(self.loudness), self.leveler, level_lufs]
        made = [self.clip_format, self.recording_format, SAMPLE_RATE, "recorded", self.encoder]
        return _digest([*made, *loudness, file_digest])

    def leveled_clip_key(self, clip_key: str) -> str:
        """Key a clip set to the loudness target (what publish places) by the clip's own key."""
        return _digest([self.clip_format, SAMPLE_RATE, "leveled", asdict(self.loudness), self.leveler, clip_key])

    def tone_key(self, name: str) -> str:
        """Key a tone's clip by its name, what makes it and the clip format."""
        return _digest([self.clip_format, SAMPLE_RATE, "tone", self.tones, name])

    def chunk_key(self, description: Any) -> str:
        """Key encoded MP3 frames by the encoder and a description of what their samples are made of."""
        return _digest([self.chunk_format, SAMPLE_RATE, self.encoder, description])

    def episode_key(self, *parts: Any) -> str:
        """Key a published episode by every setting and by what is particular to it (script, voice, tags)."""
        return _digest([asdict(self), *parts])


def _digest(material: Any) -> str:
    text = json.dumps(material, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def current_settings(engines: Mapping[str, Engine]) -> BuildSettings:
    """Return the settings of this installation: its engines' and encoder's identities."""
    from pelvicvoice.mp3.ffmpeg import encoder_identity

    encoder = encoder_identity()
    identities = tuple(
        (name, engine.identity() + (f" resampled by {encoder}" if engine.sample_rate != SAMPLE_RATE else ""))
        for name, engine in sorted(engines.items())
    )
    return BuildSettings(__version__, identities, encoder)
