"""The render-on-request service, run by uvicorn on loopback and asked over real HTTP."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pelvicvoice.build import build_sessions, make_toolchain, session_script
from pelvicvoice.definitions.requests import make_requests
from pelvicvoice.publishing.api import make_app
from pelvicvoice.script.formats import to_json

from conftest import run_cli

QUERY = "lang=nl&level=gentle&set=hold=5&set=reps=3"
ASKED = dict(names=("intensive",), languages=("nl",), assignments=("hold=5", "reps=3"), level="gentle")


class Answer(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes

    def errors(self) -> list[str]:
        return json.loads(self.body)["errors"]


@contextmanager
def running(app) -> Iterator[tuple[int, object]]:
    """Run app with uvicorn on a free loopback port, in a thread; yield the port and the app's state."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        for _ in range(1000):
            if server.started or not thread.is_alive():
                break
            time.sleep(0.01)
        assert server.started
        yield server.servers[0].sockets[0].getsockname()[1], app.state
    finally:
        server.should_exit = True
        thread.join()


def ask(port: int, path: str, method: str = "GET", headers: dict[str, str] | None = None) -> Answer:
    """Send one request with the path exactly as given; read the whole answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


@pytest.fixture
def service(tone_library, tmp_path, monkeypatch):
    log = tmp_path / "engine.log"
    monkeypatch.setenv("FAKE_ENGINE_LOG", str(log))
    with running(make_app(tone_library, tmp_path / "cache", jobs=1)) as (port, state):
        yield port, state, log


def test_the_mp3_is_the_bytes_build_writes_and_the_json_what_show_prints(service, tone_library, tmp_path):
    port, _state, _log = service
    answer = ask(port, f"/sessions/intensive.mp3?{QUERY}")
    assert answer.status == 200 and answer.headers["content-type"] == "audio/mpeg"
    requests = make_requests(tone_library, **ASKED)
    with make_toolchain(tone_library, tmp_path / "build-cache", jobs=1) as toolchain:
        built = build_sessions(requests, toolchain, tmp_path / "out").written[0]
    assert answer.body == built.read_bytes()
    script = ask(port, f"/sessions/intensive.json?{QUERY}")
    assert script.status == 200 and script.headers["content-type"].startswith("application/json")
    assert script.body.decode() == to_json(session_script(requests[0], tone_library))
    assert json.loads(script.body)["language"] == "nl"


def test_head_and_a_byte_range_are_answered_from_the_file(service):
    port, _state, _log = service
    whole = ask(port, "/sessions/kegel-basics.mp3").body
    head = ask(port, "/sessions/kegel-basics.mp3", "HEAD")
    assert head.status == 200 and head.body == b"" and int(head.headers["content-length"]) == len(whole)
    assert head.headers["accept-ranges"] == "bytes"
    part = ask(port, "/sessions/kegel-basics.mp3", headers={"Range": "bytes=100-1099"})
    assert part.status == 206 and part.body == whole[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(whole)}"
    tail = ask(port, "/sessions/kegel-basics.mp3", headers={"Range": "bytes=-10"})
    assert tail.status == 206 and tail.body == whole[-10:]
    beyond = ask(port, "/sessions/kegel-basics.mp3", headers={"Range": f"bytes={len(whole)}-"})
    assert beyond.status == 416
    assert ask(port, "/healthz").status == 200


def test_bad_settings_are_400_with_the_command_lines_messages(service):
    port, _state, _log = service
    answer = ask(port, "/sessions/intensive.mp3?level=hard&set=hold=x&set=holds=5&set=reps")
    assert answer.status == 400
    shown = run_cli("show", "intensive", "--level", "hard", "--set", "hold=x", "--set", "holds=5", "--set", "reps")
    assert shown.returncode == 1
    expected = [
        line.removeprefix("error: ").replace("--set ", "set=").replace("--level ", "level=")
        for line in shown.stderr.splitlines()
    ]
    assert answer.errors() == expected and len(expected) == 4
    assert "set=hold=x: hold must be" in answer.errors()[1]
    beyond = ask(port, "/sessions/intensive.json?set=hold=1000")
    assert beyond.status == 400 and "set=hold=1000: " in beyond.errors()[0]
    unknown = ask(port, "/sessions/intensive.json?voice=x&lang=en&lang=nl")
    assert unknown.status == 400 and unknown.errors() == [
        "?voice: unknown query parameter; use lang, level or set",
        "?lang: give one language",
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/sessions/no-such-program.mp3",
        "/sessions/..%2F..%2Fpyproject.mp3",
        "/sessions/../programs/intensive.mp3",
        "/sessions/%2Fetc%2Fpasswd.json",
        "/sessions/intensive.yaml",
        "/sessions/intensive.mp3?lang=xx",
        "/sessions/kegel-basics.json?lang=all",
        "/sessions/kegel-basics.json?lang=..%2Fen",
    ],
)
def test_unknown_programs_languages_and_paths_are_404(service, path):
    port, _state, _log = service
    answer = ask(port, path)
    assert answer.status == 404


def test_a_program_outside_the_library_is_not_read(service):
    port, _state, _log = service
    answer = ask(port, "/sessions/no-such-program.json")
    assert answer.status == 404 and answer.errors()[0].startswith("no program 'no-such-program'; ask for one of ")
    assert "intensive" in answer.errors()[0]


def test_concurrent_requests_for_one_new_session_render_it_once_and_speak_each_phrase_once(
    service, tone_library, tmp_path
):
    port, state, log = service
    path = f"/sessions/intensive.mp3?{QUERY}"
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: ask(port, path), range(8)))
    assert {answer.status for answer in answers} == {200}
    assert len({answer.body for answer in answers}) == 1
    assert state.renderer.rendered == 1
    spoken = [line for line in log.read_text().splitlines() if line.startswith("speak ")]
    with make_toolchain(tone_library, tmp_path / "build-cache", jobs=1) as toolchain:
        once = build_sessions(make_requests(tone_library, **ASKED), toolchain, tmp_path / "out")
    assert len(spoken) == once.synthesized > 0


def test_a_warm_request_is_answered_from_the_cache_without_an_engine(tone_library, tmp_path, monkeypatch):
    log = tmp_path / "engine.log"
    monkeypatch.setenv("FAKE_ENGINE_LOG", str(log))
    cache = tmp_path / "shared-cache"
    with running(make_app(tone_library, cache, jobs=1)) as (port, state):
        first = ask(port, f"/sessions/intensive.mp3?{QUERY}").body
    assert log.exists() and state.renderer.rendered == 1
    log.unlink()
    # Another instance on the same cache: what the first rendered, it serves without an engine.
    with running(make_app(tone_library, cache, jobs=1)) as (port, state):
        assert ask(port, f"/sessions/intensive.mp3?{QUERY}").body == first
        assert state.renderer.rendered == 0
    assert not log.exists()


@contextmanager
def api_command(cache) -> Iterator[tuple[int, subprocess.Popen]]:
    """Run `pelvicvoice api --port 0` as a user would; yield the port it says it listens on, and the process."""
    env = dict(os.environ, PELVICVOICE_CACHE=str(cache))
    command = [sys.executable, "-m", "pelvicvoice", "api", "--port", "0"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        for line in process.stderr:
            if match := re.search(r"running on http://127\.0\.0\.1:(\d+)", line):
                port = int(match.group(1))
                break
        assert port, "the service did not start"
        yield port, process
    finally:
        process.terminate()
        process.wait(timeout=30)
    # On SIGTERM uvicorn finishes the lifespan (the toolchain and its workers are closed) and then dies of it.
    assert "Application shutdown complete" in process.stderr.read()


def test_the_api_command_serves_what_show_prints(tmp_path):
    with api_command(tmp_path / "cache") as (port, _process):
        assert ask(port, "/healthz").status == 200
        shown = run_cli("show", "kegel-basics", "--lang", "nb", "--format", "json")
        assert ask(port, "/sessions/kegel-basics.json?lang=nb").body.decode() == shown.stdout
        assert ask(port, "/sessions/kegel-basics.json?set=hold=0").status == 400


@pytest.mark.slow
def test_the_api_command_sends_the_bytes_the_build_command_writes(tmp_path):
    with api_command(tmp_path / "api-cache") as (port, _process):
        answer = ask(port, "/sessions/quick-squeezes.mp3?lang=nb&set=reps=3")
    built = run_cli("build", "quick-squeezes", "--lang", "nb", "--set", "reps=3", "-o", str(tmp_path / "out"),
                    cache=tmp_path / "build-cache")  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert answer.status == 200 and answer.body == (tmp_path / "out" / "nb" / "quick-squeezes.mp3").read_bytes()


def peak_memory_mb(pid: int) -> float:
    """Return the most memory a process has held at once (its high-water mark), in MB."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE).group(1)) / 1024


# intensive at the most its parameters allow under the 4-hour limit (one more round is refused)
LONGEST_QUERY = "lang=nb&set=rounds=6&set=reps=30&set=hold=30&set=quick=10&set=rest=30"


@pytest.mark.slow
def test_the_longest_session_a_program_allows_is_rendered_in_bounded_memory(tmp_path):
    with api_command(tmp_path / "cache") as (port, process):
        assert ask(port, "/sessions/intensive.json?" + LONGEST_QUERY.replace("rounds=6", "rounds=7")).status == 400
        script = json.loads(ask(port, f"/sessions/intensive.json?{LONGEST_QUERY}").body)
        assert ask(port, "/sessions/kegel-basics.mp3?lang=nb").status == 200
        baseline = peak_memory_mb(process.pid)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        connection.request("GET", f"/sessions/intensive.mp3?{LONGEST_QUERY}")
        response = connection.getresponse()
        size = sum(len(block) for block in iter(lambda: response.read(1 << 20), b""))
        connection.close()
        peak = peak_memory_mb(process.pid)
        assert ask(port, "/healthz").status == 200
    seconds = script["duration"]
    assert seconds > 3.5 * 3600
    assert response.status == 200 and size > seconds * 64_000 / 8 * 0.95  # 64 kbit/s
    # Its samples alone (int16, 24 kHz) would be 640 MB: the session is rendered and sent in pieces.
    assert peak - baseline < 100, (baseline, peak)


def test_the_engine_workers_live_as_long_as_the_service(service):
    port, state, log = service
    for query in ("lang=en", "lang=nl", "lang=en&level=gentle"):
        assert ask(port, f"/sessions/intensive.mp3?{query}").status == 200
    assert state.renderer.rendered == 3
    loads = [line for line in log.read_text().splitlines() if line.startswith("load ")]
    assert len(loads) == 1


def test_new_speech_is_answered_after_the_engine_workers_are_killed(service):
    port, state, log = service
    assert ask(port, "/sessions/intensive.mp3?lang=en").status == 200
    for pid in {int(line.split()[1]) for line in log.read_text().splitlines() if line.startswith("load ")}:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # Before, the next request that needed new speech waited for ever on the dead pool's lock.
    answer = ask(port, "/sessions/intensive.mp3?lang=nl")
    assert answer.status == 200 and answer.headers["content-type"] == "audio/mpeg"
    assert state.renderer.rendered == 2
    assert ask(port, "/healthz").status == 200


def test_a_client_that_leaves_mid_stream_leaves_the_service_answering(service):
    port, _state, _log = service
    whole = ask(port, "/sessions/kegel-basics.mp3").body
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/sessions/kegel-basics.mp3")
    response = connection.getresponse()
    assert response.read(1000) == whole[:1000]
    connection.sock.close()  # gone before the rest is sent
    connection.close()
    assert ask(port, "/sessions/kegel-basics.mp3").body == whole
    assert ask(port, "/healthz").status == 200


def test_concurrent_requests_for_different_new_sessions_are_each_the_bytes_build_writes(
    service, tone_library, tmp_path
):
    port, state, log = service
    # Each hold and language is counted in phrases no other request needs.
    asked = [("en", 13), ("en", 14), ("nl", 13), ("nl", 17), ("nb", 19), ("zh", 21)]
    paths = [f"/sessions/intensive.mp3?lang={language}&set=hold={hold}" for language, hold in asked]
    with ThreadPoolExecutor(len(paths)) as pool:
        answers = list(pool.map(lambda path: ask(port, path), paths))
    assert [answer.status for answer in answers] == [200] * len(paths)
    assert state.renderer.rendered == len(paths)
    with make_toolchain(tone_library, tmp_path / "build-cache", jobs=1) as toolchain:
        for (language, hold), answer in zip(asked, answers, strict=True):
            requests = make_requests(tone_library, ("intensive",), (language,), (f"hold={hold}",))
            (written,) = build_sessions(requests, toolchain, tmp_path / f"out-{hold}").written
            assert answer.body == written.read_bytes(), (language, hold)


LONG_QUERY = "set=rounds=4&set=reps=20"


def test_a_slow_client_and_half_sent_requests_hold_up_no_one(service):
    port, _state, _log = service
    whole = ask(port, f"/sessions/intensive.mp3?{LONG_QUERY}").body
    assert len(whole) > 8_000_000  # more than the sockets' buffers hold: the server waits on this client
    slow = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    slow.request("GET", f"/sessions/intensive.mp3?{LONG_QUERY}")
    reading = slow.getresponse()
    start = reading.read(1000)
    # Requests whose head never ends, as a slowloris attack sends them.
    half_sent = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(50)]
    for connection in half_sent:
        connection.sendall(b"GET /sessions/intensive.mp3 HTTP/1.1\r\nHost: x\r\n")
    try:
        assert ask(port, "/sessions/kegel-basics.mp3?lang=nl").status == 200  # a new render
        assert ask(port, "/sessions/intensive.json").status == 200
        assert start + reading.read() == whole
    finally:
        slow.close()
        for connection in half_sent:
            connection.close()


def test_two_instances_on_one_cache_answer_the_same_new_session_at_once(tone_library, tmp_path):
    cache = tmp_path / "shared-cache"
    path = f"/sessions/intensive.mp3?{QUERY}"
    # Two services, as two hosts behind a load balancer would be (each its own toolchain), on one cache folder.
    with running(make_app(tone_library, cache, jobs=1)) as (one, _):
        with running(make_app(tone_library, cache, jobs=1)) as (other, _):
            with ThreadPoolExecutor(6) as pool:
                answers = list(pool.map(lambda index: ask((one, other)[index % 2], path), range(6)))
    assert {answer.status for answer in answers} == {200}
    assert len({answer.body for answer in answers}) == 1
    assert [p.name for p in cache.rglob(".*.part")] == []


@pytest.fixture(scope="module")
def fuzzed_service(tone_library, tmp_path_factory):
    with running(make_app(tone_library, tmp_path_factory.mktemp("fuzz-cache"), jobs=1)) as (port, _state):
        yield port


QUERY_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["hold", "reps", "rest", "squeezes"]).flatmap(
        lambda name: st.one_of(
            st.integers(-(10**30), 10**30).map(lambda n: f"{name}={n}"),
            st.sampled_from(["nan", "inf", "-0", "1e308", "0x10", "5.", "", "=", "../x", "%00"]).map(
                lambda v: f"{name}={v}"
            ),
        )
    ),
    st.sampled_from(["en", "nl", "zh", "ko", "nb", "nn", "xx", "EN", "../en", "gentle", "hard"]),
    st.text(min_size=1000, max_size=5000),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    program=st.one_of(st.sampled_from(["intensive", "kegel-basics", "quick-squeezes"]), st.text(max_size=30)),
    query=st.lists(st.tuples(st.sampled_from(["lang", "level", "set", "voice", "lang[]", "\u00e9"]), QUERY_VALUES)),
)
def test_any_query_is_answered_with_the_script_or_its_errors(fuzzed_service, program, query):
    """Whatever a client asks for, the answer is the script, a 400 with messages or a 404: never a 500."""
    path = f"/sessions/{urllib.parse.quote(program, safe='')}.json?{urllib.parse.urlencode(query)}"
    answer = ask(fuzzed_service, path)
    assert answer.status in (200, 400, 404, 414, 431), (path, answer)
    if answer.status == 200:
        assert json.loads(answer.body)["program"] in ("intensive", "kegel-basics", "quick-squeezes")
    elif answer.status in (400, 404) and answer.headers.get("content-type") == "application/json":
        assert answer.errors() and all(isinstance(error, str) and error for error in answer.errors())


def test_a_very_long_url_is_refused_and_the_service_answers_on(fuzzed_service):
    # uvicorn (h11) reads at most 16 KB of a request's head: past that it answers 400 and closes,
    # often before the client has sent the rest, which the client then sees as a reset.
    try:
        status = ask(fuzzed_service, "/sessions/intensive.json?set=" + "9" * 200_000).status
    except ConnectionError:
        status = None
    assert status in (None, 400, 414, 431)
    assert ask(fuzzed_service, "/sessions/intensive.json?set=hold=" + "9" * 10_000).status == 400
    assert ask(fuzzed_service, "/healthz").status == 200
