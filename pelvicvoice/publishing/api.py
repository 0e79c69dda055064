"""Render sessions on request over HTTP: the same bytes as `build`, cached by what shapes them.

The service keeps nothing but its cache: a session's MP3 is written, atomically, under
<cache>/sessions/<key>.mp3, where the key is a hash of every setting, the cue script and the
voice. Instances that share a cache folder share every render, and any of them can answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from anyio import to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from pelvicvoice.build import Session, Toolchain, expand_sessions, make_toolchain, write_sessions
from pelvicvoice.definitions.library import Library
from pelvicvoice.definitions.requests import Wording, parse_overrides
from pelvicvoice.definitions.voices import VoiceChoice
from pelvicvoice.errors import DefinitionError, Location, OutputError, PelvicvoiceError, Problem, SpeechError
from pelvicvoice.model import Program, SessionRequest
from pelvicvoice.script.formats import to_json

# Problems are named by the query that asked for them: `set=hold=x`, `level=hard`.
QUERY = Wording(setting="set={}", level="level={}")
QUERY_NAMES = ("lang", "level", "set")
UNKNOWN_QUERY = "unknown query parameter; use lang, level or set"


class NotFound(Exception):
    """A program or language the library does not have."""


@dataclass
class Renderer:
    """The one toolchain of a running service, and the lock its renders take turns on."""

    library: Library
    # Every built-in program, read and checked once at start-up (a reading takes ~75 ms): only these are served.
    programs: dict[str, Program]
    toolchain: Toolchain
    choice: VoiceChoice
    folder: Path
    # The toolchain's clip provider and encoder are not made for several threads: one render at a time.
    lock: asyncio.Lock
    rendered: int = 0

    def session(self, request: SessionRequest) -> Session:
        """Expand a request into its session, its target named by the key of what shapes it."""
        session = expand_sessions([request], self.library, self.folder, self.choice)[0]
        profile = asdict(session.profile) | {"location": None}
        key = self.toolchain.settings.episode_key("session", to_json(session.script), profile)
        return replace(session, target=self.folder / key[:2] / f"{key}.mp3")

    async def render(self, session: Session) -> Path:
        """Return the session's file, writing it first unless a render (here or elsewhere) already has."""
        if session.target.is_file():
            return session.target
        async with self.lock:
            # A request for the same new session waited here while the first one wrote it.
            if not session.target.is_file():
                await to_thread.run_sync(write_sessions, [session], self.toolchain)
                self.rendered += 1
        return session.target


def session_request(programs: dict[str, Program], request: Request) -> SessionRequest:
    """Resolve a path's program and its query into a request, as `build PROGRAM --lang --level --set` would."""
    program, query = request.path_params["program"], request.query_params
    if program not in programs:
        raise NotFound(f"no program {program!r}; ask for one of {', '.join(programs)}")
    problems = [Problem(Location(f"?{name}"), UNKNOWN_QUERY) for name in sorted(set(query) - set(QUERY_NAMES))]
    languages = query.getlist("lang")
    if len(languages) > 1:
        problems.append(Problem(Location("?lang"), "give one language"))
    if problems:
        raise DefinitionError(problems)
    found = programs[program]
    language = languages[0] if languages else found.languages[0]
    if language not in found.languages:
        raise NotFound(f"program {program!r} has no {language!r} version; it has {', '.join(found.languages)}")
    level = query.get("level")
    values = parse_overrides(found, tuple(query.getlist("set")), level, wording=QUERY)
    return SessionRequest(found, language, values, level)


def make_app(
    library: Library, cache_dir: Path, choice: VoiceChoice = VoiceChoice(), jobs: int | None = None
) -> Starlette:
    """Make the service: one toolchain, its engine workers kept for as long as the app runs."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        with make_toolchain(library, cache_dir, jobs=jobs) as toolchain:
            programs = {name: library.find(name) for name in library.builtin_ids()}
            folder = cache_dir / "sessions"
            app.state.renderer = Renderer(library, programs, toolchain, choice, folder, asyncio.Lock())
            yield

    async def mp3(request: Request) -> Response:
        renderer: Renderer = request.app.state.renderer
        session = renderer.session(session_request(renderer.programs, request))
        return FileResponse(await renderer.render(session), media_type="audio/mpeg")

    async def script(request: Request) -> Response:
        renderer: Renderer = request.app.state.renderer
        session = renderer.session(session_request(renderer.programs, request))
        return Response(to_json(session.script), media_type="application/json")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/sessions/{program}.mp3", mp3, methods=["GET", "HEAD"]),
        Route("/sessions/{program}.json", script, methods=["GET", "HEAD"]),
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
    ]
    handlers = {NotFound: not_found, PelvicvoiceError: bad_request}
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)


async def not_found(request: Request, error: Exception) -> Response:
    """Answer 404 for a program or language the library does not have."""
    return JSONResponse({"errors": [str(error)]}, status_code=404)


async def bad_request(request: Request, error: Exception) -> Response:
    """Answer 400 with the command line's messages; 500 when the engine or the cache fails, not the request."""
    assert isinstance(error, PelvicvoiceError)
    status = 500 if isinstance(error, (OutputError, SpeechError)) else 400
    return JSONResponse({"errors": [str(problem) for problem in error.problems]}, status_code=status)


def serve_api(library: Library, cache_dir: Path, host: str, port: int) -> None:
    """Run the service with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(make_app(library, cache_dir), host=host, port=port, log_level="info")
