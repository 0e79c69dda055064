"""What the informational commands print: program and voice tables, validation."""

from __future__ import annotations

import string
from pathlib import Path

from pelvicvoice.build import check_timing, session_script
from pelvicvoice.definitions.library import Library
from pelvicvoice.definitions.plans import PlanEntry, how_often_label, plan_requests, weeks_label
from pelvicvoice.definitions.requests import make_requests, session_title
from pelvicvoice.errors import DefinitionError, PelvicvoiceError, Problem
from pelvicvoice.model import Catalog
from pelvicvoice.script.formats import format_duration


def program_rows(library: Library, paths: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Return a header and one row per program: id, title, duration, languages."""
    rows = [("id", "title", "duration", "languages")]
    problems: list[Problem] = []
    for name in [*library.builtin_ids(), *paths]:
        try:
            request = make_requests(library, (name,), (), ())[0]
            script = session_script(request, library)
        except PelvicvoiceError as error:
            problems.extend(error.problems)
            continue
        program = request.program
        rows.append((program.id, script.title, format_duration(script.duration), ",".join(program.languages)))
    if problems:
        raise DefinitionError(problems)
    return rows


def voice_rows(library: Library, language: str | None = None) -> list[tuple[str, ...]]:
    """Return the engines, each voice profile and whether its voice is installed; with language, all its voices."""
    installed = {name: engine.installed_voices() for name, engine in library.engines.items()}
    rows = [("engine", "identity", "voices installed", "", "", "", "")]
    for name, engine in sorted(library.engines.items()):
        rows.append((name, engine.identity(), str(len(installed[name])), "", "", "", ""))
    rows.append(("",) * 7)
    rows.append(("language", "engine", "voice", "rate", "volume", "status", "spoken"))
    for (code, chooser), profile in sorted(library.profiles.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        if (language and code != language) or (chooser is not None and library.profiles.get((code, None)) is profile):
            continue
        voice, rate, volume = library.engines[profile.engine].describe(profile.options)
        known = {voice_id for voice_id, _, _ in installed[profile.engine]}
        status = "ok" if voice in known or Path(voice).is_file() else "voice not installed"
        spoken = "by default" if chooser is None else f"with --engine {chooser}"
        rows.append((code, profile.engine, voice, rate, volume, status, spoken))
    if language:
        rows.append(("",) * 7)
        rows.append(("installed voices for", language, "", "", "", "", ""))
        for engine, voices in sorted(installed.items()):
            for voice_id, name, voice_language in voices:
                if voice_language.split("-")[0] == language or voice_id.split("/")[-1].split("-")[0] == language:
                    rows.append((voice_language, engine, voice_id, "", "", name, ""))
    return rows


def validate_files(library: Library, files: tuple[str, ...]) -> list[str]:
    """Check every program file, expanded in each language; return them if all are valid, else raise every problem."""
    problems: list[Problem] = []
    for name in files:
        try:
            check_timing(library, library.find(name))
        except PelvicvoiceError as error:
            problems.extend(error.problems)
    if problems:
        raise DefinitionError(problems)
    return list(files)


def plan_text(library: Library, name: str, language: str | None) -> str:
    """Render a plan week by week in one language: how often, which program, how long."""
    plan = library.find_plan(name)
    language = language or plan.languages[0]
    if language not in plan.languages:
        raise DefinitionError.at(
            plan.location, f"plan {plan.id!r} has no {language!r} version; it has {', '.join(plan.languages)}"
        )
    catalog = library.catalogs[language]
    lines = [f"{plan.titles[language]} [{plan.id}, {language}]", plan.descriptions[language], ""]
    for phase, entries in zip(plan.phases, plan_requests(plan, library, (language,)), strict=True):
        label = weeks_label(phase, catalog)
        lines.append(f"{label}: {phase.titles[language]}")
        for entry, requests in zip(phase.entries, entries, strict=True):
            settings = f" [{' '.join(entry.settings)}]" if entry.settings else ""
            how_often = how_often_label(entry, catalog)
            for index, request in enumerate(requests):
                duration = format_duration(session_script(request, library).duration)
                note = f"  ({_chosen_by(library, entry, catalog)})" if entry.level_from and not index else ""
                often = "" if index else how_often
                lines.append(f"  {often:<12} {duration:>6}  {session_title(request)}{settings}{note}")
    return "\n".join(lines) + "\n"


def _chosen_by(library: Library, entry: PlanEntry, catalog: Catalog) -> str:
    """Say, in the catalog's language, which self-test chooses between an entry's levels."""
    test = library.find(entry.level_from or "", entry.location)
    return catalog.phrases["plan_chosen_by"].replace("{program}", test.titles[catalog.language])


def number_sentences(library: Library, language: str) -> list[str]:
    """Say every phrase with a number in it at 1, 2, 5 and the largest value it allows, in one language.

    One line per program, phrase and value, for a person (or a golden file) to read.
    """
    from pelvicvoice.script.expand import fill_phrase

    lines = []
    for program_id in library.builtin_ids():
        program = library.find(program_id)
        catalog = library.catalogs[language]
        phrases = {**catalog.phrases, **program.phrases.get(language, {})}
        for key, template in sorted(phrases.items()):
            fields = {field for _, field, _, _ in string.Formatter().parse(template) if field}
            for name in sorted(fields & set(program.parameters)):
                parameter = program.parameters[name]
                for value in sorted(
                    {v for v in (1, 2, 5, parameter.maximum) if parameter.minimum <= v <= parameter.maximum}
                ):
                    loops = {field: 1 for field in fields - set(program.parameters)}
                    values = {**loops, **program.defaults, name: value}
                    lines.append(f"{program_id} {key} {name}={value:g}: {fill_phrase(program, catalog, key, values)}")
    return lines
