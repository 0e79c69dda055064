"""Phrase lookup: a program's own phrases first, then its language's catalog."""

from __future__ import annotations

import string
from functools import cache

from pelvicvoice.errors import Problem
from pelvicvoice.model import Catalog, Program, Quick, Repeat, Say, Step, Timed

# Placeholder styles: {rep} digits, {rep:count} counting words, {rep:ordinal} ordinal words,
# {rep:counter} the number with its counter (Korean 한 번, 두 번), and plural forms chosen by
# the language's CLDR plural rules: {quick:plural one=ett raskt løft;other=# raske løft}.
NUMBER_STYLES = ("", "count", "ordinal", "counter")
PLURAL = "plural "


def plural_forms(spec: str) -> dict[str, str] | None:
    """Read `plural one=...;other=...` into {category: text}; None when spec is not a plural."""
    if not spec.startswith(PLURAL):
        return None
    forms = {}
    for part in spec[len(PLURAL) :].split(";"):
        category, _, text = part.partition("=")
        forms[category.strip()] = text.strip()
    return forms


def plural_categories(language: str) -> set[str]:
    """Return the CLDR plural categories of a language, e.g. {'one', 'other'} for English."""
    return set(_plural_rule(language).tags) | {"other"}


def plural_category(language: str, number: float | int) -> str:
    """Return the CLDR plural category of a number in a language ('one', 'other', ...)."""
    return _plural_rule(language)(number)


@cache
def _plural_rule(language: str):
    # Babel's locale data is loaded only for phrases with plural forms: a build that has
    # none does not pay for it.
    from babel import localedata
    from babel.plural import PluralRule

    try:
        return localedata.load(language)["plural_form"]
    except (OSError, KeyError, ValueError):
        return PluralRule({})  # a language CLDR does not know: one form, "other"


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
        what = f"phrase {key!r} in {language!r}"
        problems.extend(
            Problem(step.location, message) for message in template_problems(template, what, language, names)
        )
    return problems


def template_problems(template: str, what: str, language: str, names: set[str]) -> list[str]:
    """List what is wrong with the placeholders of a text (a phrase or a description) in a language."""
    try:
        fields = [(field, spec) for _, field, spec, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as error:
        return [f"{what} has a broken placeholder: {error}"]
    return [problem for field, spec in fields for problem in placeholder_problems(what, field, spec, language, names)]


def placeholder_problems(what: str, field: str, spec: str, language: str, names: set[str]) -> list[str]:
    """List what is wrong with one placeholder: its style in the language, and its name in scope."""
    problems = []
    problem = spec_problem(field, spec, language)
    if problem:
        problems.append(f"{what} {problem}")
    if field not in names:
        known = ", ".join(sorted(names)) or "none"
        problems.append(f"{what} uses {{{field}}}, which is not a parameter or loop name here (known: {known})")
    return problems


def spec_problem(field: str, spec: str, language: str) -> str | None:
    """Say what is wrong with a placeholder's style in a language, or None when it is fine."""
    if spec in NUMBER_STYLES:
        return None
    forms = plural_forms(spec)
    if forms is None:
        styles = ", ".join(f"{{{field}{':' + style if style else ''}}}" for style in NUMBER_STYLES)
        return f"writes {{{field}:{spec}}}; use {styles} or {{{field}:plural one=...;other=...}}"
    categories = plural_categories(language)
    wanted = ", ".join(sorted(categories))
    if set(forms) != categories or not all(forms.values()):
        return f"writes {{{field}:{spec}}}; {language!r} needs one text for each plural form: {wanted}"
    return None


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


def threshold_problems(test: Program, chosen: Program) -> list[Problem]:
    """Check that a self-test's thresholds are the values of the levels it chooses between.

    A parameter `<level>_<name>` of the test (gentle_hold) is the level's value of `<name>`, so
    that what the test says a level asks and what the level's session does are one number.
    """
    if not chosen.levels:
        return [Problem(test.location, f"{chosen.id!r} has no levels to choose from")]
    problems = []
    for level in chosen.levels.values():
        thresholds = {
            name: parameter
            for name, parameter in test.parameters.items()
            if name.startswith(f"{level.name}_") and name[len(level.name) + 1 :] in chosen.parameters
        }
        if not thresholds:
            problems.append(
                Problem(
                    test.location,
                    f"no threshold for level {level.name!r} of {chosen.id!r}; add a parameter such as "
                    f"{level.name}_{next(iter(chosen.parameters))}",
                )
            )
        for name, parameter in thresholds.items():
            setting = name[len(level.name) + 1 :]
            value = level.values.get(setting, chosen.parameters[setting].default)
            if parameter.default != value:
                problems.append(
                    Problem(
                        parameter.location,
                        f"{name} is {parameter.default:g}, but level {level.name!r} of {chosen.id!r} has "
                        f"{setting} {value:g}; make them equal",
                    )
                )
    return problems
