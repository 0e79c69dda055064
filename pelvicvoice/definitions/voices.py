"""Voice profiles: which engine speaks each language, with that engine's own settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from pelvicvoice.definitions.schema import LANGUAGE, check_keys, expect_mapping
from pelvicvoice.definitions.source import Document, ProblemList, load_document
from pelvicvoice.errors import DefinitionError, Location
from pelvicvoice.model import VoiceProfile

if TYPE_CHECKING:
    from pelvicvoice.audio.engines import Engine


def builtin_voice_dir() -> Path:
    """Return the folder of the voice profiles shipped with the package."""
    return Path(str(resources.files("pelvicvoice.voice_profiles")))


def load_voice_profiles(
    engines: Mapping[str, Engine], folder: Path | None = None
) -> dict[tuple[str, str | None], VoiceProfile]:
    """Load the voice profiles in folder (default: the built-in ones), keyed by (language, engine).

    `<language>.yaml` is a language's default voice, keyed (language, None); `<language>.<engine>.yaml`
    is the voice `--engine <engine>` chooses instead. Both are also keyed by their own engine.
    """
    display = "voices" if folder is None else str(folder)
    folder = folder or builtin_voice_dir()
    parse = partial(parse_voice_profile, engines=engines, folder=folder)
    profiles: dict[tuple[str, str | None], VoiceProfile] = {}
    for path in sorted(folder.glob("*.yaml")):
        profile = parse(load_document(path, f"{display}/{path.name}"))
        language, _, engine = path.stem.partition(".")
        if profile.language != language:
            raise DefinitionError.at(
                profile.location, f"file {path.name} says language {profile.language!r}; rename one"
            )
        if engine and profile.engine != engine:
            raise DefinitionError.at(profile.location, f"file {path.name} says engine {profile.engine!r}; rename one")
        if not engine:
            profiles[(language, None)] = profile
        profiles.setdefault((language, profile.engine), profile)
        if engine:
            profiles[(language, engine)] = profile
    return profiles


def parse_voice_profile(document: Document, engines: Mapping[str, Engine], folder: Path) -> VoiceProfile:
    """Turn a voice profile document (a file in folder) into a VoiceProfile, or raise every problem found."""
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
    options = engine.read_options(problems, data, folder)
    problems.raise_if_any()
    return VoiceProfile(language, engine.name, options, document.where(()))


def choose_voice(
    profiles: Mapping[tuple[str, str | None], VoiceProfile],
    engines: Mapping[str, Engine],
    language: str,
    choice: VoiceChoice,
) -> VoiceProfile:
    """Return the profile for language with the engine, voice or rate of choice (problems reported at its origin)."""
    profile = profiles.get((language, choice.engine))
    if profile is None:
        if choice.engine and (language, None) in profiles:
            raise DefinitionError.at(
                choice.origin or Location("--engine"),
                f"no {choice.engine} voice for language {language!r}; add voices/{language}.{choice.engine}.yaml",
            )
        known = ", ".join(sorted({code for code, _ in profiles})) or "none"
        raise DefinitionError.at(
            Location("voices/", 0, 0),
            f"no voice profile for language {language!r}; add voices/{language}.yaml (have: {known})",
        )
    if choice.voice is None and choice.rate is None:
        return profile
    origin = choice.origin or profile.location
    options = engines[profile.engine].overridden(profile.options, choice.voice, choice.rate, origin)
    return replace(profile, options=options, location=origin)


@dataclass(frozen=True)
class VoiceChoice:
    """Overrides of the voice profiles for one build: another engine, voice or rate."""

    engine: str | None = None
    voice: str | None = None
    rate: int | None = None
    origin: Location | None = None  # where they were chosen, for messages
