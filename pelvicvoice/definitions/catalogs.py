"""Load the shared per-language phrase catalogs."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pelvicvoice.definitions.schema import (
    IDENTIFIER,
    LANGUAGE,
    check_keys,
    expect_list,
    expect_mapping,
    expect_phrase,
    expect_text,
)
from pelvicvoice.definitions.source import Document, ProblemList, load_language_files
from pelvicvoice.errors import Location
from pelvicvoice.model import Catalog


def builtin_catalog_dir() -> Path:
    """Return the folder of the catalogs shipped with the package."""
    return Path(str(resources.files("pelvicvoice") / "catalogs"))


def load_catalogs(folder: Path | None = None) -> dict[str, Catalog]:
    """Load every `<language>.yaml` catalog in folder (default: the built-in ones)."""
    if folder is None:
        return load_language_files(builtin_catalog_dir(), "pelvicvoice/catalogs", parse_catalog)
    return load_language_files(folder, str(folder), parse_catalog)


def parse_catalog(document: Document) -> Catalog:
    """Turn a catalog document into a Catalog, or raise every problem found."""
    problems = ProblemList(document)
    data = expect_mapping(problems, (), document.data, "a catalog file") or {}
    check_keys(problems, (), data, ("language", "name", "phrases"), ("counting", "ordinals", "counters"), "a catalog")
    language = data.get("language")
    if not isinstance(language, str) or not LANGUAGE.match(language):
        problems.add(("language",), f"language {language!r} is not a code such as en, nl, nb")
    name = expect_text(problems, ("name",), data.get("name"), "name") if "name" in data else ""
    phrases: dict[str, str] = {}
    for key, text in (expect_mapping(problems, ("phrases",), data.get("phrases", {}), "phrases") or {}).items():
        if not isinstance(key, str) or not IDENTIFIER.match(key):
            problems.add(("phrases", key), f"phrase key {key!r} must be lowercase letters, digits and '_'")
            continue
        checked = expect_phrase(problems, ("phrases", key), text, f"phrase {key!r}")
        if checked is not None:
            phrases[key] = checked
    counting = _word_list(problems, data, "counting")
    ordinals = _word_list(problems, data, "ordinals")
    counters = _word_list(problems, data, "counters")
    problems.raise_if_any()
    return Catalog(language, name or language, phrases, counting, ordinals, Location(document.name, 1, 1), counters)


def _word_list(problems: ProblemList, data: dict, key: str) -> tuple[str, ...]:
    """Read an optional list of number words (for 1, 2, 3, ...)."""
    if key not in data:
        return ()
    words = expect_list(problems, (key,), data[key], key) or []
    return tuple(
        expect_text(problems, (key, index), word, f"{key} word {index + 1}") or "" for index, word in enumerate(words)
    )
