"""How results look: text and Markdown rendering of hand-built results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citesearch.search.formats import member_id, render_json, render_markdown, render_text
from citesearch.search.results import Citation, PassageRef, Result, SearchResults, SourceRef

FILE = SourceRef("notes/roast.md", "corpus/notes/roast.md", "Roasting *notes*")
MEMBER = SourceRef("d1", "corpus/collection.jsonl", "Doc [one]")
TRICKY = (
    "Roast at 5 * 3 minutes; keep snake_case_names, *stars*, [7] and [a](b), <b> & &amp; `tick` C:\\dir\\* ~60 done."
)


def result(rank: int, citation: int, source: SourceRef, ordinal: int, snippet: str, highlights, score: float) -> Result:
    passage = PassageRef(f"{source.id}#{ordinal}", source.id, ordinal, 0, len(snippet), snippet)
    return Result(
        rank=rank,
        score=score,
        citation=citation,
        passage=passage,
        source=source,
        snippet=snippet,
        highlights=highlights,
    )


def word(text: str, w: str) -> tuple[int, int]:
    start = text.index(w)
    return start, start + len(w)


FOUND = SearchResults(
    query="roast_level *beans*",
    method="hybrid",
    results=[
        result(1, 1, FILE, 0, TRICKY, (word(TRICKY, "Roast"),), 0.5),
        result(2, 2, MEMBER, 0, "# Not a heading: roast beans", ((17, 22), (23, 28)), 0.25),
        result(3, 1, FILE, 2, "1. Roast first…", ((3, 8),), 0.125),
    ],
    sources=[Citation(1, FILE, 2), Citation(2, MEMBER, 1)],
)


def test_a_collection_member_is_told_by_its_id():
    assert member_id(MEMBER) == "d1"
    assert member_id(FILE) is None  # its id is the tail of its path
    assert member_id(SourceRef("a.txt", "a.txt", "A")) is None  # a file named as it is
    assert member_id(SourceRef("a.txt", "/abs/dir/a.txt", "A")) is None  # a file named by absolute path


def test_text_output():
    assert render_text(FOUND, color=False, width=64) == (
        "  1. [1] Roasting *notes*  score 0.5000\n"
        "     corpus/notes/roast.md · passage 0\n"
        "     Roast at 5 * 3 minutes; keep snake_case_names, *stars*, [7]\n"
        "     and [a](b), <b> & &amp; `tick` C:\\dir\\* ~60 done.\n"
        "\n"
        "  2. [2] Doc [one]  score 0.2500\n"
        "     corpus/collection.jsonl · doc d1 · passage 0\n"
        "     # Not a heading: roast beans\n"
        "\n"
        "  3. [1] Roasting *notes*  score 0.1250\n"
        "     corpus/notes/roast.md · passage 2\n"
        "     1. Roast first…\n"
        "\n"
        "Sources\n"
        "[1] Roasting *notes* — corpus/notes/roast.md (2 results)\n"
        "[2] Doc [one] — corpus/collection.jsonl · doc d1 (1 result)\n"
    )


def test_text_output_in_color_bolds_the_highlights():
    out = render_text(FOUND, color=True, width=64)
    assert "\x1b[1mroast\x1b[0m \x1b[1mbeans\x1b[0m" in out
    assert "corpus/collection.jsonl · doc d1 · passage 0" in out


def test_markdown_output_escapes_once_and_only_what_markdown_needs():
    assert render_markdown(FOUND) == (
        "**roast_level \\*beans\\***\n"
        "\n"
        "1. **Roast** at 5 * 3 minutes; keep snake_case_names, \\*stars\\*, [7] and [a\\](b), \\<b> & \\&amp; "
        "\\`tick\\` C:\\dir\\\\\\* \\~60 done. [1]\n"
        "2. \\# Not a heading: **roast** **beans** [2]\n"
        "3. 1\\. **Roast** first… [1]\n"
        "\n"
        "**Sources**\n"
        "\n"
        "[1] Roasting \\*notes\\* — `corpus/notes/roast.md` (2 results)  \n"
        "[2] Doc [one] — `corpus/collection.jsonl` · doc `d1` (1 result)  \n"
    )


@pytest.mark.parametrize(
    ("snippet", "highlights", "expected"),
    [
        ("plain words", (), "plain words"),
        ("- not a list", (), "\\- not a list"),
        ("> not a quote", (), "\\> not a quote"),
        ("[1]: http://not.a.definition", (), "\\[1]: http://not.a.definition"),
        ("__init__ and _x_ and a_b", (), "\\_\\_init\\_\\_ and \\_x\\_ and a_b"),
        ("2*3*4", (), "2\\*3\\*4"),
        ("x_roast_y", ((2, 7),), "x\\_**roast**\\_y"),
        ("*roast*", ((1, 6),), "\\***roast**\\*"),
        ("roast beans", ((0, 5), (5, 6), (6, 11)), "**roast beans**"),  # touching spans: one bold run
    ],
)
def test_markdown_snippets(snippet, highlights, expected):
    found = SearchResults("q", "bm25", [result(1, 1, FILE, 0, snippet, highlights, 1.0)], [Citation(1, FILE, 1)])
    assert render_markdown(found).splitlines()[2] == f"1. {expected} [1]"


def test_markdown_code_spans_hold_backticks():
    odd = SourceRef("we`ird", "dir/odd.jsonl", "Odd")
    found = SearchResults("q", "bm25", [result(1, 1, odd, 0, "text", (), 1.0)], [Citation(1, odd, 1)])
    assert render_markdown(found).splitlines()[-1] == "[1] Odd — `dir/odd.jsonl` · doc ``we`ird`` (1 result)  "


def test_no_results():
    empty = SearchResults("nothing *here*", "bm25")
    assert render_text(empty) == "No results for 'nothing *here*'.\n"
    assert render_markdown(empty) == "**nothing \\*here\\***\n\nNo results.\n"


def test_json_keeps_the_source_id():
    data = json.loads(render_json(FOUND))
    assert data["sources"][1]["id"] == "d1" and data["sources"][1]["path"] == "corpus/collection.jsonl"


def test_a_searched_collection_member_shows_its_id(built_index: Path, tiny_corpus: Path):
    from citesearch.search.searcher import Index

    with Index.open(built_index) as index:
        found = index.search("plates", k=1)
    out = render_text(found, color=False, width=100)
    path = (tiny_corpus / "collection.jsonl.gz").as_posix()
    assert f"{path} · doc d1 · passage 0" in out
    assert f"[1] Plate tectonics — {path} · doc d1 (1 result)" in out
    assert f"`{path}` · doc `d1` (1 result)" in render_markdown(found)
