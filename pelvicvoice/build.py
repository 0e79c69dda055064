"""Build sessions: expand and check everything first, then write each MP3 through the output layer."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pelvicvoice.audio.clips import ClipProvider
from pelvicvoice.definitions.library import Library
from pelvicvoice.definitions.voices import VoiceChoice, choose_voice
from pelvicvoice.errors import BuildError, DefinitionError, Location, PelvicvoiceError, Problem, SpeechError
from pelvicvoice.model import Clip, CueScript, Program, SessionRequest, VoiceProfile
from pelvicvoice.mp3.session import write_mp3
from pelvicvoice.mp3.splice import ChunkCounts, ChunkEncoder, chunk_encoder
from pelvicvoice.output import atomic_file
from pelvicvoice.script.expand import MIN_GAP_SECONDS, expand, to_samples
from pelvicvoice.settings import BuildSettings, current_settings


@dataclass(frozen=True)
class Session:
    """A session expanded into its cue script, with the voice that speaks it and the file it goes to."""

    script: CueScript
    profile: VoiceProfile
    target: Path


@dataclass(frozen=True)
class BuildReport:
    """What a build wrote, and how its clips and chunks were obtained (the workers' work included)."""

    written: tuple[Path, ...]
    synthesized: int
    cached: int
    recorded: int
    chunks: ChunkCounts


def default_jobs() -> int:
    """Return how many workers to use when none is asked for: one per core."""
    return os.cpu_count() or 1


@dataclass
class Toolchain:
    """What every build needs besides its requests: definitions, settings, clips, encoder and workers."""

    library: Library
    settings: BuildSettings
    clips: ClipProvider
    encoder: ChunkEncoder | None
    jobs: int

    def __enter__(self) -> Toolchain:
        return self

    def __exit__(self, *exc_info) -> None:
        self.clips.close()


def make_toolchain(
    library: Library,
    cache_dir: Path,
    voice_pack: Path | None = None,
    jobs: int | None = None,
    settings: BuildSettings | None = None,
) -> Toolchain:
    """Wire the library's engines, the clip cache and the spliced encoder under cache_dir."""
    jobs = jobs or default_jobs()
    settings = settings or current_settings(library.engines)
    clips = ClipProvider(cache_dir, settings, library.engines, jobs, voice_pack)
    return Toolchain(library, settings, clips, chunk_encoder(cache_dir, settings, jobs), jobs)


def expand_sessions(
    requests: list[SessionRequest], library: Library, out_dir: Path, choice: VoiceChoice = VoiceChoice()
) -> list[Session]:
    """Expand every request into a cue script, reporting all problems together."""
    sessions, problems = [], []
    for request in requests:
        try:
            profile = choose_voice(library.profiles, library.engines, request.language, choice)
            # Library.find has checked that every language of the program has a catalog.
            catalog = library.catalogs[request.language]
            estimate = library.speech_estimate(profile)
            tones = request.program.tones if request.tones is None else request.tones
            script = expand(
                request.program, request.language, request.parameters, catalog, estimate, request.level, tones
            )
        except PelvicvoiceError as error:
            problems.extend(error.problems)
            continue
        sessions.append(Session(script, profile, out_dir / request.language / f"{request.file_stem}.mp3"))
    if problems:
        raise DefinitionError(problems)
    return sessions


def session_script(request: SessionRequest, library: Library, choice: VoiceChoice = VoiceChoice()) -> CueScript:
    """Return the cue script of one session (what `show` prints)."""
    return expand_sessions([request], library, Path("."), choice)[0].script


def check_timing(library: Library, program: Program) -> None:
    """Expand every language with default parameters, reporting what only expansion finds."""
    problems: list[Problem] = []
    for language in program.languages:
        try:
            estimate = library.speech_estimate(library.voices[language])
            expand(program, language, program.defaults, library.catalogs[language], estimate)
        except PelvicvoiceError as error:
            problems.extend(error.problems)
    if problems:
        raise DefinitionError(problems)


def build_sessions(
    requests: list[SessionRequest],
    toolchain: Toolchain,
    out_dir: Path,
    choice: VoiceChoice = VoiceChoice(),
    on_written: Callable[[Path], None] = lambda path: None,
) -> BuildReport:
    """Build every requested session into out_dir/<lang>/<file stem>.mp3."""
    return write_sessions(expand_sessions(requests, toolchain.library, out_dir, choice), toolchain, on_written)


def write_sessions(
    sessions: list[Session],
    toolchain: Toolchain,
    on_written: Callable[[Path], None] = lambda path: None,
    leveled: bool = False,
) -> BuildReport:
    """Gather every session's clips and check they fit, then write each session that has them.

    With `leveled`, every clip is set to the loudness target first (what publish does).
    """
    targets = [session.target for session in sessions]
    duplicates = {str(t) for t in targets if targets.count(t) > 1}
    if duplicates:
        raise DefinitionError.at(
            Location(sorted(duplicates)[0]), "two sessions would write the same file; build them separately"
        )
    gathered = toolchain.clips.clips_for([(session.script, session.profile) for session in sessions], leveled)
    # A session whose speech could not be made is reported at the end; the others are built.
    failures = [problem for found in gathered.sessions if isinstance(found, SpeechError) for problem in found.problems]
    ready = [
        (session, found) for session, found in zip(sessions, gathered.sessions, strict=True) if isinstance(found, dict)
    ]
    problems = [problem for session, found in ready for problem in overflow_problems(session.script, found)]
    if problems:
        raise BuildError(problems)
    counts = _write_all(ready, toolchain, on_written)
    if failures:
        raise SpeechError(failures)
    written = tuple(session.target for session, _ in ready)
    return BuildReport(written, gathered.synthesized, gathered.cached, gathered.recorded, counts)


def _write_all(
    ready: list[tuple[Session, dict[str, Clip]]],
    toolchain: Toolchain,
    on_written: Callable[[Path], None],
) -> ChunkCounts:
    jobs = max(1, min(toolchain.jobs, len(ready)))
    total = ChunkCounts()
    if jobs == 1:
        for session, clips in ready:
            total += write_session(session, clips, toolchain.encoder)
            on_written(session.target)
        return total
    # Sessions are written by worker processes started fresh ("spawn"): no engine state or
    # threads are inherited, and every core is used. Imported here: a one-session build
    # never needs them, and their import is a large part of its start-up.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        # Longest first, so that no long session starts last while the other workers idle.
        longest_first = sorted(range(len(ready)), key=lambda index: -ready[index][0].script.total)
        futures = {index: pool.submit(write_session, *ready[index], toolchain.encoder) for index in longest_first}
        for index, (session, _clips) in enumerate(ready):
            total += futures[index].result()
            on_written(session.target)
    return total


def write_session(session: Session, clips: dict[str, Clip], encoder: ChunkEncoder | None) -> ChunkCounts:
    """Write the session's MP3 into place atomically."""
    with atomic_file(session.target) as file:
        return write_mp3(file, session.script, clips, encoder)


def overflow_problems(script: CueScript, clips: dict[str, Clip]) -> list[Problem]:
    """Report every cue whose clip, plus the minimum gap, does not end before the next cue."""
    gap = to_samples(MIN_GAP_SECONDS)
    rate = script.sample_rate
    problems = []
    for cue in script.cues:
        length = len(clips[cue.clip])
        slot = cue.end - cue.start
        if length + gap > slot:
            overflow_ms = round((length + gap - slot) * 1000 / rate)
            problems.append(
                Problem(
                    cue.origin,
                    f"{script.program_id} [{script.language}] at {cue.start / rate:.2f} s: {cue.text!r} takes "
                    f"{length / rate:.2f} s, {overflow_ms} ms more than its {slot / rate:.2f} s slot allows; "
                    "give the step more seconds, shorten the phrase or raise the voice rate",
                )
            )
    return problems
