"""Find programs by id or path and check them against catalogs and voices."""

from __future__ import annotations

import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pelvicvoice.definitions.catalogs import load_catalogs
from pelvicvoice.errors import DefinitionError, Location, PelvicvoiceError, Problem
from pelvicvoice.script.expand import NUMBER_STYLES, expand
from pelvicvoice.model import Catalog, Program, Quick, Repeat, Say, Step, Timed, VoiceProfile
from pelvicvoice.definitions.program import load_program
from pelvicvoice.definitions.voices import load_voice_profiles


def builtin_program_dir() -> Path:
    """Return the folder of the programs shipped with the package."""
    return Path(str(resources.files("pelvicvoice") / "programs"))


@dataclass(frozen=True)
class Library:
    """The catalogs and voice profiles that programs are checked and built against."""

    catalogs: dict[str, Catalog]
    voices: dict[str, VoiceProfile]

    @classmethod
    def load(cls, catalog_dir: Path | None = None, voice_dir: Path | None = None) -> Library:
        """Load catalogs and voice profiles (default: the built-in ones)."""
        return cls(load_catalogs(catalog_dir), load_voice_profiles(voice_dir))

    def builtin_ids(self) -> list[str]:
        """Return the ids of the built-in programs, sorted."""
        return sorted(path.stem for path in builtin_program_dir().glob("*.yaml"))

    def find(self, name: str, origin: Location | None = None) -> Program:
        """Load a program given a built-in id or a path to a YAML file, and check its definition.

        An unknown name is reported at origin (where it was asked for) when that is given.
        What only expansion finds is checked where sessions are expanded, or by check_timing.
        """
        path = Path(name)
        if name in self.builtin_ids():
            program, problems = load_program(
                builtin_program_dir() / f"{name}.yaml", f"pelvicvoice/programs/{name}.yaml"
            )
        elif path.suffix in (".yaml", ".yml") or path.exists():
            program, problems = load_program(path, name)
        else:
            known = ", ".join(self.builtin_ids())
            raise DefinitionError.at(
                origin or Location(name),
                f"no built-in program {name!r} and no such file; use one of: {known}, or a .yaml path",
            )
        problems = problems + self.language_problems(program)
        if problems:
            raise DefinitionError(sorted(set(problems), key=lambda p: (p.location, p.message)))
        return program

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
            if catalog is not None:
                for section in program.sections:
                    problems.extend(_phrase_problems(section.steps, program, catalog, set(program.parameters)))
        return problems

    def check_timing(self, program: Program) -> None:
        """Expand every language with default parameters, reporting what only expansion finds."""
        problems: list[Problem] = []
        for language in program.languages:
            try:
                expand(program, language, program.defaults, self.catalogs[language], self.voices[language].rate)
            except PelvicvoiceError as error:
                problems.extend(error.problems)
        if problems:
            raise DefinitionError(problems)


def _phrase_problems(steps: tuple[Step, ...], program: Program, catalog: Catalog, names: set[str]) -> list[Problem]:
    """Find phrases missing in the catalog's language and placeholders not in scope."""
    problems = []
    language = catalog.language
    for step in steps:
        if isinstance(step, Repeat):
            inner = names | ({step.variable} if step.variable else set())
            problems.extend(_phrase_problems(step.steps + step.between, program, catalog, inner))
            continue
        key = step.phrase if isinstance(step, (Say, Timed, Quick)) else None
        if key is None:
            continue
        template = program.phrases.get(language, {}).get(key) or catalog.phrases.get(key)
        if template is None:
            problems.append(
                Problem(
                    step.location,
                    f"phrase {key!r} has no {language!r} text; add it under phrases: {language}: "
                    f"or to catalogs/{language}.yaml",
                )
            )
            continue
        try:
            fields = [(field, spec) for _, field, spec, _ in string.Formatter().parse(template) if field is not None]
        except ValueError as error:
            problems.append(Problem(step.location, f"phrase {key!r} in {language!r} has a broken placeholder: {error}"))
            continue
        for field, spec in fields:
            if spec not in NUMBER_STYLES:
                problems.append(
                    Problem(
                        step.location,
                        f"phrase {key!r} in {language!r} writes {{{field}:{spec}}}; "
                        f"use {{{field}}}, {{{field}:count}} or {{{field}:ordinal}}",
                    )
                )
            if field not in names:
                problems.append(
                    Problem(
                        step.location,
                        f"phrase {key!r} in {language!r} uses {{{field}}}, which is not a parameter or loop name "
                        f"here (known: {', '.join(sorted(names)) or 'none'})",
                    )
                )
    return problems
