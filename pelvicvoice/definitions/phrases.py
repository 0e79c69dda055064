"""Phrase lookup: a program's own phrases first, then its language's catalog."""

from __future__ import annotations

import string

from pelvicvoice.errors import Problem
from pelvicvoice.model import Catalog, Program, Quick, Repeat, Say, Step, Timed

# Placeholder styles: {rep} digits, {rep:count} counting words, {rep:ordinal} ordinal words.
NUMBER_STYLES = ("", "count", "ordinal")


def phrase_template(program: Program, catalog: Catalog, key: str) -> str | None:
    """Return the text of phrase key in the catalog's language, or None when neither has it."""
    return program.phrases.get(catalog.language, {}).get(key) or catalog.phrases.get(key)


def missing_phrase(key: str, language: str) -> str:
    """Say that a phrase has no text in a language, and where to add it."""
    return f"phrase {key!r} has no {language!r} text; add it under phrases: {language}: or to catalogs/{language}.yaml"


def phrase_problems(steps: tuple[Step, ...], program: Program, catalog: Catalog, names: set[str]) -> list[Problem]:
    """Find phrases missing in the catalog's language and placeholders not in scope."""
    problems = []
    language = catalog.language
    for step in steps:
        if isinstance(step, Repeat):
            inner = names | ({step.variable} if step.variable else set())
            problems.extend(phrase_problems(step.steps + step.between, program, catalog, inner))
            continue
        key = step.phrase if isinstance(step, (Say, Timed, Quick)) else None
        if key is None:
            continue
        template = phrase_template(program, catalog, key)
        if template is None:
            problems.append(Problem(step.location, missing_phrase(key, language)))
            continue
        try:
            fields = [(field, spec) for _, field, spec, _ in string.Formatter().parse(template) if field is not None]
        except ValueError as error:
            problems.append(Problem(step.location, f"phrase {key!r} in {language!r} has a broken placeholder: {error}"))
            continue
        for field, spec in fields:
            if spec not in NUMBER_STYLES:
                problems.append(
                    Problem(
                        step.location,
                        f"phrase {key!r} in {language!r} writes {{{field}:{spec}}}; "
                        f"use {{{field}}}, {{{field}:count}} or {{{field}:ordinal}}",
                    )
                )
            if field not in names:
                problems.append(
                    Problem(
                        step.location,
                        f"phrase {key!r} in {language!r} uses {{{field}}}, which is not a parameter or loop name "
                        f"here (known: {', '.join(sorted(names)) or 'none'})",
                    )
                )
    return problems


def feed_texts(catalog: Catalog, feed: str) -> tuple[str, str] | None:
    """Return the title and description of a feed of its own in the catalog's language, if it has them."""
    title, description = (catalog.phrases.get(f"feed_{feed}_{part}") for part in ("title", "description"))
    return (title, description) if title and description else None


def feed_problems(program: Program, catalog: Catalog) -> list[Problem]:
    """Report a feed of its own that the catalog gives no title or description."""
    if program.feed is None or feed_texts(catalog, program.feed) is not None:
        return []
    language, feed = catalog.language, program.feed
    return [
        Problem(
            program.location,
            f"feed {feed!r} has no title or description in {language!r}; "
            f"add feed_{feed}_title and feed_{feed}_description to catalogs/{language}.yaml",
        )
    ]
