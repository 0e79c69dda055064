"""Small checks shared by every YAML schema: keys, types, names."""

from __future__ import annotations

import difflib
import re
from typing import Any

from pelvicvoice.definitions.source import DocPath, ProblemList

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# Ids become file names: portable on every file system, no separators, no dot files.
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def type_name(value: Any) -> str:
    """Name a YAML value's type the way a user writes it."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def check_keys(
    problems: ProblemList,
    path: DocPath,
    mapping: dict,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    what: str = "",
) -> bool:
    """Report unknown keys (with the closest known one) and missing ones; return True if clean."""
    known = required + optional
    clean = True
    for key in mapping:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
            problems.add(path + (key,), f"unknown key {key!r}{' in ' + what if what else ''}; {hint}")
            clean = False
    for key in required:
        if key not in mapping:
            problems.add(path, f"missing required key {key!r}{' in ' + what if what else ''}; add it")
            clean = False
    return clean


def expect_mapping(problems: ProblemList, path: DocPath, value: Any, what: str) -> dict | None:
    """Return value if it is a mapping, else report it."""
    if isinstance(value, dict):
        return value
    problems.add(path, f"{what} must be a mapping (key: value lines), not {type_name(value)}")
    return None


def expect_list(problems: ProblemList, path: DocPath, value: Any, what: str) -> list | None:
    """Return value if it is a non-empty list, else report it."""
    if isinstance(value, list) and value:
        return value
    if isinstance(value, list):
        problems.add(path, f"{what} is empty; add at least one entry")
    else:
        problems.add(path, f"{what} must be a list (lines starting with '- '), not {type_name(value)}")
    return None


def expect_text(problems: ProblemList, path: DocPath, value: Any, what: str) -> str | None:
    """Return value if it is non-blank text, else report it."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, str):
        problems.add(path, f"{what} is empty; write the text")
    else:
        problems.add(path, f"{what} must be text, not {type_name(value)}; quote it if needed")
    return None


def _yaml_float(value: float) -> str:
    """Write .inf, -.inf and .nan as YAML writes them."""
    return ".nan" if value != value else ("-" if value < 0 else "") + ".inf"


def expect_number(problems: ProblemList, path: DocPath, value: Any, what: str) -> float | int | None:
    """Return value if it is a finite number, else report it."""
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value == value
        and abs(value) != float("inf")
    ):
        return value
    if isinstance(value, float) and not isinstance(value, bool):
        # .inf, .nan, and numbers too large for a float (1e400), which YAML reads as .inf
        problems.add(path, f"{what} must be a finite number, not {_yaml_float(value)}")
    else:
        problems.add(path, f"{what} must be a number, not {type_name(value)}")
    return None


def expect_language_texts(problems: ProblemList, path: DocPath, value: Any, what: str) -> dict[str, str]:
    """Return a {language: text} mapping, reporting bad codes and empty texts."""
    mapping = expect_mapping(problems, path, value, what)
    if mapping is None:
        return {}
    texts: dict[str, str] = {}
    if not mapping:
        problems.add(path, f"{what} is empty; give at least one language, e.g. 'en: ...'")
    for language, text in mapping.items():
        if isinstance(language, str) and " " in language.strip() and text is None:
            # {en: Rest, then lift.} is two keys: "en: Rest" and "then lift."
            problems.add(path + (language,), f"a comma ends a text inside {{...}}; quote the whole {what} text")
            continue
        if not isinstance(language, str) or not LANGUAGE.match(language):
            problems.add(path + (language,), f"{language!r} is not a language code; use a code such as en, nl, nb")
            continue
        checked = expect_text(problems, path + (language,), text, f"{what} in {language!r}")
        if checked is not None:
            texts[language] = checked
    return texts


def expect_phrase(problems: ProblemList, path: DocPath, value: Any, what: str) -> str | None:
    """Return value if it is text with something to say (a letter or a digit), else report it."""
    text = expect_text(problems, path, value, what)
    if text is not None and not any(char.isalnum() for char in text):
        problems.add(path, f"{what} {text!r} has nothing to say; write words")
        return None
    return text
