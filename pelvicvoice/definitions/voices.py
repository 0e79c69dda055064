"""Voice profiles: which engine speaks each language, with that engine's own settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from pelvicvoice.definitions.schema import LANGUAGE, check_keys, expect_mapping
from pelvicvoice.definitions.source import Document, ProblemList, load_language_files
from pelvicvoice.errors import DefinitionError, Location
from pelvicvoice.model import VoiceProfile

if TYPE_CHECKING:
    from pelvicvoice.audio.engines import Engine


def builtin_voice_dir() -> Path:
    """Return the folder of the voice profiles shipped with the package."""
    return Path(str(resources.files("pelvicvoice.voice_profiles")))


def load_voice_profiles(engines: Mapping[str, Engine], folder: Path | None = None) -> dict[str, VoiceProfile]:
    """Load every `<language>.yaml` voice profile in folder (default: the built-in ones)."""
    parse = partial(parse_voice_profile, engines=engines)
    if folder is None:
        return load_language_files(builtin_voice_dir(), "voices", parse)
    return load_language_files(folder, str(folder), parse)


def parse_voice_profile(document: Document, engines: Mapping[str, Engine]) -> VoiceProfile:
    """Turn a voice profile document into a VoiceProfile, or raise every problem found."""
    problems = ProblemList(document)
    data = expect_mapping(problems, (), document.data, "a voice profile") or {}
    language = data.get("language")
    if not isinstance(language, str) or not LANGUAGE.match(language):
        problems.add(("language",), f"language {language!r} is not a code such as en, nl, nb")
    name = data.get("engine")
    engine = engines.get(name) if isinstance(name, str) else None
    if engine is None:
        problems.add(("engine",), f"engine {name!r} is unknown; use one of {', '.join(sorted(engines))}")
        problems.raise_if_any()
    required, optional = engine.profile_keys
    check_keys(problems, (), data, ("language", "engine", *required), optional, "a voice profile")
    options = engine.read_options(problems, data)
    problems.raise_if_any()
    return VoiceProfile(language, engine.name, options, document.where(()))


def choose_voice(
    profiles: dict[str, VoiceProfile],
    engines: Mapping[str, Engine],
    language: str,
    voice: str | None = None,
    rate: int | None = None,
    origin: Location | None = None,
) -> VoiceProfile:
    """Return the profile for language with a voice or rate chosen at origin (a problem with them is reported there)."""
    profile = profiles.get(language)
    if profile is None:
        known = ", ".join(sorted(profiles)) or "none"
        raise DefinitionError.at(
            Location("voices/", 0, 0),
            f"no voice profile for language {language!r}; add voices/{language}.yaml (have: {known})",
        )
    if voice is None and rate is None:
        return profile
    origin = origin or profile.location
    options = engines[profile.engine].overridden(profile.options, voice, rate, origin)
    return replace(profile, options=options, location=origin)
