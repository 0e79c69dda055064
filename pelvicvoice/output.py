"""The one way pelvicvoice writes a file: to a temporary name beside it, then renamed into place.

A reader never sees half a file, and a run that was killed leaves only temporary files,
which the next write to the same place removes.
"""

from __future__ import annotations

import errno
import glob
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from pelvicvoice.errors import Location, OutputError

_PART_SUFFIX = ".part"
# Names the writing host in temporary names: a process id means something only on its own host.
_HOST = os.uname().nodename.replace(".", "-") or "host"


@contextmanager
def atomic_file(target: Path) -> Iterator[_TargetFile]:
    """Yield a file that replaces target when the block ends, or vanishes if it fails.

    A write that fails is an OutputError naming target; any other error of the block passes
    through as it is.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(target)
        temporary = _part_path(target)
        # O_EXCL with mode 0666: the kernel applies the umask, as open() would for the target
        # itself, so no process-wide umask is read or changed.
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        raise OutputError.at(Location(str(target.parent)), os_problem(error)) from None
    file = os.fdopen(handle, "wb")
    try:
        yield _TargetFile(file, target)
        try:
            file.close()
            os.replace(temporary, target)
        except OSError as error:
            raise OutputError.at(Location(str(target)), os_problem(error)) from None
    finally:
        with suppress(OSError):  # closing after a failure must not hide it
            file.close()
        temporary.unlink(missing_ok=True)


class _TargetFile:
    """The temporary file of a target, open for writing; a failed write names the target."""

    def __init__(self, file: BinaryIO, target: Path):
        self._file = file
        self._target = target

    def write(self, data: bytes) -> int:
        """Write data, or raise an OutputError that says why it could not be written."""
        try:
            return self._file.write(data)
        except OSError as error:
            raise OutputError.at(Location(str(self._target)), os_problem(error)) from None


def write_bytes(target: Path, data: bytes) -> None:
    """Write data to target atomically."""
    with atomic_file(target) as file:
        file.write(data)


def write_if_changed(target: Path, data: bytes) -> bool:
    """Write data unless target already holds exactly it (its time then stays, so hosts see no change)."""
    if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
        return False
    write_bytes(target, data)
    return True


def remove_leftovers(target: Path) -> None:
    """Remove temporary files of target whose writer is gone: killed on this host, its process ended.

    A writer on another host (a shared or network cache) may still be alive: its files stay.
    """
    prefix = f".{target.name}.{_HOST}."
    for leftover in target.parent.glob(glob.escape(prefix) + "*" + _PART_SUFFIX):
        pid = leftover.name[len(prefix) :].split(".")[0]
        if pid.isdigit() and not _process_exists(int(pid)):
            leftover.unlink(missing_ok=True)


def _part_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.{_HOST}.{os.getpid()}.{secrets.token_hex(4)}{_PART_SUFFIX}")


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def os_problem(error: OSError) -> str:
    """Say what a failed write means for the user, and what to do."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full; free some space or write to another folder"
    if error.errno == errno.EFBIG:
        return "the file is larger than this system allows here; write to another folder"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "cannot write here; choose a writable folder"
    return f"cannot write: {error.strerror or error}"
