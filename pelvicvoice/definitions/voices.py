"""Voice profiles: which engine, voice, rate and volume speak each language."""

from __future__ import annotations

from dataclasses import replace
from importlib import resources
from pathlib import Path

from pelvicvoice.errors import DefinitionError, Location
from pelvicvoice.model import VoiceProfile
from pelvicvoice.definitions.schema import LANGUAGE, check_keys, expect_mapping, expect_number, expect_text
from pelvicvoice.definitions.source import Document, ProblemList, load_language_files

ENGINES = ("espeak-ng",)
MIN_RATE, MAX_RATE = 80, 450


def builtin_voice_dir() -> Path:
    """Return the folder of the voice profiles shipped with the package."""
    return Path(str(resources.files("pelvicvoice.voice_profiles")))


def load_voice_profiles(folder: Path | None = None) -> dict[str, VoiceProfile]:
    """Load every `<language>.yaml` voice profile in folder (default: the built-in ones)."""
    if folder is None:
        return load_language_files(builtin_voice_dir(), "voices", parse_voice_profile)
    return load_language_files(folder, str(folder), parse_voice_profile)


def parse_voice_profile(document: Document) -> VoiceProfile:
    """Turn a voice profile document into a VoiceProfile, or raise every problem found."""
    problems = ProblemList(document)
    data = expect_mapping(problems, (), document.data, "a voice profile") or {}
    check_keys(problems, (), data, ("language", "engine", "voice"), ("rate", "volume"), "a voice profile")
    language = data.get("language")
    if not isinstance(language, str) or not LANGUAGE.match(language):
        problems.add(("language",), f"language {language!r} is not a code such as en, nl, nb")
    engine = data.get("engine")
    if engine not in ENGINES:
        problems.add(("engine",), f"engine {engine!r} is unknown; use one of {', '.join(ENGINES)}")
    voice = expect_text(problems, ("voice",), data.get("voice"), "voice") if "voice" in data else None
    rate = expect_number(problems, ("rate",), data.get("rate", 175), "rate")
    if rate is not None and not (MIN_RATE <= rate <= MAX_RATE and float(rate).is_integer()):
        problems.add(("rate",), f"rate must be a whole number of words per minute from {MIN_RATE} to {MAX_RATE}")
    volume = expect_number(problems, ("volume",), data.get("volume", 1.0), "volume")
    if volume is not None and not 0 < volume <= 1:
        problems.add(("volume",), "volume must be above 0 and at most 1.0")
    problems.raise_if_any()
    return VoiceProfile(language, engine, voice or "", int(rate or 0), float(volume or 0), document.where(()))


def choose_voice(
    profiles: dict[str, VoiceProfile], language: str, voice: str | None = None, rate: int | None = None
) -> VoiceProfile:
    """Return the profile for language with command-line overrides applied."""
    profile = profiles.get(language)
    if profile is None:
        known = ", ".join(sorted(profiles)) or "none"
        raise DefinitionError.at(
            Location("voices/", 0, 0),
            f"no voice profile for language {language!r}; add voices/{language}.yaml (have: {known})",
        )
    if rate is not None and not MIN_RATE <= rate <= MAX_RATE:
        raise DefinitionError.at(Location(f"--rate {rate}"), f"rate must be {MIN_RATE}-{MAX_RATE} words per minute")
    if voice:
        profile = replace(profile, voice=voice, location=Location(f"--voice {voice}"))
    if rate:
        profile = replace(profile, rate=rate, location=Location(f"--rate {rate}"))
    return profile
