"""What the informational commands print: program and voice tables, validation."""

from __future__ import annotations

from pelvicvoice.build import make_requests, session_script
from pelvicvoice.errors import DefinitionError, PelvicvoiceError, Problem
from pelvicvoice.script.formats import format_duration
from pelvicvoice.definitions.library import Library
from pelvicvoice.definitions.plans import find_plan, plan_requests
from pelvicvoice.audio.engines.pyttsx3_espeak import EspeakEngine


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
    """Return each voice profile and whether its voice is installed; with language, all matching voices."""
    engine = EspeakEngine()
    installed = {voice_id for voice_id, _, _ in engine.voices()}
    rows = [("language", "engine", "voice", "rate", "volume", "status")]
    for code, profile in sorted(library.voices.items()):
        if language and code != language:
            continue
        status = "ok" if profile.voice in installed else "voice not installed"
        rows.append((code, profile.engine, profile.voice, str(profile.rate), f"{profile.volume:g}", status))
    if language:
        rows.append(("", "", "", "", "", ""))
        rows.append(("installed voices for", language, "", "", "", ""))
        for voice_id, name, voice_language in engine.voices():
            if voice_language.split("-")[0] == language or voice_id.split("/")[-1].split("-")[0] == language:
                rows.append((voice_language, engine.name, voice_id, "", "", name))
    return rows


def validate_files(library: Library, files: tuple[str, ...]) -> list[str]:
    """Check every program file, expanded in each language; return them if all are valid, else raise every problem."""
    problems: list[Problem] = []
    for name in files:
        try:
            library.check_timing(library.find(name))
        except PelvicvoiceError as error:
            problems.extend(error.problems)
    if problems:
        raise DefinitionError(problems)
    return list(files)


def plan_text(library: Library, name: str, language: str | None) -> str:
    """Render a plan week by week in one language: how often, which program, how long."""
    plan = find_plan(name, library)
    language = language or plan.languages[0]
    if language not in plan.languages:
        raise DefinitionError.at(
            plan.location, f"plan {plan.id!r} has no {language!r} version; it has {', '.join(plan.languages)}"
        )
    catalog = library.catalogs[language]
    lines = [f"{plan.titles[language]} [{plan.id}, {language}]", plan.descriptions[language], ""]
    for phase, entries in zip(plan.phases, plan_requests(plan, library, (language,)), strict=True):
        weeks = (
            f"{phase.first_week}+"
            if phase.last_week is None
            else (
                f"{phase.first_week}"
                if phase.first_week == phase.last_week
                else f"{phase.first_week}-{phase.last_week}"
            )
        )
        label = catalog.phrases.get("plan_weeks", "{weeks}").replace("{weeks}", weeks)
        lines.append(f"{label}: {phase.titles[language]}")
        for entry, (request,) in zip(phase.entries, entries, strict=True):
            script = session_script(request, library)
            level = f" ({request.program.levels[entry.level].titles[language]})" if entry.level else ""
            settings = f" [{' '.join(entry.settings)}]" if entry.settings else ""
            how_often = catalog.phrases.get(f"plan_per_{entry.per}", "{times}x").replace("{times}", str(entry.times))
            lines.append(f"  {how_often:<12} {format_duration(script.duration):>6}  {script.title}{level}{settings}")
    return "\n".join(lines) + "\n"
