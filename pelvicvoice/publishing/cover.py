"""The podcast cover: a square PNG drawn from numbers alone, the same on every machine."""

from __future__ import annotations

import struct
import zlib

import numpy as np

COVER_SIZE = 1400  # Apple's minimum; square, RGB
_BACKGROUND = np.array([38, 70, 83], dtype=np.uint8)
_RINGS = (np.array([42, 157, 143], dtype=np.uint8), np.array([233, 196, 106], dtype=np.uint8))


def cover_pixels(size: int = COVER_SIZE) -> np.ndarray:
    """Draw the cover: calm rings (a pelvic floor lifting) on a dark teal ground."""
    y, x = np.mgrid[0:size, 0:size]
    radius = np.hypot(x - size / 2, y - size * 0.55) / size
    image = np.empty((size, size, 3), dtype=np.uint8)
    image[:] = _BACKGROUND
    for index, (inner, outer) in enumerate(((0.16, 0.22), (0.28, 0.31), (0.36, 0.38))):
        image[(radius >= inner) & (radius < outer)] = _RINGS[index % 2]
    return image


def png_bytes(pixels: np.ndarray) -> bytes:
    """Encode an RGB pixel array as a PNG file."""
    height, width, _ = pixels.shape
    rows = np.concatenate([np.zeros((height, 1), dtype=np.uint8), pixels.reshape(height, width * 3)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
        + chunk(b"IEND", b"")
    )
