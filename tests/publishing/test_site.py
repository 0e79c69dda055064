"""The published site in a real browser: headless Chromium, driven over its DevTools protocol."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from pelvicvoice.publishing.serve import make_server

from conftest import run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="headless Chromium is not installed (Debian package 'chromium'; .ci/run installs it)"
    ),
]


class DevTools:
    """A minimal DevTools-protocol client: send a command, wait for its answer."""

    def __init__(self, url: str):
        import websocket

        self.socket = websocket.create_connection(url, timeout=30)
        self.next_id = 0

    def call(self, method: str, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message["result"]

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")


@pytest.fixture(scope="module")
def served_site(tmp_path_factory, built):
    out = tmp_path_factory.mktemp("site")
    result = run_cli(
        "publish",
        "kegel-basics",
        "--lang",
        "en",
        "--base-url",
        "http://127.0.0.1/",
        "-o",
        str(out),
        cache=built["cache"],
    )
    assert result.returncode == 0, result.stderr
    server = make_server(out, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    profile = Path(tempfile.mkdtemp(prefix="pelvicvoice-chromium-"))
    command = [
        CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required", "--remote-debugging-port=0", f"--user-data-dir={profile}",
        "about:blank",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline, "Chromium did not start"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = next(target for target in targets if target["type"] == "page")
        yield DevTools(page["webSocketDebuggerUrl"])
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(profile, ignore_errors=True)


def test_page_plays_the_episode_and_chapters_seek_the_player(served_site, browser):
    script = json.loads(run_cli("show", "kegel-basics", "--format", "json").stdout)
    browser.call("Page.enable")
    browser.call("Page.navigate", url=f"http://127.0.0.1:{served_site}/en/")
    browser.evaluate(
        "new Promise(r => { const ready = () => document.readyState === 'complete' ? r() : setTimeout(ready, 50);"
        " ready(); })"
    )
    state = browser.evaluate(
        """(async () => {
          const audio = document.querySelector('audio');
          if (audio.readyState < 1) {
            await new Promise((resolve, reject) => {
              audio.addEventListener('loadedmetadata', resolve, {once: true});
              audio.addEventListener('error', () => reject(new Error('audio error ' + audio.error.code)), {once: true});
              audio.load();
            });
          }
          const buttons = document.querySelectorAll('.chapters button');
          buttons[1].click();
          await new Promise(resolve => setTimeout(resolve, 300));
          return {duration: audio.duration, time: audio.currentTime, start: parseFloat(buttons[1].dataset.start),
                  chapters: Array.from(buttons).map(b => b.textContent),
                  transcript: document.querySelectorAll('.transcript li').length};
        })()"""
    )
    assert abs(state["duration"] - script["duration"]) < 0.1, state
    assert state["chapters"] == [chapter["title"] for chapter in script["chapters"]]
    assert state["start"] == script["chapters"][1]["start"]
    assert state["start"] <= state["time"] < state["start"] + 1.5, state
    assert state["transcript"] == len(script["cues"])
