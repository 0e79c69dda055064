"""Profile settings that several engines read the same way: volume, and the neural engines' speed."""

from __future__ import annotations

from typing import Any

from pelvicvoice.definitions.schema import expect_number
from pelvicvoice.definitions.source import ProblemList

MIN_SPEED, MAX_SPEED = 0.5, 2.0  # of the neural engines, which have no words-per-minute rate


def read_volume(problems: ProblemList, data: dict[str, Any]) -> float:
    """Read `volume` (above 0, at most 1), reporting a bad one."""
    volume = expect_number(problems, ("volume",), data.get("volume", 1.0), "volume")
    if volume is not None and not 0 < volume <= 1:
        problems.add(("volume",), "volume must be above 0 and at most 1.0")
    return float(volume or 1.0)


def read_speed_and_volume(problems: ProblemList, data: dict[str, Any]) -> tuple[float, float]:
    """Read a neural voice's `speed` (0.5-2, 1 its own pace) and `volume`, reporting bad ones."""
    speed = expect_number(problems, ("speed",), data.get("speed", 1.0), "speed")
    if speed is not None and not MIN_SPEED <= speed <= MAX_SPEED:
        problems.add(("speed",), f"speed must be from {MIN_SPEED:g} to {MAX_SPEED:g} (1 is the voice's own)")
    return float(speed or 1.0), read_volume(problems, data)
