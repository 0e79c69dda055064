"""Plain, immutable objects that flow through the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pelvicvoice.errors import Location

SAMPLE_RATE = 22050  # every clip and session uses it; engines with another rate are resampled
# Samples in one MPEG-2 Layer III frame at SAMPLE_RATE. Cues start on this grid, so that every
# occurrence of a clip sits at the same place in its MP3 frames and is encoded only once.
FRAME_SAMPLES = 576
# A hold's tones last this many frames (157 ms): a tone that ends where its hold ends then also
# starts on the frame grid, so it is encoded once like any clip.
TONE_FRAMES = 6

# A step value: a literal number, or the name of a program parameter.
Value = int | float | str


@dataclass(frozen=True)
class Parameter:
    """A program knob with a default that a level or a `name=value` setting can change."""

    name: str
    default: float | int
    minimum: float | int
    maximum: float | int
    integer: bool
    help: str
    location: Location

    def problem_with(self, number: float | int) -> str | None:
        """Say what is wrong with number as a value of this parameter, or None when it is fine."""
        if self.integer and not float(number).is_integer():
            return f"{self.name} must be a whole number"
        if not self.minimum <= number <= self.maximum:
            return f"{self.name} must be between {self.minimum} and {self.maximum}"
        return None


@dataclass(frozen=True)
class Say:
    """Speak a phrase; its slot lasts `seconds`, or an estimate of the speech."""

    phrase: str
    seconds: Value | None
    location: Location


@dataclass(frozen=True)
class Pause:
    """Stay silent for a number of seconds."""

    seconds: Value
    location: Location


@dataclass(frozen=True)
class Timed:
    """Hold or rest for exactly `seconds`, saying a phrase at its start, maybe counting."""

    kind: str  # "hold" or "rest"
    seconds: Value
    phrase: str | None
    count: str | None  # "up", "down" or None
    location: Location


@dataclass(frozen=True)
class Quick:
    """Quick contractions: one cue every `interval` seconds, `times` times."""

    times: Value
    interval: Value
    phrase: str
    location: Location


@dataclass(frozen=True)
class Repeat:
    """Do `steps` `times` times, with `between` steps between two passes."""

    times: Value
    variable: str | None
    steps: tuple[Step, ...]
    between: tuple[Step, ...]
    location: Location


Step = Say | Pause | Timed | Quick | Repeat


@dataclass(frozen=True)
class Section:
    """A named part of a session; it becomes a chapter."""

    titles: dict[str, str]
    steps: tuple[Step, ...]
    location: Location
    when: str | None = None  # a parameter; the section is left out when it is 0


@dataclass(frozen=True)
class Level:
    """A named set of parameter values, e.g. a gentle or an intensive version."""

    name: str
    titles: dict[str, str]
    values: dict[str, float | int]
    location: Location


@dataclass(frozen=True)
class Program:
    """A validated program definition."""

    id: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    source: str
    notes: str
    parameters: dict[str, Parameter]
    phrases: dict[str, dict[str, str]]  # language -> key -> text
    sections: tuple[Section, ...]
    location: Location  # the file's first line
    levels: dict[str, Level] = field(default_factory=dict)
    feed: str | None = None  # a feed of its own when published (e.g. after_miscarriage), else the main one
    chooses_level_of: str | None = None  # a self-test: the program whose level its result names
    tones: bool = False  # a tone at the start and end of every hold

    @property
    def languages(self) -> tuple[str, ...]:
        """Return the languages the program speaks, in the order of its titles."""
        return tuple(self.titles)

    @property
    def defaults(self) -> dict[str, float | int]:
        """Return every parameter's default value."""
        return {name: parameter.default for name, parameter in self.parameters.items()}


@dataclass(frozen=True)
class Catalog:
    """Shared phrases of one language, and its counting words."""

    language: str
    name: str
    phrases: dict[str, str]
    counting: tuple[str, ...]  # words for 1, 2, 3, ...; empty means digits
    ordinals: tuple[str, ...]  # words for first, second, ...; empty means digits
    location: Location
    counters: tuple[str, ...] = ()  # a number with its counter, e.g. Korean 한 번, 두 번; empty means digits


@dataclass(frozen=True)
class VoiceProfile:
    """How one language is spoken: an engine, and that engine's own settings (a frozen dataclass)."""

    language: str
    engine: str
    options: Any  # e.g. espeak-ng's voice id, words per minute and volume; see audio/engines
    location: Location


@dataclass(frozen=True)
class Clip:
    """A trimmed clip: 16-bit little-endian mono PCM at SAMPLE_RATE.

    Bytes, not an array: a warm build measures and hashes clips but renders none, so it never
    imports numpy, which would be a third of its start-up.
    """

    pcm: bytes

    def __len__(self) -> int:
        """Return the number of samples."""
        return len(self.pcm) // 2


@dataclass(frozen=True)
class Cue:
    """One phrase at an exact sample; it may speak until `end`."""

    start: int
    end: int
    text: str
    clip: str  # the phrase key with its filled-in values; names a recorded clip
    kind: str
    chapter: int
    origin: Location


@dataclass(frozen=True)
class Tone:
    """A tone that marks where a hold starts or ends: heard, never spoken, so in no transcript."""

    start: int
    kind: str  # "start" (it begins where the hold begins) or "end" (it ends where the hold ends)
    origin: Location

    @property
    def clip(self) -> str:
        """Name the tone's clip; phrase keys have no ':', so it names no phrase."""
        return f"tone:{self.kind}"


@dataclass(frozen=True)
class Chapter:
    """A section's title and sample span in the session."""

    title: str
    start: int
    end: int


@dataclass(frozen=True)
class CueScript:
    """Everything a session says and when, in samples at SAMPLE_RATE."""

    program_id: str
    language: str
    title: str
    description: str
    source: str
    parameters: dict[str, float | int]
    level: str | None
    total: int
    cues: tuple[Cue, ...]
    chapters: tuple[Chapter, ...]
    sample_rate: int = SAMPLE_RATE
    tones: tuple[Tone, ...] = ()  # a layer of their own: not speech, so not in cues

    @property
    def duration(self) -> float:
        """Return the session length in seconds."""
        return self.total / self.sample_rate

    @property
    def sounds(self) -> tuple[Cue | Tone, ...]:
        """Return everything heard in the session, speech and tones, by start sample."""
        return tuple(sorted((*self.cues, *self.tones), key=lambda sound: sound.start))


@dataclass(frozen=True)
class SessionRequest:
    """One session to build: a program in a language with its parameter values."""

    program: Program
    language: str
    parameters: dict[str, float | int] = field(default_factory=dict)
    level: str | None = None
    name: str | None = None  # a file name chosen by the caller, e.g. an episode's
    tones: bool | None = None  # hold tones on or off; None: as the program says

    @property
    def file_stem(self) -> str:
        """Name the session's files: the given name, or the program id plus the level if one was chosen."""
        if self.name:
            return self.name
        return f"{self.program.id}-{self.level}" if self.level else self.program.id
