"""Build sessions: gather and check everything first, then write each MP3 atomically."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pelvicvoice.audio.clips import ClipProvider
from pelvicvoice.errors import (
    BuildError,
    DefinitionError,
    Location,
    OutputError,
    PelvicvoiceError,
    Problem,
    SpeechError,
)
from pelvicvoice.script.expand import MIN_GAP_SECONDS, expand, to_samples
from pelvicvoice.mp3.ffmpeg import encode_mp3
from pelvicvoice.definitions.library import Library
from pelvicvoice.model import Clip, CueScript, SessionRequest, VoiceProfile
from pelvicvoice.definitions.program import parse_overrides
from pelvicvoice.mp3.splice import ChunkEncoder, write_spliced
from pelvicvoice.mp3.tags import id3_tag, session_tags
from pelvicvoice.definitions.voices import choose_voice

# Changes the sound of a session's clips before they are placed (e.g. loudness); it runs in
# the worker that writes the session, so it must be a module-level function.
ClipShaper = Callable[[CueScript, dict[str, Clip]], dict[str, Clip]]


@dataclass(frozen=True)
class VoiceChoice:
    """Command-line overrides of the voice profiles."""

    voice: str | None = None
    rate: int | None = None


@dataclass(frozen=True)
class PlannedSession:
    """A session with its voice and cue script, ready to render."""

    script: CueScript
    profile: VoiceProfile
    target: Path


def plan_sessions(
    requests: list[SessionRequest], library: Library, out_dir: Path, choice: VoiceChoice = VoiceChoice()
) -> list[PlannedSession]:
    """Expand every request into a cue script, reporting all problems together."""
    planned, problems = [], []
    for request in requests:
        try:
            profile = choose_voice(library.voices, request.language, choice.voice, choice.rate)
            # Library.find has checked that every language of the program has a catalog.
            catalog = library.catalogs[request.language]
            script = expand(request.program, request.language, request.parameters, catalog, profile.rate, request.level)
        except PelvicvoiceError as error:
            problems.extend(error.problems)
            continue
        planned.append(PlannedSession(script, profile, out_dir / request.language / f"{request.file_stem}.mp3"))
    if problems:
        raise DefinitionError(problems)
    return planned


def session_script(request: SessionRequest, library: Library, choice: VoiceChoice = VoiceChoice()) -> CueScript:
    """Return the cue script of one session (what `show` prints)."""
    return plan_sessions([request], library, Path("."), choice)[0].script


def build_sessions(
    requests: list[SessionRequest],
    library: Library,
    clips: ClipProvider,
    out_dir: Path,
    choice: VoiceChoice = VoiceChoice(),
    on_written: Callable[[Path], None] = lambda path: None,
    encoder: ChunkEncoder | None = None,
    jobs: int = 1,
    shape: ClipShaper | None = None,
) -> list[Path]:
    """Build every requested session into out_dir/<lang>/<id>.mp3 and return the paths."""
    planned = plan_sessions(requests, library, out_dir, choice)
    targets = [session.target for session in planned]
    duplicates = {str(t) for t in targets if targets.count(t) > 1}
    if duplicates:
        raise DefinitionError.at(
            Location(sorted(duplicates)[0]), "two sessions would write the same file; build them separately"
        )
    gathered = clips.clips_for([(session.script, session.profile) for session in planned])
    # A session whose speech could not be made is reported at the end; the others are built.
    failures = [problem for found in gathered if isinstance(found, SpeechError) for problem in found.problems]
    ready = [(session, found) for session, found in zip(planned, gathered, strict=True) if isinstance(found, dict)]
    planned = [session for session, _ in ready]
    session_clips = [found for _, found in ready]
    problems: list[Problem] = []
    for session, session_clip in ready:
        problems.extend(overflow_problems(session.script, session_clip))
    if problems:
        raise BuildError(problems)
    jobs = max(1, min(jobs, len(planned)))
    if jobs == 1:
        for session, session_clip in zip(planned, session_clips, strict=True):
            write_session(session, session_clip, encoder, shape)
            on_written(session.target)
    else:
        # Sessions are written by worker processes started fresh ("spawn"): no engine state
        # or threads are inherited, and every core is used. Imported here: a one-session
        # build never needs them, and their import is a large part of its start-up.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            # Longest first, so that no long session starts last while the other workers idle.
            longest_first = sorted(range(len(planned)), key=lambda index: -planned[index].script.total)
            futures = {
                index: pool.submit(write_session, planned[index], session_clips[index], encoder, shape)
                for index in longest_first
            }
            for index, session in enumerate(planned):
                futures[index].result()
                on_written(session.target)
    if failures:
        raise SpeechError(list(dict.fromkeys(failures)))
    return [session.target for session in planned]


def write_session(
    session: PlannedSession,
    clips: dict[str, Clip],
    encoder: ChunkEncoder | None,
    shape: ClipShaper | None = None,
) -> None:
    """Shape the clips, encode (splicing where it can) and tag one session, then move it into place."""
    if shape is not None:
        clips = shape(session.script, clips)
    tag = id3_tag(session_tags(session.script))
    target = session.target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_orphans(target)
        temporary = _part_file(target)
    except OSError as error:
        raise OutputError.at(Location(str(target.parent)), _os_problem(error)) from None
    audio: Path | None = None
    try:
        with temporary.open("wb") as file:
            file.write(tag)
            spliced = encoder is not None and write_spliced(file, session.script, clips, encoder)
        if not spliced:
            # ffmpeg writes the Info header by seeking back to the start of a file of its own.
            from pelvicvoice.audio.render import render_blocks  # numpy: only for what cannot be spliced

            audio = _part_file(target)
            encode_mp3(render_blocks(session.script, clips), audio)
            with temporary.open("wb") as file, audio.open("rb") as encoded:
                file.write(tag)
                shutil.copyfileobj(encoded, file)
        os.chmod(temporary, 0o666 & ~_current_umask())
        os.replace(temporary, target)
    except OSError as error:
        raise OutputError.at(Location(str(target)), _os_problem(error)) from None
    finally:
        temporary.unlink(missing_ok=True)
        if audio is not None:
            audio.unlink(missing_ok=True)


def _part_file(target: Path) -> Path:
    """Create an empty temporary file beside target, named so that _remove_orphans finds it."""
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.{os.getpid()}.", suffix=".mp3.part")
    os.close(handle)
    return Path(name)


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


def _remove_orphans(target: Path) -> None:
    """Remove temporary files of target left by a build that was killed (its process is gone)."""
    for orphan in target.parent.glob(f".{target.stem}.*.mp3.part"):
        pid = orphan.name[len(target.stem) + 2 :].split(".")[0]
        if pid.isdigit() and not _process_exists(int(pid)):
            orphan.unlink(missing_ok=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _os_problem(error: OSError) -> str:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full; free some space or choose another folder with -o"
    if error.errno == errno.EFBIG:
        return "the file is larger than this system allows here; choose another folder with -o"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "cannot write here; choose a writable folder with -o"
    return f"cannot write: {error.strerror or error}"


def make_requests(
    library: Library,
    names: tuple[str, ...],
    languages: tuple[str, ...],
    assignments: tuple[str, ...],
    level: str | None = None,
    origin: Location | None = None,
) -> list[SessionRequest]:
    """Resolve programs, languages ('all' = each program's own), a level and --set values into requests.

    What the caller asked for that cannot be had is reported at origin, when it is given.
    """
    requests, problems = [], []
    for name in names:
        try:
            program = library.find(name, origin)
            values = parse_overrides(program, assignments, level, origin)
        except PelvicvoiceError as error:
            problems.extend(error.problems)
            continue
        wanted = program.languages if "all" in languages else (languages or program.languages[:1])
        for language in dict.fromkeys(wanted):
            if language not in program.languages:
                problems.append(
                    Problem(
                        origin or program.location,
                        f"program {program.id!r} has no {language!r} version; it has {', '.join(program.languages)}",
                    )
                )
                continue
            requests.append(SessionRequest(program, language, values, level))
    if problems:
        raise DefinitionError(problems)
    return requests


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
