"""The static server on loopback: HEAD, byte ranges and MIME types, as podcast apps use them."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import threading

import pytest

from pelvicvoice.publishing.serve import byte_range, make_server

from conftest import run_cli


@pytest.fixture()
def server(tmp_path):
    (tmp_path / "en").mkdir()
    audio = bytes(range(256)) * 40  # 10240 bytes
    (tmp_path / "en" / "kegel-basics.mp3").write_bytes(audio)
    (tmp_path / "en" / "feed.xml").write_text("<rss/>", encoding="utf-8")
    httpd = make_server(tmp_path, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd.server_address[1], audio
    httpd.shutdown()
    httpd.server_close()


def request(port, method, path, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def test_whole_file_with_accept_ranges_and_mime_type(server):
    port, audio = server
    response, body = request(port, "GET", "/en/kegel-basics.mp3")
    assert response.status == 200 and body == audio
    assert response.getheader("Accept-Ranges") == "bytes"
    assert response.getheader("Content-Type") == "audio/mpeg"
    assert response.getheader("Content-Length") == str(len(audio))
    feed, _ = request(port, "GET", "/en/feed.xml")
    assert feed.getheader("Content-Type") == "application/rss+xml; charset=utf-8"


def test_range_request_gets_206_and_exactly_those_bytes(server):
    port, audio = server
    response, body = request(port, "GET", "/en/kegel-basics.mp3", {"Range": "bytes=100-199"})
    assert response.status == 206
    assert body == audio[100:200]
    assert response.getheader("Content-Range") == f"bytes 100-199/{len(audio)}"
    assert response.getheader("Content-Length") == "100"
    suffix, tail = request(port, "GET", "/en/kegel-basics.mp3", {"Range": "bytes=-16"})
    assert suffix.status == 206 and tail == audio[-16:]
    open_end, rest = request(port, "GET", "/en/kegel-basics.mp3", {"Range": "bytes=10000-"})
    assert open_end.status == 206 and rest == audio[10000:]


def test_head_answers_headers_only_and_bad_ranges_get_416(server):
    port, audio = server
    head, body = request(port, "HEAD", "/en/kegel-basics.mp3")
    assert head.status == 200 and body == b"" and head.getheader("Content-Length") == str(len(audio))
    outside, _ = request(port, "GET", "/en/kegel-basics.mp3", {"Range": f"bytes={len(audio)}-"})
    assert outside.status == 416 and outside.getheader("Content-Range") == f"bytes */{len(audio)}"
    missing, _ = request(port, "GET", "/en/nothing.mp3")
    assert missing.status == 404


def test_byte_range_parsing():
    assert byte_range(None, 100) is None
    assert byte_range("bytes=0-0", 100) == (0, 0)
    assert byte_range("bytes=90-500", 100) == (90, 99)
    assert byte_range("bytes=0-1,5-6", 100) is None
    with pytest.raises(ValueError):
        byte_range("bytes=100-", 100)


def test_serving_a_missing_folder_is_a_clear_error(tmp_path):
    result = run_cli("serve", str(tmp_path / "site"))
    assert result.returncode == 1
    assert result.stderr == f"error: {tmp_path / 'site'}: no such folder; publish first or give the folder to serve\n"


def test_serve_command_binds_to_loopback_by_default(tmp_path):
    (tmp_path / "index.html").write_text("<h1>pelvicvoice</h1>", encoding="utf-8")
    command = [sys.executable, "-m", "pelvicvoice", "serve", str(tmp_path), "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = re.search(r"http://([\d.]+):(\d+)/", line)
        assert match and match.group(1) == "127.0.0.1", line
        response, body = request(int(match.group(2)), "GET", "/index.html", {"Range": "bytes=0-3"})
        assert response.status == 206 and body == b"<h1>"
        assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/en/..%2f..%2fsecret.txt",
        "/en/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/..\\secret.txt",
        "//secret.txt",
        "/en/../../secret.txt",
    ],
)
def test_nothing_outside_the_folder_is_served(tmp_path, path):
    site = tmp_path / "site"
    (site / "en").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("the secret", encoding="utf-8")
    httpd = make_server(site, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        response, body = request(httpd.server_address[1], "GET", path)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert response.status in (400, 403, 404) and b"the secret" not in body
