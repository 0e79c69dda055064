"""The library: programs, plans, catalogs, voice profiles and the engines that speak them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from pelvicvoice.definitions.catalogs import load_catalogs
from pelvicvoice.definitions.phrases import feed_problems, phrase_problems, template_problems, threshold_problems
from pelvicvoice.definitions.plans import Plan, plan_requests, read_plan
from pelvicvoice.definitions.program import load_program
from pelvicvoice.definitions.source import load_document
from pelvicvoice.definitions.voices import load_voice_profiles
from pelvicvoice.errors import DefinitionError, Location, Problem
from pelvicvoice.model import Catalog, Program, VoiceProfile

if TYPE_CHECKING:
    from pelvicvoice.audio.engines import Engine


def builtin_program_dir() -> Path:
    """Return the folder of the programs shipped with the package."""
    return Path(str(resources.files("pelvicvoice") / "programs"))


def builtin_plan_dir() -> Path:
    """Return the folder of the plans shipped with the package."""
    return Path(str(resources.files("pelvicvoice") / "plans"))


@dataclass(frozen=True)
class Library:
    """Everything programs are read, checked and spoken with."""

    catalogs: dict[str, Catalog]
    profiles: Mapping[tuple[str, str | None], VoiceProfile]  # by (language, engine); engine None: the default
    engines: Mapping[str, Engine]
    program_dir: Path
    plan_dir: Path

    @property
    def voices(self) -> dict[str, VoiceProfile]:
        """Return each language's default voice profile."""
        return {language: profile for (language, engine), profile in self.profiles.items() if engine is None}

    @classmethod
    def load(
        cls,
        catalog_dir: Path | None = None,
        voice_dir: Path | None = None,
        engines: Mapping[str, Engine] | None = None,
    ) -> Library:
        """Load catalogs and voice profiles (default: the built-in ones) for the given engines."""
        if engines is None:
            from pelvicvoice.audio.engines import engine_registry

            engines = engine_registry()
        profiles = load_voice_profiles(engines, voice_dir)
        return cls(load_catalogs(catalog_dir), profiles, engines, builtin_program_dir(), builtin_plan_dir())

    def builtin_ids(self) -> list[str]:
        """Return the ids of the built-in programs, sorted."""
        return _ids(self.program_dir)

    def builtin_plan_ids(self) -> list[str]:
        """Return the ids of the built-in plans, sorted."""
        return _ids(self.plan_dir)

    def find(self, name: str, origin: Location | None = None) -> Program:
        """Load a program given a built-in id or a path to a YAML file, and check its definition.

        An unknown name is reported at origin (where it was asked for) when that is given.
        What only expansion finds is checked where sessions are expanded, or by check_timing.
        """
        path, display = _resolve(name, self.program_dir, "pelvicvoice/programs", "program", ", or a .yaml path", origin)
        program, problems = load_program(path, display)
        problems = problems + self.language_problems(program)
        if program.chooses_level_of == program.id:
            problems.append(Problem(program.location, "a program cannot choose a level of itself"))
        elif program.chooses_level_of and not problems:
            problems = threshold_problems(program, self.find(program.chooses_level_of, program.location))
        if problems:
            raise DefinitionError(sorted(set(problems), key=lambda p: (p.location, p.message)))
        return program

    def find_plan(self, name: str) -> Plan:
        """Load a plan by built-in id or path, and check it against the programs."""
        path, display = _resolve(name, self.plan_dir, "pelvicvoice/plans", "plan", "")
        plan = read_plan(load_document(path, display))
        plan_requests(plan, self, plan.languages)
        return plan

    def is_plan(self, name: str) -> bool:
        """Tell whether name asks for a plan (a built-in plan id or a *.plan.yaml file)."""
        return name in self.builtin_plan_ids() or name.endswith(".plan.yaml")

    def language_problems(self, program: Program) -> list[Problem]:
        """List, for every language of program, a missing catalog, voice, phrase or placeholder."""
        problems: list[Problem] = []
        for language in program.languages:
            catalog = self.catalogs.get(language)
            if catalog is None:
                problems.append(
                    Problem(program.location, f"language {language!r} has no catalog; add catalogs/{language}.yaml")
                )
            if language not in self.voices:
                problems.append(
                    Problem(program.location, f"language {language!r} has no voice; add voices/{language}.yaml")
                )
            if catalog is not None and program.feed:
                problems.extend(feed_problems(program, catalog))
            if catalog is not None:
                for section in program.sections:
                    problems.extend(phrase_problems(section.steps, program, catalog, set(program.parameters)))
            description = program.descriptions.get(language, "")
            what = f"the description in {language!r}"
            for message in template_problems(description, what, language, set(program.parameters)):
                problems.append(Problem(program.location, message))
        return problems

    def speech_estimate(self, profile: VoiceProfile) -> Callable[[str], float]:
        """Return how many seconds the profile's voice takes to say a text (estimated, generously)."""
        engine = self.engines[profile.engine]
        return partial(engine.estimate_seconds, language=profile.language, options=profile.options)


def _ids(folder: Path) -> list[str]:
    return sorted(path.stem for path in folder.glob("*.yaml"))


def _resolve(
    name: str, folder: Path, display_folder: str, what: str, other_hint: str, origin: Location | None = None
) -> tuple[Path, str]:
    """Find a built-in definition by id, or a file by path; return its path and the name shown in messages."""
    if name in _ids(folder):
        return folder / f"{name}.yaml", f"{display_folder}/{name}.yaml"
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path, name
    known = ", ".join(_ids(folder)) or "none"
    raise DefinitionError.at(
        origin or Location(name), f"no built-in {what} {name!r} and no such file; use one of: {known}{other_hint}"
    )
