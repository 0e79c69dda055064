"""Versions of installed distributions, read from their metadata folders."""

from __future__ import annotations

import os
import sys


def distribution_version(name: str) -> str:
    """Return the installed version of a distribution, e.g. "imageio-ffmpeg".

    It is read from the name of the distribution's `<name>-<version>.dist-info` folder, found
    on sys.path in order, as importlib.metadata finds it: importing importlib.metadata takes
    longer (~40 ms) than all the work of a warm build, and every build needs these versions.
    """
    prefix = name.replace("-", "_").replace(".", "_").lower() + "-"
    for entry in sys.path:
        try:
            folders = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in folders:
            if folder.lower().startswith(prefix) and folder.endswith(".dist-info"):
                return folder[len(prefix) : -len(".dist-info")]
    from importlib import metadata  # a distribution installed some other way (rare)

    return metadata.version(name)
