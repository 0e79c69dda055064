"""The output layer: every file is written whole or not at all, with the user's umask, leftovers cleaned."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pelvicvoice.errors import OutputError
from pelvicvoice.output import atomic_file, write_bytes, write_if_changed


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "episode.mp3"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_file(target) as file:
        file.write(b"half of the new")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["episode.mp3"]


def test_the_file_appears_only_when_complete(tmp_path):
    target = tmp_path / "deep" / "feed.xml"
    with atomic_file(target) as file:
        file.write(b"<rss/>")
        assert not target.exists()
        assert [path.suffix for path in target.parent.iterdir()] == [".part"]
    assert target.read_bytes() == b"<rss/>"
    assert [path.name for path in target.parent.iterdir()] == ["feed.xml"]


def test_files_get_the_mode_the_umask_allows(tmp_path):
    """Checked in a child: the umask belongs to the whole process."""
    code = (
        "import os, sys; from pathlib import Path; from pelvicvoice.output import write_bytes\n"
        "os.umask(int(sys.argv[2], 8)); write_bytes(Path(sys.argv[1]), b'x')\n"
        "print(oct(os.stat(sys.argv[1]).st_mode & 0o777))"
    )
    for umask, mode in (("022", "0o644"), ("077", "0o600"), ("002", "0o664")):
        target = tmp_path / f"file-{umask}"
        result = subprocess.run([sys.executable, "-c", code, str(target), umask], capture_output=True, text=True)
        assert result.stdout.strip() == mode, result.stderr


def test_leftovers_of_a_dead_writer_are_removed_and_a_live_ones_kept(tmp_path):
    target = tmp_path / "intensive.mp3"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = os.uname().nodename.replace(".", "-")
    dead_leftover = tmp_path / f".intensive.mp3.{host}.{dead.stdout.strip()}.0a1b2c3d.part"
    live_leftover = tmp_path / f".intensive.mp3.{host}.{os.getpid()}.0a1b2c3d.part"
    other_file = tmp_path / f".kegel-basics.mp3.{host}.{dead.stdout.strip()}.0a1b2c3d.part"
    other_host = tmp_path / f".intensive.mp3.elsewhere.{dead.stdout.strip()}.0a1b2c3d.part"
    for path in (dead_leftover, live_leftover, other_file, other_host):
        path.write_bytes(b"partial")
    write_bytes(target, b"whole")
    assert not dead_leftover.exists()
    assert live_leftover.exists() and other_file.exists() and other_host.exists()


def test_an_unchanged_file_is_left_alone(tmp_path):
    target = tmp_path / "index.html"
    assert write_if_changed(target, b"<p>1</p>")
    os.utime(target, ns=(1, 1))
    assert not write_if_changed(target, b"<p>1</p>")
    assert target.stat().st_mtime_ns == 1
    assert write_if_changed(target, b"<p>2</p>") and target.read_bytes() == b"<p>2</p>"


def test_a_folder_that_cannot_be_made_is_an_output_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError) as raised:
        write_bytes(blocker / "en" / "feed.xml", b"<rss/>")
    assert str(raised.value).startswith(f"{blocker / 'en'}: cannot write")


def test_an_error_that_is_not_a_write_passes_through_unchanged(tmp_path):
    target = tmp_path / "episode.mp3"
    with pytest.raises(FileNotFoundError), atomic_file(target) as file:
        file.write(b"some frames")
        (tmp_path / "no-such-encoder").open()
    assert not target.exists() and not list(tmp_path.iterdir())
