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
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from pelvicvoice.errors import Location, OutputError

_PART_SUFFIX = ".part"


@contextmanager
def atomic_file(target: Path) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces target when the block ends, or vanishes if it fails."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(target)
        temporary = _part_path(target)
        # O_EXCL with mode 0666: the kernel applies the umask, as open() would for the target
        # itself, so no process-wide umask is read or changed.
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        raise OutputError.at(Location(str(target.parent)), os_problem(error)) from None
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
        os.replace(temporary, target)
    except OSError as error:
        raise OutputError.at(Location(str(target)), os_problem(error)) from None
    finally:
        temporary.unlink(missing_ok=True)


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
    """Remove temporary files of target whose writing process is gone (it was killed)."""
    prefix = f".{target.name}."
    for leftover in target.parent.glob(glob.escape(prefix) + "*" + _PART_SUFFIX):
        pid = leftover.name[len(prefix) :].split(".")[0]
        if pid.isdigit() and not _process_exists(int(pid)):
            leftover.unlink(missing_ok=True)


def _part_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{_PART_SUFFIX}")


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
