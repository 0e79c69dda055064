"""Numbers in sentences follow each language's grammar (CLDR plural rules through Babel)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pelvicvoice.definitions.phrases import plural_categories, plural_category
from pelvicvoice.listing import number_sentences

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
LANGUAGES = ("en", "nl", "nb", "nn", "zh", "ko")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_number_sentence_matches_its_golden_file(library, language):
    """Every phrase with a number, at 1, 2, 5 and its maximum; regenerate with scripts/update-golden."""
    golden = (GOLDEN / f"numbers.{language}.txt").read_text(encoding="utf-8").splitlines()
    assert number_sentences(library, language) == golden


def sentence(library, language, prefix):
    return next(line.split(": ", 1)[1] for line in number_sentences(library, language) if line.startswith(prefix))


@pytest.mark.parametrize(
    ("language", "prefix", "expected"),
    [
        ("en", "intensive plan quick=1", "then, without letting go, 1 quick lift, then"),
        ("en", "intensive plan quick=2", "2 quick lifts"),
        ("en", "kegel-basics set_intro reps=1", "5 seconds, once."),
        ("en", "intensive plan rounds=1", "One round of 8"),
        ("nb", "intensive plan quick=1", "så ett raskt løft uten å slippe"),
        ("nn", "intensive plan quick=1", "så eitt raskt løft utan å sleppe"),
        ("nn", "intensive plan quick=5", "så 5 raske løft"),
        ("nl", "maintenance plan reps=1", "Eén krachtige aanspanning, die je 6 seconden vasthoudt."),
        ("ko", "intensive rep_of reps=30", "서른 번 중 첫 번째."),
        ("ko", "kegel-basics rep_of reps=5", "다섯 번 중 첫 번째."),
    ],
)
def test_the_reviewed_cases_read_right(library, language, prefix, expected):
    assert expected in sentence(library, language, prefix)


def test_plural_categories_come_from_cldr():
    assert plural_categories("en") == plural_categories("nn") == {"one", "other"}
    assert plural_categories("ko") == plural_categories("zh") == {"other"}
    assert [plural_category("nb", n) for n in (0, 1, 2, 5)] == ["other", "one", "other", "other"]
    assert plural_categories("xx") == {"other"}, "a language CLDR does not know has one form"
