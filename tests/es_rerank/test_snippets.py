from __future__ import annotations

import pytest

from es_rerank.snippets import one_line, snippet

PASSAGE = (
    'The "try" statement\n*******************\n\n'
    'The "try" statement specifies exception handlers and/or cleanup code for a group of '
    "statements. A later clause may re-raise an exception, or raise a different one with "
    '"raise X from Y". Nothing else here.'
)


def test_the_sentence_sharing_most_query_words_is_shown() -> None:
    shown = snippet(PASSAGE, "raise a different exception", 200)
    assert shown == (
        'A later clause may re-raise an exception, or raise a different one with "raise X from Y".'
        " Nothing else here."
    )


def test_a_short_sentence_goes_on_with_the_next_up_to_the_width() -> None:
    text = "Context Managers. A context manager defines the runtime context. Unrelated."
    assert (
        snippet(text, "context managers", 50)
        == "Context Managers. A context manager defines the..."
    )


def test_heading_underlines_are_never_shown() -> None:
    shown = snippet(PASSAGE, "cleanup handlers", 200)
    assert shown.startswith('The "try" statement specifies') and "*" not in shown


def test_without_any_query_word_the_passage_starts_the_line() -> None:
    assert snippet("first sentence. second one.", "zebra", 12) == "first sen..."


@pytest.mark.parametrize("width", [20, 40, 60, 94])
def test_a_long_sentence_is_cut_near_its_first_match_within_the_width(width: int) -> None:
    sentence = " ".join(f"filler{i}" for i in range(40)) + " the with statement exits here."
    shown = snippet(sentence, "with statement exits", width)
    assert len(shown) <= width
    assert shown.startswith("...filler") or shown.startswith("...the")
    assert "statement" in shown or width < 30


def test_one_line_flattens_whitespace_and_marks_a_cut() -> None:
    assert one_line("a\n\tb   c", 10) == "a b c"
    assert one_line("abcdefghij", 5) == "ab..."
