"""Uploading a published folder to a real S3 server (moto's, on 127.0.0.1): incremental, ordered, never half-done."""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import socket
import subprocess
import sys
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from pelvicvoice.build import make_toolchain
from pelvicvoice.errors import OutputError
from pelvicvoice.publishing.episodes import choose_episodes, start_date
from pelvicvoice.publishing.publish import MANIFEST, publish
from pelvicvoice.publishing.upload import upload_site
from pelvicvoice.publishing.upload_plan import RemoteObject, local_files, object_headers, plan_upload

from conftest import CliResult, run_cli, write

BASE = "http://127.0.0.1:8000"
KEY_ID, SECRET = "AKIAPELVICVOICETEST", "pelvicvoice-test-secret-never-printed"
PROGRAM = """\
id: mine
title: {en: Mine}
description: {en: "A short program of my own: squeeze gently."}
source: a physiotherapist
phrases: {en: {go: "Squeeze gently, and hold."}}
sections:
  - title: {en: One}
    steps:
      - say: safety
      - hold: 4
        say: go
      - say: well_done
"""


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch, tmp_path):
    """Fake credentials in the environment, and no developer's ~/.aws or endpoint in the way."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


def start_server() -> tuple[ThreadedMotoServer, str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


@pytest.fixture(scope="module")
def endpoint():
    server, url = start_server()
    yield url
    server.stop()


def new_bucket(endpoint: str) -> str:
    """Make a bucket that keeps every version, so the server itself counts the writes of each key."""
    name = f"site-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket=name)
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture(scope="module")
def publisher(tone_library, tmp_path_factory):
    """Publish quick-squeezes and a program of our own (squeezing gently, or as told), spoken in tones."""
    cache = tmp_path_factory.mktemp("cache")

    def publish_into(out: Path, wording: str = "gently", programs: tuple[str, ...] = ("quick-squeezes",)):
        program = write(out.parent / f"{out.name}-program" / "mine.yaml", PROGRAM.replace("gently", wording))
        episodes, texts = choose_episodes(tone_library, (*programs, str(program)), ("en",), start_date({}))
        with make_toolchain(tone_library, cache, jobs=2) as toolchain:
            publish(episodes, texts, toolchain, out, BASE)
        return out

    return publish_into


def snapshot(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def remote(endpoint: str, bucket: str, prefix: str = "site/") -> dict[str, bytes]:
    client = boto3.client("s3", endpoint_url=endpoint)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    return {key[len(prefix) :]: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def writes(endpoint: str, bucket: str) -> dict[str, int]:
    """How many times the server stored each key (its versions)."""
    versions = boto3.client("s3", endpoint_url=endpoint).list_object_versions(Bucket=bucket).get("Versions", [])
    counts: dict[str, int] = {}
    for version in versions:
        counts[version["Key"].removeprefix("site/")] = counts.get(version["Key"].removeprefix("site/"), 0) + 1
    return counts


def put_keys(lines: list[str], bucket: str) -> list[str]:
    return [line.removeprefix(f"put s3://{bucket}/site/") for line in lines if line.startswith("put ")]


def test_the_plan_puts_what_differs_in_content_or_headers_media_first_and_deletes_only_when_asked(tmp_path):
    site = tmp_path / "site"
    for key, text in {
        "cover.png": "png", "en/a.mp3": "audio", "en/a.vtt": "WEBVTT", "en/feed.xml": "<rss/>",
        "en/index.html": "<p>", "index.html": "<p>index", MANIFEST: "{}", "en/.a.mp3.host.1.ab.part": "half",
    }.items():  # fmt: skip
        write(site / key, text)
    local = {file.key: file for file in local_files(site)}
    assert sorted(local) == ["cover.png", "en/a.mp3", "en/a.vtt", "en/feed.xml", "en/index.html", "index.html"]

    def there(key: str, sha256: str | None = None, headers: tuple[str, str] | None = None) -> RemoteObject:
        file = local[key]
        return RemoteObject(key, file.size, sha256 or file.sha256, *(headers or object_headers(key)))

    remote = {
        "en/a.mp3": there("en/a.mp3"),
        "cover.png": there("cover.png"),
        "en/a.vtt": there("en/a.vtt", sha256="0" * 64),  # same size, other content
        "en/feed.xml": RemoteObject("en/feed.xml", 99),
        "en/index.html": there("en/index.html", headers=("text/html", "max-age=31536000")),
        "en/old.mp3": RemoteObject("en/old.mp3", 5),
    }
    plan = plan_upload(local.values(), remote, delete=False)
    assert [(put.file.key, put.reason) for put in plan.puts] == [
        ("en/a.vtt", "changed"), ("en/feed.xml", "changed"), ("en/index.html", "headers"), ("index.html", "new"),
    ]  # fmt: skip
    assert (plan.unchanged, plan.deletes) == (2, ())
    assert plan_upload(local.values(), remote, delete=True).deletes == ("en/old.mp3",)


def test_upload_writes_the_site_with_its_headers_then_only_what_changed(endpoint, publisher, tmp_path):
    site = publisher(tmp_path / "site")
    bucket = new_bucket(endpoint)
    lines: list[str] = []
    report = upload_site(site, f"s3://{bucket}/site", endpoint, on_step=lines.append)
    local = {key: data for key, data in snapshot(site).items() if key != MANIFEST}
    assert MANIFEST in snapshot(site)
    assert remote(endpoint, bucket) == local
    assert report.written == len(local) == 14 and report.unchanged == 0
    order = put_keys(lines, bucket)
    assert sorted(order) == sorted(local)
    kinds = [Path(key).suffix if Path(key).suffix in (".xml", ".html") else "media" for key in order]
    assert kinds == sorted(kinds, key=["media", ".xml", ".html"].index), order  # feeds and pages last
    assert order[-1] == "index.html"

    client = boto3.client("s3", endpoint_url=endpoint)
    expected = {
        "en/mine.mp3": ("audio/mpeg", "public, max-age=3600"),
        "en/mine.vtt": ("text/vtt; charset=utf-8", "public, max-age=3600"),
        "en/mine.srt": ("application/x-subrip; charset=utf-8", "public, max-age=3600"),
        "en/mine.chapters.json": ("application/json; charset=utf-8", "public, max-age=3600"),
        "cover.png": ("image/png", "public, max-age=3600"),
        "en/feed.xml": ("application/rss+xml; charset=utf-8", "public, max-age=300"),
        "en/index.html": ("text/html; charset=utf-8", "public, max-age=300"),
    }
    for key, headers in expected.items():
        head = client.head_object(Bucket=bucket, Key=f"site/{key}")
        assert (head["ContentType"], head["CacheControl"]) == headers, key
        assert head["Metadata"]["sha256"] == hashlib.sha256(local[key]).hexdigest()

    again = upload_site(site, f"s3://{bucket}/site", endpoint)
    assert (again.written, again.unchanged) == (0, 14)
    assert set(writes(endpoint, bucket).values()) == {1}

    publisher(site, wording="slowly and softly")
    changed = {key for key, data in snapshot(site).items() if key != MANIFEST and local[key] != data}
    mine = {f"en/mine{ext}" for ext in (".mp3", ".vtt", ".srt", ".transcript.json")}
    assert changed == mine | {"en/feed.xml", "en/index.html"}  # not its chapters, the other episode, the cover
    assert "en/quick-squeezes.mp3" not in changed and "cover.png" not in changed
    lines.clear()
    third = upload_site(site, f"s3://{bucket}/site", endpoint, on_step=lines.append)
    assert third.written == len(changed) and third.unchanged == 14 - len(changed)
    assert {key for key, count in writes(endpoint, bucket).items() if count == 2} == changed
    assert set(writes(endpoint, bucket).values()) == {1, 2}
    assert remote(endpoint, bucket) == {key: data for key, data in snapshot(site).items() if key != MANIFEST}


def test_an_interrupted_upload_leaves_the_old_site_whole_and_the_next_one_finishes(publisher, tmp_path):
    server, endpoint = start_server()
    try:
        site = publisher(tmp_path / "site")
        bucket = new_bucket(endpoint)
        upload_site(site, f"s3://{bucket}/site", endpoint)
        old = remote(endpoint, bucket)
        publisher(site, wording="slowly and softly")
        new = {key: data for key, data in snapshot(site).items() if key != MANIFEST}
        changed = {key for key in new if old[key] != new[key]}

        def stop_after_the_first(line: str) -> None:
            server.stop()  # the store goes away mid-upload: a real failure, not a mocked one

        with pytest.raises(OutputError) as failure:
            upload_site(site, f"s3://{bucket}/site", endpoint, on_step=stop_after_the_first)
        assert re.search(r"cannot reach http://127\.0\.0\.1:\d+ \(\w+\); check --endpoint-url", str(failure.value))
    finally:
        server.stop()
    server, endpoint = start_server()  # the same store again (moto keeps its buckets in this process)
    try:
        halfway = remote(endpoint, bucket)
        assert 1 <= sum(halfway[key] != old[key] for key in changed) < len(changed)
        assert all(halfway[key] in (old[key], new[key]) for key in halfway)  # each object whole, old or new
        assert halfway["en/feed.xml"] == old["en/feed.xml"] and halfway["en/index.html"] == old["en/index.html"]
        feed = ET.fromstring(halfway["en/feed.xml"])
        linked = [e.get("url") for e in feed.iter() if e.get("url", "").startswith(BASE)]
        assert len(linked) == 2 * 5  # per episode: enclosure, chapters, three transcripts
        assert all(url.removeprefix(BASE + "/") in halfway for url in linked)
        page = halfway["en/index.html"].decode()
        relative = [link for link in re.findall(r'(?:src|href)="([^"#:]+)"', page)]
        assert len(relative) >= 2 * 2 + 2  # per episode audio and captions; the cover and the feed
        assert all(posixpath.normpath(f"en/{link}") in halfway for link in relative)
        finished = upload_site(site, f"s3://{bucket}/site", endpoint)
        assert 0 < finished.written < len(changed)
        assert remote(endpoint, bucket) == new
    finally:
        server.stop()


def test_a_dry_run_says_what_would_change_and_writes_nothing(endpoint, publisher, tmp_path):
    site = publisher(tmp_path / "site")
    bucket = new_bucket(endpoint)
    upload_site(site, f"s3://{bucket}/site", endpoint)
    publisher(site, wording="slowly and softly")
    lines: list[str] = []
    report = upload_site(site, f"s3://{bucket}/site", endpoint, dry_run=True, on_step=lines.append)
    assert f"would put s3://{bucket}/site/en/mine.mp3 (changed)" in lines
    assert len(lines) == report.written > 0
    assert set(writes(endpoint, bucket).values()) == {1}


def test_delete_removes_what_the_site_no_longer_has_only_when_asked_and_only_at_the_end(endpoint, publisher, tmp_path):
    bucket = new_bucket(endpoint)
    upload_site(publisher(tmp_path / "both"), f"s3://{bucket}/site", endpoint)
    boto3.client("s3", endpoint_url=endpoint).put_object(Bucket=bucket, Key="site/.keep", Body=b"")
    alone = publisher(tmp_path / "alone", programs=())
    kept = upload_site(alone, f"s3://{bucket}/site", endpoint)
    assert kept.deleted == 0 and "en/quick-squeezes.mp3" in remote(endpoint, bucket)
    publisher(alone, wording="slowly and softly", programs=())
    lines: list[str] = []
    pruned = upload_site(alone, f"s3://{bucket}/site", endpoint, delete=True, on_step=lines.append)
    assert pruned.deleted == 5 and pruned.written > 0
    verbs = [line.split()[0] for line in lines]
    assert verbs == ["put"] * pruned.written + ["delete"] * 5
    assert sorted(line.rsplit("/", 1)[1] for line in lines[-5:]) == sorted(
        f"quick-squeezes{ext}" for ext in (".chapters.json", ".mp3", ".srt", ".transcript.json", ".vtt")
    )
    assert set(remote(endpoint, bucket)) == set(snapshot(alone)) - {MANIFEST} | {".keep"}  # hidden: not ours


def test_upload_through_the_command_line_prints_each_object_and_a_summary(endpoint, publisher, tmp_path):
    site = publisher(tmp_path / "site")
    bucket = new_bucket(endpoint)
    result = run_cli("upload", str(site), f"s3://{bucket}/site", "--endpoint-url", endpoint)
    assert result.returncode == 0, result.stderr
    assert (
        len(result.stdout.splitlines()) == 14 and result.stdout.splitlines()[-1] == f"put s3://{bucket}/site/index.html"
    )
    assert re.fullmatch(r"14 objects written \(\d+\.\d MB\), 0 unchanged, 0 deleted, \d+\.\d s\n", result.stderr)
    again = run_cli("upload", str(site), f"s3://{bucket}/site", "--endpoint-url", endpoint)
    assert again.stdout == "" and "0 objects written (0.0 MB), 14 unchanged" in again.stderr
    for shown in (result.stdout, result.stderr, again.stderr):
        assert KEY_ID not in shown and SECRET not in shown


@pytest.fixture
def read_only_user(endpoint):
    """A user that may list and read but not write, with the server checking every request's credentials."""
    iam = boto3.client("iam", endpoint_url=endpoint)
    name = f"reader-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": "*"}
    ]}  # fmt: skip
    iam.put_user_policy(UserName=name, PolicyName="read-only", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    bucket = new_bucket(endpoint)
    _authenticate(endpoint, "0")
    yield bucket, key["AccessKeyId"], key["SecretAccessKey"]
    _authenticate(endpoint, "inf")


def _authenticate(endpoint: str, after: str) -> None:
    """Make moto check credentials and permissions after this many requests (inf: never), through its own API."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=after.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(request).read()


def assert_one_error_line(result, start: str, secrets: tuple[str, ...] = (KEY_ID, SECRET)) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(start), result.stderr
    assert "Traceback" not in result.stderr
    for secret in secrets:
        assert secret not in result.stderr
    return result.stderr


def test_a_bucket_that_refuses_writes_is_one_line_naming_the_object(
    endpoint, publisher, read_only_user, tmp_path, monkeypatch
):
    bucket, key_id, secret = read_only_user
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    site = publisher(tmp_path / "site")
    result = run_cli("upload", str(site), f"s3://{bucket}/site", "--endpoint-url", endpoint)
    line = assert_one_error_line(result, f"error: s3://{bucket}/site/", (key_id, secret))
    assert "access denied: these credentials may not write here" in line
    assert re.match(rf"error: s3://{bucket}/site/\S+\.(mp3|json|vtt|srt|png): ", line)  # media first, no feed


def test_credentials_the_store_refuses_are_one_line_that_never_shows_them(
    endpoint, publisher, read_only_user, tmp_path
):
    bucket, _, _ = read_only_user
    site = publisher(tmp_path / "site")
    result = run_cli("upload", str(site), f"s3://{bucket}/site", "--endpoint-url", endpoint)
    line = assert_one_error_line(result, f"error: s3://{bucket}/site: ")
    assert "the store refused the credentials (InvalidAccessKeyId); check AWS_ACCESS_KEY_ID" in line


def test_a_missing_bucket_an_unreachable_store_and_no_credentials_are_one_line_each(
    endpoint, publisher, tmp_path, monkeypatch
):
    site = publisher(tmp_path / "site")
    missing = run_cli("upload", str(site), "s3://no-such-bucket/site", "--endpoint-url", endpoint)
    assert_one_error_line(missing, "error: s3://no-such-bucket/site: no such bucket; create it, or check the name")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = run_cli("upload", str(site), "s3://bucket/site", "--endpoint-url", f"http://127.0.0.1:{port}")
    assert_one_error_line(
        unreachable, f"error: s3://bucket/site: cannot reach http://127.0.0.1:{port} (EndpointConnectionError)"
    )
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    anonymous = run_cli("upload", str(site), "s3://bucket/site", "--endpoint-url", endpoint)
    assert_one_error_line(anonymous, "error: s3://bucket/site: no credentials found; check AWS_ACCESS_KEY_ID")
    not_s3 = run_cli("upload", str(site), "https://example.org/site")
    assert_one_error_line(not_s3, "error: https://example.org/site: not an object storage address")
    no_site = run_cli("upload", str(tmp_path / "unpublished"), "s3://bucket/site")
    assert_one_error_line(no_site, f"error: {tmp_path / 'unpublished'}: no such folder; publish first")
    monkeypatch.setenv("AWS_PROFILE", "nobody")
    no_profile = run_cli("upload", str(site), "s3://bucket/site", "--endpoint-url", endpoint)
    assert_one_error_line(no_profile, "error: s3://bucket/site: profile 'nobody' not found; check AWS_PROFILE")


@pytest.mark.parametrize(
    ("endpoint_url", "message"),
    [
        ("http://AKIAX:s3cr3t@127.0.0.1:notaport", "cannot list: Custom endpoint `http://127.0.0.1:notaport` was not"),
        ("http://AKIAX:s3cr3t@[::1", "--endpoint-url 'http://[::1' is no URL"),
        ("http://AKIAX:wJal/s3cr3t@[::1", "cannot list: Custom endpoint `http://[::1` was not a valid URI"),
        ("http://AKIAX:p@s3cr3t@[::1", "--endpoint-url 'http://[::1' is no URL"),
    ],
)
def test_a_password_written_into_the_endpoint_url_is_never_shown(publisher, tmp_path, endpoint_url, message):
    site = publisher(tmp_path / "site")
    result = run_cli("upload", str(site), "s3://bucket/site", "--endpoint-url", endpoint_url)
    line = assert_one_error_line(result, "error: s3://bucket/site: ", ("AKIAX", "s3cr3t"))
    assert message in line


def test_without_the_s3_extra_upload_says_which_extra_to_install(publisher, tmp_path):
    site = publisher(tmp_path / "site")
    hidden = "import sys; sys.modules['boto3'] = None; from pelvicvoice.cli import main; main()"
    process = subprocess.run(
        [sys.executable, "-c", hidden, "upload", str(site), "s3://bucket/site"], capture_output=True, text=True
    )
    result = CliResult(process.returncode, process.stdout, process.stderr)
    assert_one_error_line(result, "error: s3://bucket/site: boto3 is not installed; install the S3 client with: pip "
                          "install 'pelvicvoice[s3]'")  # fmt: skip
