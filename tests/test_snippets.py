"""Snippets: which window of a passage is shown, and how its markup is cleaned."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from citesearch.search.snippets import _LONG, ELLIPSIS, SEPARATOR, SNIPPET_CHARS, clean_markup, make_snippet


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


# -- the short cuts give what cleaning the whole passage gives ------------------------


def reference_snippet(text, matches, weights=None, size=SNIPPET_CHARS):
    """make_snippet done the straightforward way: mark every match, run every cleaning
    pass over the whole passage, fold it, read the spans back, and choose the window."""
    from citesearch.search import snippets as s

    matches = sorted(m for m in matches if m[1] > m[0])[: s._OPEN_LAST - s._OPEN_BASE + 1]
    weight = s._term_weights(matches, weights)
    text = s._PRIVATE.sub(" ", text)
    pieces, pos = [], 0
    for i, (start, end, _) in enumerate(matches):
        if start >= pos:  # of overlapping matches, the first
            pieces += [text[pos:start], chr(s._OPEN_BASE + i), text[start:end], s._CLOSE]
            pos = end
    pieces.append(text[pos:])
    marked = "".join(pieces)
    marked = s._LINES.sub(s._line, marked)
    marked = s._LITERAL.sub(":", marked)
    marked = s._ROLE.sub("", marked)
    marked = s._TICKS.sub(s._ticks, marked)
    marked = s._LINK.sub(s._link, marked)
    marked = s._AUTOLINK.sub(r"\g<url>", marked)
    marked = s._STARS.sub(s._stars, marked)
    marked = s._UNDERS.sub(s._unders, marked)
    marked = s._ESCAPED.sub(r"\g<char>", marked)
    parts = s._SPLIT_MARKS.split(s._fold(marked))
    found, at, opened = [], len(parts[0]), None
    for i in range(1, len(parts), 2):
        if parts[i] != s._CLOSE:
            opened = (at, matches[ord(parts[i]) - s._OPEN_BASE][2])
        elif opened is not None:
            if at > opened[0]:
                found.append((opened[0], at, opened[1]))
            opened = None
        at += len(parts[i + 1])
    clean = "".join(parts[::2]).translate(s._UNMASK)
    start, end = s._place(clean, found, s._cluster(found, weight, size), size)
    window = clean[start:end]
    stripped = window.lstrip().removeprefix(SEPARATOR.lstrip())
    start += len(window) - len(stripped)
    window = stripped.rstrip().removesuffix(SEPARATOR.rstrip()).rstrip()
    end = start + len(window)
    head = ELLIPSIS if start > 0 else ""
    tail = ELLIPSIS if end < len(clean) else ""
    spans = tuple((a - start + len(head), b - start + len(head)) for a, b, _ in found if a >= start and b <= end)
    return head + window + tail, spans


MARKUP = st.sampled_from(
    [
        "*", "**", "_", "__", "`", "``", "[", "]", "](", "][", "(", ")", "<", ">", ":", "::", ":`", ":func:`", "#",
        "## ", "- ", "> ", "=====", "```", ".. note:: ", "[1]: ", "\\", "\\*", "<http://x.org/a>",
        "http://x.org/coffee", "[x](y)", '[x](y "t")', "[ref][1]", "__init__", "a_b", "*coffee*", "_coffee_",
        "**the bean**", "x*coffee*", "x_roast_",
    ]
)
TEXT = st.sampled_from(["coffee", "roast", "bean", "Coffee", "Roast", "the", "of", "A", "Dr.", "e.g.", "x", "42"])
SPACE = st.sampled_from([" ", " ", " ", " ", "\n", "\n\n", "  ", "\t", ". ", ", ", "\n \n", "\r\n", "\xa0"])
OTHER = st.sampled_from(["\ue000", "\uf8ff", "é", "—", "•", "”", "."])
# A word with markup on it: emphasis, code, links, a marker after a word character...
WRAPPED = st.builds(
    lambda before, word, after: before + word + after,
    st.sampled_from(["*", "**", "_", "__", "`", "``", "[", "![", "\\*", "x*", "x_", ":role:`", "<http://"]),
    TEXT,
    st.sampled_from(["*", "**", "_", "__", "`", "``", "](y)", "][1]", "]", "::", ":", ">", "`_", "*x", "_x"]),
)


@st.composite
def passages(draw, markup=True):
    """A text of words, white space and (with ``markup``) markup, and matches:
    the whole words as a tokenizer finds them, or any spans, often ones that start or
    end at a markup character. Half the texts have single spaces between their pieces."""
    kinds = [TEXT]
    if markup:  # a few kinds of markup in one text (with many, one of them hides the others)
        kinds.append(st.sampled_from(draw(st.lists(st.one_of(MARKUP, WRAPPED, OTHER), min_size=1, max_size=4))))
    pieces = draw(st.lists(st.one_of(*kinds), max_size=80))
    if draw(st.booleans()):
        text = " ".join(pieces)
    else:
        text = "".join(p for piece in pieces for p in (piece, draw(st.one_of(SPACE, st.just("")))))
    if draw(st.booleans()):
        matches = matches_of(text, {"coffee": 0, "roast": 1, "bean": 2, "the": 3})
    else:
        n = len(text)
        edges = [i for i, c in enumerate(text) if not c.isalnum()] or [0]
        position = st.one_of(st.integers(0, n), st.sampled_from(edges), st.sampled_from(edges).map(lambda i: i + 1))
        spans = st.lists(st.tuples(position, position, st.integers(0, 3)), max_size=12)
        matches = [(min(a, n), min(max(a, b), n), t) for a, b, t in draw(spans)]
    return text, matches


WEIGHTS = st.sampled_from([None, {0: 0.5, 1: 1.0, 2: 2.0, 3: 0.1}, np.array([2.0, 0.3, 0.3, 0.1]), {1: 3.0}])


@settings(max_examples=2000, deadline=None)
@given(passages(), WEIGHTS, st.integers(20, 400))
@example(("a *coffee* b", []), None, 20)
@example(("a _coffee_ b", []), None, 20)
@example(("x*coffee* y", [(1, 9, 0)]), None, 20)  # the marker before "*" is no word character
@example(("x_coffee_ y", [(1, 9, 0)]), None, 20)
@example(("the _coffee_", [(5, 11, 0)]), None, 20)
@example(("see [ref][1] now", []), None, 20)
@example(('see [x](y "t") now', []), None, 20)
@example(("A literal block follows::", []), None, 40)
@example(("say <http://x.org> now", []), None, 20)
@example(("a \\*b now", []), None, 20)
@example(("= a\n- coffee", [(7, 13, 0)]), None, 20)
@example(("a ***coffee*** b", []), None, 20)
@example(("# coffee roast bean of", []), None, 20)  # a heading's line break, at the end
@example(("[x](coffee) bean", [(5, 13, 0)]), None, 20)  # a match's start goes with the link target
@example(("aaaa bbbb cccc coffee", [(15, 21, 0)]), None, 20)  # one character longer than the snippet
@example(("coffee abcdefgh roast", [(0, 6, 0), (16, 21, 1)]), None, 20)  # matches one character too far apart
def test_make_snippet_is_what_cleaning_the_whole_passage_gives(passage, weights, size):
    text, matches = passage
    size = max(size, -(-len(text) // _LONG))  # a longer text is cleaned only near its window
    assert make_snippet(text, matches, weights, size) == reference_snippet(text, matches, weights, size)


@settings(max_examples=500, deadline=None)
@given(passages(markup=False), WEIGHTS, st.integers(20, 400))
def test_text_without_markup_too(passage, weights, size):
    text, matches = passage
    size = max(size, -(-len(text) // _LONG))
    assert make_snippet(text, matches, weights, size) == reference_snippet(text, matches, weights, size)
