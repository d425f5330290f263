"""Snippets: which window of a passage is shown, and how its markup is cleaned."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from citesearch.search.snippets import ELLIPSIS, SEPARATOR, SNIPPET_CHARS, clean_markup, make_snippet


def matches_of(text: str, words: dict[str, int]) -> list[tuple[int, int, int]]:
    """(start, end, term) of each whole-word, case-blind occurrence of ``words``."""
    found = []
    for m in re.finditer(r"\w\w+", text):
        term = words.get(m.group().lower())
        if term is not None:
            found.append((m.start(), m.end(), term))
    return found


def shown(snippet: str, spans) -> list[str]:
    return [snippet[s:e] for s, e in spans]


CANCER, IMMUNOTHERAPY, PANCREATIC = 0, 1, 2
WORDS = {"cancer": CANCER, "cancers": CANCER, "immunotherapy": IMMUNOTHERAPY, "pancreatic": PANCREATIC}
FILLER = "Patients and doctors weigh the options together over many visits. "
# Common terms together early, the rare one alone much later.
TRIAL = (
    "Immunotherapy changed cancer care. Immunotherapy helps some cancers more than others. "
    + FILLER * 6
    + "For pancreatic disease the benefit has been small so far. "
    + FILLER * 6
)


# -- the window: the rarest matched terms ---------------------------------------------


def test_without_weights_the_most_distinct_terms_win():
    snippet, spans = make_snippet(TRIAL, matches_of(TRIAL, WORDS))
    assert snippet.startswith("Immunotherapy changed cancer care.")
    assert "pancreatic" not in snippet
    assert shown(snippet, spans) == ["Immunotherapy", "cancer", "Immunotherapy", "cancers"]


def test_with_idf_weights_the_rarest_term_wins_the_window():
    idf = {CANCER: 0.2, IMMUNOTHERAPY: 0.3, PANCREATIC: 2.5}
    snippet, spans = make_snippet(TRIAL, matches_of(TRIAL, WORDS), idf)
    assert "pancreatic" in shown(snippet, spans)
    # The window starts at the rare term's sentence, and is cut on both sides.
    assert snippet.startswith(ELLIPSIS + "For pancreatic disease") and snippet.endswith(ELLIPSIS)
    assert len(snippet) <= SNIPPET_CHARS + 2 * len(ELLIPSIS)


def test_weights_may_be_an_array_indexed_by_term_and_missing_terms_count_least():
    idf = np.array([0.2, 0.3, 2.5])
    snippet, _ = make_snippet(TRIAL, matches_of(TRIAL, WORDS), idf)
    assert "pancreatic" in snippet
    # A term without a weight still counts, for less than any weighted one.
    snippet, _ = make_snippet(TRIAL, matches_of(TRIAL, WORDS), {PANCREATIC: 0.5})
    assert "pancreatic" in snippet


def test_two_rare_terms_outweigh_one_slightly_rarer():
    text = "alpha beta here. " + "x " * 400 + "gamma alone. " + "y " * 400
    words = {"alpha": 0, "beta": 1, "gamma": 2}
    snippet, spans = make_snippet(text, matches_of(text, words), {0: 2.0, 1: 2.0, 2: 3.0})
    assert shown(snippet, spans) == ["alpha", "beta"]


def test_the_number_of_matches_breaks_ties():
    text = "one lonely term here. " + "x " * 300 + "term and term and term. " + "y " * 300
    snippet, spans = make_snippet(text, matches_of(text, {"term": 0}), {0: 1.0})
    assert shown(snippet, spans) == ["term", "term", "term"]
    assert snippet.startswith(ELLIPSIS)


def test_a_short_text_is_shown_whole_with_all_its_matches():
    text = "Pancreatic cancer and immunotherapy."
    snippet, spans = make_snippet(text, matches_of(text, WORDS), {PANCREATIC: 3.0})
    assert snippet == text
    assert shown(snippet, spans) == ["Pancreatic", "cancer", "immunotherapy"]


def test_a_cluster_near_the_start_is_shown_from_the_start():
    text = "A Short History of Coffee\n\nCoffee drinking spread from Ethiopia. " + "More words follow here. " * 30
    snippet, spans = make_snippet(text, matches_of(text, {"history": 0, "coffee": 1}), {0: 2.0, 1: 0.5})
    assert snippet.startswith("A Short History of Coffee — Coffee drinking spread")
    assert snippet.endswith(ELLIPSIS) and not snippet.endswith(" " + ELLIPSIS)
    assert shown(snippet, spans) == ["History", "Coffee", "Coffee"]


# -- long texts and no matches --------------------------------------------------------


def test_a_long_text_gives_a_window_around_the_match_with_ellipses():
    text = "x " * 300 + "the tuberculosis case " + "y " * 300
    start = text.index("tuberculosis")
    snippet, spans = make_snippet(text, [(start, start + 12, 0)], size=100)
    assert snippet.startswith(ELLIPSIS) and snippet.endswith(ELLIPSIS)
    assert len(snippet) <= 100 + 2
    assert shown(snippet, spans) == ["tuberculosis"]


def test_a_very_long_text_is_cleaned_only_near_the_match():
    para = "Filler **words** with `code` and [a link](https://example.org/coffee) in it. "
    text = ("\n\n".join([para * 5] * 400)) + "\n\nHere is the rare *wombat* at last.\n\n" + para * 50
    start = text.index("wombat")
    snippet, spans = make_snippet(text, [(start, start + 6, 0)])
    assert shown(snippet, spans) == ["wombat"]
    assert "*" not in snippet and "`" not in snippet and "https" not in snippet
    assert snippet.startswith(ELLIPSIS) and snippet.endswith(ELLIPSIS)
    assert len(snippet) <= SNIPPET_CHARS + 2


def test_a_long_paragraph_without_line_breaks():
    words = [f"w{i}" for i in range(3000)]
    text = " ".join(words)
    start = text.index(" w2500 ") + 1
    snippet, spans = make_snippet(text, [(start, start + 5, 0)])
    assert shown(snippet, spans) == ["w2500"]
    assert snippet.startswith(ELLIPSIS + "w") and snippet.endswith(ELLIPSIS)
    # Cut between words, never inside one.
    assert all(re.fullmatch(r"w\d+", w) for w in snippet.strip(ELLIPSIS).split())


def test_no_matches_shows_the_start():
    text = "# Title\n\nFirst sentence here. " + "More text. " * 60
    snippet, spans = make_snippet(text, [])
    assert spans == ()
    assert snippet.startswith("Title — First sentence here. More text.")
    assert snippet.endswith(ELLIPSIS)
    assert make_snippet("", []) == ("", ())
    assert make_snippet("   \n\n  ", []) == ("", ())


# -- cleaning markup, spans kept right ------------------------------------------------


def test_markdown_markup_is_dropped_and_spans_follow():
    text = (
        "# The Chemistry of Roasting\n\n"
        "Sugars split with an audible **first crack**. See [the roasting guide](https://example.com/roasting)"
        " and `roast_level`.\n\n"
        "## What roast level changes\n"
        "Acids break down as the roast darkens."
    )
    snippet, spans = make_snippet(text, matches_of(text, {"crack": 0, "roasting": 1, "roast": 2}))
    assert snippet == (
        "The Chemistry of Roasting — Sugars split with an audible first crack. See the roasting guide and "
        "roast_level. What roast level changes — Acids break down as the roast darkens."
    )
    # The match inside the URL went with the URL; the others point at their words.
    assert shown(snippet, spans) == ["Roasting", "crack", "roasting", "roast", "roast"]


def test_rest_markup_is_dropped():
    text = (
        "=====================\nGrowing Coffee Plants\n=====================\n\n"
        "Coffee is the seed of the genus *Coffea*. See ``literal`` and :func:`os.path` and `the guide <http://x.org>`_.\n\n"
        "Where coffee grows\n------------------\n\n"
        ".. note:: hidden directive\n\n"
        "In the bean belt::\n\n    indented code\n"
    )
    snippet, spans = make_snippet(text, matches_of(text, {"coffea": 0, "coffee": 1}))
    assert snippet == (
        "Growing Coffee Plants — Coffee is the seed of the genus Coffea. See literal and os.path and the guide. "
        "Where coffee grows — In the bean belt: indented code"
    )
    assert shown(snippet, spans) == ["Coffee", "Coffee", "Coffea", "coffee"]


def test_ordinary_text_is_not_damaged():
    text = "5 * 3 = 15 and 2*3*4; C# and F#; snake_case_name, __init__ and _private; a < b > c; 50% off!"
    assert clean_markup(text) == text
    assert clean_markup("Costs [7] and [8], see (a) and [b].") == "Costs [7] and [8], see (a) and [b]."
    assert clean_markup("C:\\Users\\me and a\\b") == "C:\\Users\\me and a\\b"
    assert clean_markup("> 50% of patients\n+ 3 more") == "> 50% of patients + 3 more"


def test_emphasis_links_code_and_escapes():
    assert clean_markup("**bold *nested* end**, ***both***, __strong words__, _em_") == (
        "bold nested end, both, strong words, em"
    )
    assert clean_markup("![alt text](pic.png) <https://x.org> [ref][1]\n\n[1]: https://x.org") == (
        "alt text https://x.org ref"
    )
    # Code keeps its content as written, markup characters and all.
    assert clean_markup("run `*args*` or ``a_b_c`` and `[x](y)`") == "run *args* or a_b_c and [x](y)"
    assert clean_markup("\\*not emphasis\\* and 1\\. item") == "*not emphasis* and 1. item"


def test_highlights_inside_markup_point_at_the_words():
    text = "Use **Coffea arabica** or `arabica_beans` or [arabica](http://arabica.org), *arabica*."
    snippet, spans = make_snippet(text, matches_of(text, {"arabica": 0, "arabica_beans": 1}))
    assert snippet == "Use Coffea arabica or arabica_beans or arabica, arabica."
    assert shown(snippet, spans) == ["arabica", "arabica_beans", "arabica", "arabica"]


def test_private_use_characters_in_the_text_do_not_confuse_highlights():
    text = "bullet \uf0b7 item \ue000 with coffee \uf8ff here"
    snippet, spans = make_snippet(text, matches_of(text, {"coffee": 0, "item": 1}))
    assert snippet == "bullet item with coffee here"
    assert shown(snippet, spans) == ["item", "coffee"]


# -- headings and line breaks ---------------------------------------------------------


def test_a_heading_is_set_off_from_the_next_sentence():
    text = "Side Effects: What Immunotherapy Can Do to Your Body\n\nImmunotherapy is often well tolerated."
    assert clean_markup(text) == (
        "Side Effects: What Immunotherapy Can Do to Your Body" + SEPARATOR + "Immunotherapy is often well tolerated."
    )
    assert SEPARATOR == " — "


def test_line_breaks_inside_a_paragraph_and_after_a_sentence_are_spaces():
    # Hard-wrapped text reads on; a paragraph that ends a sentence needs no separator.
    assert clean_markup("a line that wraps\nin the middle.\n\nNext paragraph.") == (
        "a line that wraps in the middle. Next paragraph."
    )
    assert clean_markup('He said "yes."\n\nThen (see above)\n\nMore') == 'He said "yes." Then (see above) — More'
    # A Markdown heading needs no blank line after it.
    assert clean_markup("## Heading\nText follows.") == "Heading — Text follows."


def test_lists_read_as_bullets():
    assert (
        clean_markup("Ingredients:\n\n- milk\n- *sugar*\n* coffee\n\nDone")
        == "Ingredients: • milk • sugar • coffee — Done"
    )


def test_a_separator_is_not_left_at_the_snippet_edge():
    text = "x " * 200 + "Heading\n\nThe wombat sentence. " + "y " * 200
    start = text.index("wombat")
    snippet, spans = make_snippet(text, [(start, start + 6, 0)], size=60)
    assert shown(snippet, spans) == ["wombat"]
    assert not snippet.lstrip(ELLIPSIS).startswith("—") and not snippet.rstrip(ELLIPSIS).endswith("—")


# -- properties -----------------------------------------------------------------------

PIECES = st.sampled_from(
    [
        "coffee",
        "roast",
        "bean",
        "the",
        "of",
        " ",
        " ",
        "\n",
        "\n\n",
        "*",
        "**",
        "_",
        "`",
        "``",
        "[",
        "]",
        "(",
        ")",
        "#",
        "## ",
        "- ",
        "=====",
        "<",
        ">",
        "http://x.org/coffee",
        ":",
        ".",
        "\\",
        "\ue000",
        "é",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=80), st.integers(20, 200))
def test_highlights_always_point_at_matched_words(pieces, size):
    text = "".join(pieces)
    words = {"coffee": 0, "roast": 1, "bean": 2}
    snippet, spans = make_snippet(text, matches_of(text, words), {0: 0.5, 1: 1.0, 2: 2.0}, size=size)
    assert all(w.lower() in words for w in shown(snippet, spans))
    assert list(spans) == sorted(spans) and all(s < e for s, e in spans)
    assert len(snippet) <= size + 2 * len(ELLIPSIS) + 2  # a separator may stretch the fold a little
    assert "\n" not in snippet and "  " not in snippet


def test_citation_marks_are_not_reference_links():
    from citesearch.search.snippets import clean_markup

    text = "the immune attack [2][6], and [ref][1] too"
    assert clean_markup(text) == "the immune attack [2][6], and ref too"
