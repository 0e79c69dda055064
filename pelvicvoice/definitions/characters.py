"""Characters that no text of a definition may hold, whatever a YAML escape can write."""

from __future__ import annotations

import re

# Only an escape in double quotes ("\x07", "\ud800") writes these: C0 and C1 controls and DEL
# but tab and line feed; halves of characters (UTF-8 cannot write them); U+FFFE and U+FFFF (XML
# cannot hold them); bidirectional controls, which reorder the text around them on a page (the
# "Trojan Source" trick; no language of the library needs them).
_UNWRITABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]")
_KINDS = (
    (0xD800, 0xDFFF, "half a character (a lone surrogate)"),
    (0xFFFE, 0xFFFF, "the noncharacter"),
    (0x202A, 0x202E, "the bidirectional control"),
    (0x2066, 0x2069, "the bidirectional control"),
)


def unwritable_text(text: str) -> str | None:
    """Return what is wrong with a text's first character that may not be written, or None."""
    found = _UNWRITABLE.search(text)
    if found is None:
        return None
    code = ord(found.group())
    kind = next((name for low, high, name in _KINDS if low <= code <= high), "control character")
    return f"text holds {kind} U+{code:04X}; remove it"
