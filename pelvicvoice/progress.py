"""A progress bar over sessions for the command line."""

from __future__ import annotations

import sys

import click


class ProgressBar:
    """Show a progress bar over sessions on a terminal; stay silent in pipes and logs."""

    def __init__(self, total: int):
        self.total = total
        self.bar = None

    def __enter__(self):
        if sys.stderr.isatty() and self.total > 1:
            self.bar = click.progressbar(length=self.total, label="building", file=sys.stderr)
            self.bar.__enter__()
        return lambda path: self.bar.update(1) if self.bar else None

    def __exit__(self, *exc_info):
        if self.bar:
            self.bar.__exit__(*exc_info)
