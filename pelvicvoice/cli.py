"""Command line: each command parses options and calls one pipeline function.

Commands other than show and build import their pipeline modules when they run (as mkdocs
does): start-up is most of the time of a warm build, and they would only add to it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import click

from pelvicvoice.build import build_sessions, make_toolchain, session_script
from pelvicvoice.cache import default_cache_dir
from pelvicvoice.definitions.library import Library
from pelvicvoice.definitions.requests import Wording, make_requests
from pelvicvoice.definitions.voices import VoiceChoice
from pelvicvoice.errors import DefinitionError, Location, PelvicvoiceError, error_lines
from pelvicvoice.progress import ProgressBar
from pelvicvoice.script.formats import FORMATTERS

LANG_HELP = "language code, repeatable; 'all' for every language of the program"
ENGINE_HELP = "speak every language with this engine, e.g. espeak-ng (its voices/<lang>.<engine>.yaml profile)"
START_HELP = "a plan's first day; feed dates and reminders follow it (default: SOURCE_DATE_EPOCH, else 2026-01-05)"
REMINDERS_HELP = "times of day a plan's calendar, <lang>/reminders.ics, reminds at (default: 08:00,13:00,20:00)"
# Problems with what was asked for are named by the options that asked for it.
COMMAND_LINE = Wording(setting="--set {}", level="--level {}")
TONES_HELP = "a tone at the start and end of every hold (default: the program's `tones`)"
tones_option = click.option("--tones/--no-tones", default=None, help=TONES_HELP)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pelvicvoice")
def cli() -> None:
    """Turn exercise programs into hands-free, voice-guided MP3 sessions."""


@cli.command("list")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
def list_command(paths: tuple[str, ...]) -> None:
    """List built-in programs and the given program files."""
    from pelvicvoice.listing import program_rows

    for row in program_rows(_library(), paths):
        click.echo("\t".join(row))


@cli.command("show")
@click.argument("program")
@click.option("--lang", "language", default=None, help="language code (default: the program's first)")
@click.option("--level", default=None, help="a level of the program, e.g. gentle (see its file)")
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE", help="change a parameter")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "srt", "vtt"]), default="text")
@click.option("--rate", type=int, default=None, help="speech rate in words per minute (sizes untimed slots)")
@click.option("--engine", default=None, help=ENGINE_HELP)
@tones_option
def show_command(
    program: str,
    language: str | None,
    level: str | None,
    assignments: tuple[str, ...],
    output_format: str,
    rate: int | None,
    engine: str | None,
    tones: bool | None,
) -> None:
    """Print a program's cue script, without making audio."""
    library = _library()
    languages = (language,) if language else ()
    request = replace(
        make_requests(library, (program,), languages, assignments, level, wording=COMMAND_LINE)[0], tones=tones
    )
    script = session_script(request, library, _voice_choice(library, engine, None, rate))
    click.echo(FORMATTERS[output_format](script), nl=False)


@cli.command("build")
@click.argument("programs", nargs=-1, required=True)
@click.option("--lang", "languages", multiple=True, help=LANG_HELP)
@click.option("--level", default=None, help="a level of the programs, e.g. gentle (see their files)")
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE", help="change a parameter")
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("output"))
@click.option("--engine", default=None, help=ENGINE_HELP)
@click.option("--voice", default=None, help="voice id (espeak-ng) or model (piper) for every language; see `voices`")
@click.option("--rate", type=int, default=None, help="espeak-ng speech rate in words per minute")
@click.option("--voice-pack", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None,
              help="folder of recorded clips: <pack>/<lang>/<phrase-key>.wav (or .mp3 .ogg .flac .m4a)")  # fmt: skip
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="clip cache (default: $PELVICVOICE_CACHE or ~/.cache/pelvicvoice)")  # fmt: skip
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=None, help="worker processes (default: one per core)")
@tones_option
def build_command(
    programs: tuple[str, ...],
    languages: tuple[str, ...],
    level: str | None,
    assignments: tuple[str, ...],
    out_dir: Path,
    engine: str | None,
    voice: str | None,
    rate: int | None,
    voice_pack: Path | None,
    cache_dir: Path | None,
    jobs: int | None,
    tones: bool | None,
) -> None:
    """Build MP3 sessions into OUTPUT/<lang>/<program-id>.mp3."""
    library = _library()
    requests = make_requests(library, programs, languages, assignments, level, wording=COMMAND_LINE)
    requests = [replace(request, tones=tones) for request in requests]
    toolchain = make_toolchain(library, cache_dir or default_cache_dir(), voice_pack, jobs)
    with toolchain, ProgressBar(len(requests)) as advance:

        def written(path: Path) -> None:
            advance(path)
            click.echo(str(path))

        build_sessions(requests, toolchain, out_dir, _voice_choice(library, engine, voice, rate), written)


@cli.command("check-speech")
@click.argument("programs", nargs=-1, required=True)
@click.option("--lang", "languages", multiple=True, help=LANG_HELP)
@click.option("--level", default=None, help="a level of the programs, e.g. gentle (see their files)")
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE", help="change a parameter")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.3, show_default=True,
              help="list the phrases heard with at least this character error rate")  # fmt: skip
@click.option("--engine", default=None, help=ENGINE_HELP)
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False), default=None)
def check_speech_command(
    programs: tuple[str, ...],
    languages: tuple[str, ...],
    level: str | None,
    assignments: tuple[str, ...],
    threshold: float,
    engine: str | None,
    cache_dir: Path | None,
) -> None:
    """List the phrases an offline speech recognizer hears wrong (needs the asr extra)."""
    from pelvicvoice.listening.intelligibility import listen, mean_error_rates
    from pelvicvoice.listening.recognizer import Recognizer

    library = _library()
    requests = make_requests(library, programs, languages, assignments, level, wording=COMMAND_LINE)
    requests = [replace(request, tones=False) for request in requests]  # the recognizer hears speech alone
    cache = cache_dir or default_cache_dir()
    recognizer = Recognizer(cache)
    with make_toolchain(library, cache) as toolchain:

        def report(heard) -> None:
            if heard.error_rate >= threshold:
                click.echo(f"{heard.error_rate:.2f}  {heard.language}  {heard.program}: {heard.text}")
                click.echo(f"      heard: {heard.heard}")

        heard = listen(requests, toolchain, recognizer, report, _voice_choice(library, engine, None, None))
    for language, (rate, count) in mean_error_rates(heard).items():
        click.echo(f"{language}: mean character error rate {rate:.2f} over {count} phrases ({recognizer.identity})")


@cli.command("show-plan")
@click.argument("plan")
@click.option("--lang", "language", default=None, help="language code (default: the plan's first)")
def show_plan_command(plan: str, language: str | None) -> None:
    """Print a training plan week by week: programs, how often, how long."""
    from pelvicvoice.listing import plan_text

    click.echo(plan_text(_library(), plan, language), nl=False)


@cli.command("publish")
@click.argument("sources", nargs=-1)
@click.option("--base-url", required=True, help="where the folder will be served, e.g. https://example.org/pelvicvoice")
@click.option(
    "-o", "--output", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("output/site")
)
@click.option("--lang", "languages", multiple=True, help="only these languages (default: all)")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=None, help="worker processes (default: one per core)")
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False), default=None)
@click.option("--start", "first_day", metavar="YYYY-MM-DD", help=START_HELP)
@click.option("--reminders", metavar="HH:MM[,HH:MM...]", help=REMINDERS_HELP)
@tones_option
def publish_command(
    sources: tuple[str, ...],
    base_url: str,
    out_dir: Path,
    languages: tuple[str, ...],
    jobs: int | None,
    cache_dir: Path | None,
    first_day: str | None,
    reminders: str | None,
    tones: bool | None,
) -> None:
    """Publish a plan, or programs (default: the whole library), as podcast feeds and a site."""
    from pelvicvoice.publishing.episodes import choose_episodes, start_date
    from pelvicvoice.publishing.publish import publish
    from pelvicvoice.publishing.reminders import calendars_for

    library = _library()
    start = start_date(dict(os.environ), first_day)
    episodes, texts = choose_episodes(library, sources, languages, start)
    calendars = calendars_for(library, sources, languages, start, reminders, base_url)
    episodes = [replace(episode, request=replace(episode.request, tones=tones)) for episode in episodes]
    toolchain = make_toolchain(library, cache_dir or default_cache_dir(), jobs=jobs)
    with toolchain, ProgressBar(len(episodes)) as advance:
        report = publish(episodes, texts, toolchain, out_dir, base_url, advance, calendars)
    for path in (*report.feeds, *report.calendars):
        click.echo(str(path))
    click.echo(
        f"{report.written} episodes written, {report.reused} reused, {len(report.feeds)} feeds, {report.seconds:.1f} s",
        err=True,
    )


@cli.command("upload")
@click.argument("site_dir", type=click.Path(path_type=Path, file_okay=False))
@click.argument("destination", metavar="s3://BUCKET/PREFIX")
@click.option("--endpoint-url", default=None, help="an S3-compatible store's URL (default: $AWS_ENDPOINT_URL, or AWS)")
@click.option("--delete", is_flag=True, help="then delete the objects under the prefix that the folder no longer has")
@click.option("--dry-run", is_flag=True, help="say what would be written and deleted; write nothing")
def upload_command(site_dir: Path, destination: str, endpoint_url: str | None, delete: bool, dry_run: bool) -> None:
    """Upload a published folder to S3-compatible storage: what changed, feeds last (AWS_* credentials; s3 extra)."""
    from pelvicvoice.publishing.upload import upload_site

    click.echo(upload_site(site_dir, destination, endpoint_url, delete, dry_run, click.echo).summary(), err=True)


@cli.command("serve")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=Path("output/site"))
@click.option("--host", default="127.0.0.1", show_default=True, help="0.0.0.0 lets phones on your network subscribe")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
def serve_command(folder: Path, host: str, port: int) -> None:
    """Serve a published folder with byte ranges, so podcast apps can stream and seek."""
    from pelvicvoice.publishing.serve import make_server

    server = make_server(folder, host, port)
    click.echo(f"serving {folder} at http://{host}:{server.server_address[1]}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@cli.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, help="0.0.0.0 serves other machines too")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
def api_command(host: str, port: int) -> None:
    """Render sessions on request, as build would: GET /sessions/ID.mp3|.json?lang=L&level=NAME&set=K=V; /healthz."""
    from pelvicvoice.publishing.api import serve_api

    serve_api(_library(), default_cache_dir(), host, port)


@cli.command("voices")
@click.option("--lang", "language", default=None, help="only this language")
def voices_command(language: str | None) -> None:
    """List the voice profiles and the installed espeak-ng voices for their languages."""
    from pelvicvoice.listing import voice_rows

    for row in voice_rows(_library(), language):
        click.echo("\t".join(row))


@cli.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
def validate_command(files: tuple[str, ...]) -> None:
    """Check program files and report every problem; exit 1 if any."""
    from pelvicvoice.listing import validate_files

    for path in validate_files(_library(), files):
        click.echo(f"ok: {path}")


def _library() -> Library:
    return Library.load()


def _voice_choice(library: Library, engine: str | None, voice: str | None, rate: int | None) -> VoiceChoice:
    # A problem with a chosen voice is reported at the option that chose it.
    origin = Location(f"--rate {rate}") if rate is not None else Location(f"--voice {voice}") if voice else None
    if engine is not None:
        origin = origin or Location(f"--engine {engine}")
        if engine not in library.engines:
            known = ", ".join(sorted(library.engines))
            raise DefinitionError.at(Location(f"--engine {engine}"), f"unknown engine; use one of {known}")
    return VoiceChoice(engine, voice, rate, origin)


def main() -> None:
    """Run the CLI; print user errors as `error: FILE:LINE:COL: ...` lines and exit 1."""
    try:
        cli.main(prog_name="pelvicvoice")
    except PelvicvoiceError as error:
        for line in error_lines(error):
            click.echo(line, err=True)
        sys.exit(1)
