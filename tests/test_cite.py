"""citesearch cite (issue 15): claims, support verdicts, output formats, --check, the API."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import fails, invoke, ok

from citesearch.search.claims import split_claims, split_sentences

DOCS = {
    "trial.md": (
        "# A vaccine trial\n\n"
        "In 2019, the Northwind trial gave pembrolizumab to 120 patients. About 40% of them responded. "
        "The drug did not cause liver damage.\n\n"
        "Patients were followed for three years after the trial ended."
    ),
    "beans.txt": (
        "Coffee beans\n\n"
        "Arabica beans contain less caffeine than robusta beans. Roasting darkens the beans and drives off water."
    ),
    "glaciers.txt": "Glaciers\n\nGlaciers retreat as the climate warms. Vatnajokull is the largest glacier in Iceland.",
}


@pytest.fixture(scope="module")
def cite_index(tmp_path_factory) -> Path:
    from citesearch.corpus import load_documents
    from citesearch.indexer.builder import build_index

    root = tmp_path_factory.mktemp("cite")
    corpus = root / "corpus"
    for name, text in DOCS.items():
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus / name).write_text(text, encoding="utf-8")
    build_index(load_documents([corpus]), root / "index")
    return root / "index"


def cite(index: Path, text: str, **kw):
    from citesearch.search.searcher import Index

    with Index.open(index) as idx:
        return idx.cite(text, **kw)


def one(index: Path, text: str):
    found = cite(index, text)
    assert len(found.claims) == 1, [c.text for c in found.claims]
    return found.claims[0]


# -- verdicts ------------------------------------------------------------------------------------


def test_a_claim_the_text_states_is_supported_by_its_source(cite_index):
    claim = one(cite_index, "The Northwind trial gave pembrolizumab to 120 patients.")
    assert claim.status == "supported"
    assert claim.citations == (1,)
    assert claim.evidence[0].source.id == "trial.md"
    assert "pembrolizumab to 120 patients" in claim.evidence[0].passage.text
    assert claim.support >= 0.7


def test_a_claim_nothing_mentions_is_unsupported(cite_index):
    claim = one(cite_index, "Volcanoes erupt under the sea near Japan.")
    assert claim.status == "unsupported"
    assert claim.citations == () and claim.evidence == ()


@pytest.mark.parametrize("number", ["150", "12", "2018"])
def test_a_changed_number_is_not_supported(cite_index, number):
    text = "In 2019, the Northwind trial gave pembrolizumab to 120 patients.".replace(
        "2019" if number == "2018" else "120", number
    )
    claim = one(cite_index, text)
    assert claim.status == "unsupported"
    assert repr(number) in claim.reason
    assert claim.closest is not None and claim.closest.source.id == "trial.md"  # found, but lacks the number


def test_number_words_count_as_their_digits(cite_index):
    assert one(cite_index, "Patients were followed for 3 years after the trial ended.").status == "supported"
    assert one(cite_index, "Patients were followed for 5 years after the trial ended.").status == "unsupported"


@pytest.mark.parametrize(
    "text, name",
    [
        ("The Northwind trial gave nivolumab to 120 patients.", "nivolumab"),  # a drug's stem, lowercase
        ("The Southwind trial gave pembrolizumab to 120 patients.", "Southwind"),  # a capitalized name
    ],
)
def test_a_swapped_name_is_not_supported(cite_index, text, name):
    claim = one(cite_index, text)
    assert claim.status == "unsupported"
    assert repr(name) in claim.reason


def test_negation_must_agree(cite_index):
    assert one(cite_index, "The drug did not cause liver damage.").status == "supported"
    flipped = one(cite_index, "The drug did cause liver damage.")
    assert flipped.status == "unsupported" and "negation" in flipped.reason
    negated = one(cite_index, "Glaciers do not retreat as the climate warms.")
    assert negated.status == "unsupported" and "negation" in negated.reason


def test_support_is_the_documented_formula(cite_index):
    """Coverage and agreement written out from the index's document frequencies: one word
    the index lacks ('swiftly') costs its idf share and breaks two of the four pairs."""
    from citesearch.search import citing
    from citesearch.search.searcher import Index

    with Index.open(cite_index) as idx:
        [s] = citing.best_support(idx, ["Glaciers retreat swiftly as the climate warms."])
        n = idx.reader.n_passages
        term = idx.analyzer.lookup(["glaciers", "retreat", "climate", "warms"])
        df = {form: int(idx.reader.indptr[t + 1] - idx.reader.indptr[t]) for form, t in term.items()}

    def idf(d):
        return math.log((n + 1) / (d + 1)) + 1

    g, r, c, w, new = idf(df["glaciers"]), idf(df["retreat"]), idf(df["climate"]), idf(df["warms"]), idf(0)
    coverage = (g + r + c + w) / (g + r + c + w + new)
    agreement = ((g + r) + (c + w)) / ((g + r) + (r + new) + (new + c) + (c + w))
    assert s.missing == () and not s.negation
    assert s.coverage == pytest.approx(coverage, abs=1e-4)
    assert s.agreement == pytest.approx(agreement, abs=1e-4)
    assert s.score == pytest.approx(citing.COVERAGE_WEIGHT * coverage + (1 - citing.COVERAGE_WEIGHT) * agreement,
                                    abs=2e-4)


def test_citations_number_sources_in_order_of_first_appearance(cite_index):
    found = cite(cite_index, (
        "Glaciers retreat as the climate warms. Arabica beans contain less caffeine than robusta beans. "
        "Vatnajokull is the largest glacier in Iceland."
    ))
    assert [c.citations for c in found.claims] == [(1,), (2,), (1,)]
    assert [(s.citation, s.source.id, s.claims) for s in found.sources] == [
        (1, "glaciers.txt", 2), (2, "beans.txt", 1)
    ]


def test_max_citations_and_min_support(cite_index):
    text = "Arabica beans contain less caffeine than robusta beans."
    assert one(cite_index, text).status == "supported"
    from citesearch.search.searcher import Index

    with Index.open(cite_index) as idx:
        strict = idx.cite(text, min_support=1.0)
        assert strict.claims[0].status == ("supported" if strict.claims[0].support >= 1.0 else "unsupported")
        assert len(idx.cite(text, max_citations=1).claims[0].citations) <= 1


# -- claims and Markdown ----------------------------------------------------------------------------

MARKDOWN = """---
title: Notes
---
# Glaciers and coffee

Glaciers retreat as the [climate warms](https://example.org/climate). **Arabica** beans contain less caffeine
than robusta beans.

- Roasting darkens the beans and drives off water
- Patients were followed for three years.

```python
# Glaciers retreat as the climate warms.
print("Not a claim at all.")
```

| claim | true |
|---|---|
| Glaciers retreat as the climate warms. | yes |

Setext heading with enough words
--------------------------------

    Indented code is not a claim either.

> Vatnajokull is the largest glacier in Iceland. Is it?
"""


def test_markdown_structure_is_not_taken_for_claims():
    claims = [MARKDOWN[c.start : c.end] for c in split_claims(MARKDOWN)]
    assert claims == [
        "Glaciers retreat as the [climate warms](https://example.org/climate).",
        "**Arabica** beans contain less caffeine\nthan robusta beans.",
        "Roasting darkens the beans and drives off water",
        "Patients were followed for three years.",
        "Vatnajokull is the largest glacier in Iceland.",
    ]


def test_offsets_slice_the_input_exactly(cite_index):
    text = "\ufeff" + MARKDOWN.replace("\n", "\r\n") + "\nÉté: glaciers retreat as the climate warms — fast.\n"
    found = cite(cite_index, text)
    assert len(found.claims) == 6
    for c in found.claims:
        assert c.text == text[c.start : c.end]
        assert c.text == c.text.strip()
    assert json.loads(json.dumps(found.to_dict()))["claims"][5]["text"].startswith("Été")


def test_claims_split_as_passages_do():
    """The claim splitter is the passages' Punkt, with its abbreviations."""
    from citesearch.corpus.passages import _sentence_splitter
    from citesearch.search.claims import sentence_splitter

    text = ("Dr. Smith met Prof. Jones at 5 p.m. on Jan. 3. They discussed the U.S. results, e.g. the trial. "
            "It ended (N.L.L.), they said! Did it? Yes.")
    assert list(sentence_splitter().span_tokenize(text)) == list(_sentence_splitter().span_tokenize(text))


def test_questions_and_lead_ins_are_not_claims():
    text = "Does coffee contain caffeine? The beans contain these compounds:\n\n- caffeine\n- water and oils\n"
    assert [text[s.start : s.end] for s in split_claims(text)] == ["water and oils"]
    assert len(split_sentences(text).sentences) == 4


def test_markers_and_the_source_list_are_read():
    text = ("Glaciers retreat as the climate warms [1], and beans darken [2, 3].\n\nSources\n\n"
            "1. Glaciers — `glaciers.txt`\n[2] Beans https://example.org/beans.html\n3\n\nA title on its own line\n")
    parsed = split_sentences(text)
    assert [m.numbers for m in parsed.sentences[0].markers] == [(1,), (2, 3)]
    assert [(e.number, e.title, e.paths, e.urls) for e in parsed.sources] == [
        (1, "Glaciers", ("glaciers.txt",), ()),
        (2, "Beans", (), ("https://example.org/beans.html",)),
        (3, "A title on its own line", (), ()),
    ]


# -- the command ------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "draft.md") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_markdown_output_marks_each_claim(cite_index, tmp_path):
    draft = write(tmp_path, "# Draft\n\nGlaciers retreat as the climate warms. Glaciers are made of chocolate.\n")
    result = invoke("cite", draft, "--index", cite_index)
    assert result.exit_code == 1
    assert result.stdout.startswith(
        "# Draft\n\nGlaciers retreat as the climate warms [1]. Glaciers are made of chocolate [unsupported].\n"
    )
    assert "**Sources**\n\n[1] Glaciers — `" in result.stdout
    assert "2 claims: 1 supported, 1 unsupported" in result.stderr


def test_exit_status_zero_when_all_supported_and_stdin(cite_index):
    result = ok("cite", "-", "--index", cite_index, "--format", "json",
                input="Glaciers retreat as the climate warms.\n")
    assert json.loads(result.stdout)["claims"][0]["status"] == "supported"


def test_json_schema_is_exact(cite_index, tmp_path):
    draft = write(tmp_path, "Glaciers retreat as the climate warms. Glaciers are made of chocolate.")
    data = json.loads(invoke("cite", draft, "--index", cite_index, "--format", "json").stdout)
    assert set(data) == {"claims", "sources"}
    supported, unsupported = data["claims"]
    keys = {"text", "start", "end", "status", "support", "citations", "evidence"}
    assert set(supported) == keys and set(unsupported) == keys
    assert unsupported["status"] == "unsupported" and unsupported["citations"] == [] and unsupported["evidence"] == []
    [ev] = supported["evidence"]
    assert set(ev) == {"citation", "score", "passage", "source", "snippet"}
    assert set(ev["passage"]) == {"id", "doc_id", "ordinal", "start", "end", "text"}
    assert set(ev["source"]) == {"id", "path", "title"}
    assert ev["citation"] == supported["citations"][0] == 1
    assert data["sources"] == [{"citation": 1, **ev["source"], "claims": 1}]
    text = draft.read_text(encoding="utf-8")
    assert all(c["text"] == text[c["start"] : c["end"]] for c in data["claims"])


def test_api_equals_cli_json(cite_index, tmp_path):
    text = "Arabica beans contain less caffeine than robusta beans. The drug caused liver damage in 1999."
    draft = write(tmp_path, text)
    cli_json = json.loads(invoke("cite", draft, "--index", cite_index, "--format", "json").stdout)
    assert cite(cite_index, text).to_dict() == cli_json


def test_text_format_says_why(cite_index, tmp_path):
    draft = write(tmp_path, "The Northwind trial gave pembrolizumab to 150 patients.")
    result = invoke("cite", draft, "--index", cite_index, "--format", "text")
    assert result.exit_code == 1
    assert "UNSUPPORTED  lacks '150'" in result.stdout
    assert "closest:" in result.stdout and "trial.md" in result.stdout


def test_empty_input_has_no_claims(cite_index, tmp_path):
    result = ok("cite", write(tmp_path, ""), "--index", cite_index, "--format", "json")
    assert json.loads(result.stdout) == {"claims": [], "sources": []}
    assert "0 claims" in result.stderr


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a binary file, not text"),
        (b"caf\xe9 au lait is served hot.", "not UTF-8 text (byte 3 cannot be decoded)"),
    ],
)
def test_unreadable_input_is_a_one_line_error(cite_index, tmp_path, content, message):
    bad = tmp_path / "bad.md"
    bad.write_bytes(content)
    result = fails("cite", bad, "--index", cite_index, code=2)
    assert result.output.strip() == f"Error: {bad}: {message}"


def test_errors_exit_2(cite_index, tmp_path):
    draft = write(tmp_path, "Glaciers retreat as the climate warms.")
    missing = fails("cite", tmp_path / "nope.md", "--index", cite_index, code=2)
    assert "nope.md" in missing.output and missing.output.count("\n") == 1
    assert "no citesearch index" in fails("cite", draft, "--index", tmp_path / "none", code=2).output
    fails("cite", draft, "--index", cite_index, "--min-support", "0", code=2)
    fails("cite", draft, "--index", cite_index, "--check", code=2)  # no source list to check against


def test_cite_does_not_import_nltk_or_sklearn(cite_index, tmp_path):
    draft = write(tmp_path, "Glaciers retreat as the climate warms.")
    code = (
        "import sys\nfrom citesearch.cli import main\nsys.argv = ['citesearch', 'cite', %r, '--index', %r]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in ('nltk', 'sklearn')))"
    ) % (str(draft), str(cite_index))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "[1]" in out
    assert out.strip().endswith("HEAVY []")


# -- --check --------------------------------------------------------------------------------------

CHECKED = """The Northwind trial gave pembrolizumab to 120 patients [1]. Arabica beans contain less caffeine \
than robusta beans [1]. Glaciers are made of chocolate in the summer [2]. Roasting darkens the beans [3]. \
An uncited sentence about glaciers and the climate.

Sources used in this answer

1. A vaccine trial — `trial.md`
2. Glaciers
3. Roasting beans at home — https://example.org/roasting-at-home
4. Coffee beans: an overview — https://example.org/beans
"""


def test_check_gives_each_of_the_four_verdicts(cite_index):
    from citesearch.search.searcher import Index

    with Index.open(cite_index) as idx:
        checked = idx.check_citations(CHECKED)
    assert [(c.cited, c.status) for c in checked.citations] == [
        ((1,), "supported"), ((1,), "wrong_source"), ((2,), "unsupported"), ((3,), "not_in_index"),
    ]
    wrong = checked.citations[1]
    assert wrong.suggestion is not None and wrong.suggestion.id == "beans.txt"
    assert wrong.suggestion_citation == 4  # listed, resolved by its URL's name
    assert checked.citations[3].suggestion is not None and checked.citations[3].suggestion.id == "beans.txt"
    assert [(s.number, s.source.id if s.source else None, s.how) for s in checked.sources] == [
        (1, "trial.md", "path"), (2, "glaciers.txt", "title"), (3, None, ""), (4, "beans.txt", "url"),
    ]
    assert checked.uncited == 1
    for c in checked.citations:
        assert c.text == CHECKED[c.start : c.end] and "[" not in c.text


def test_check_command_exit_and_json(cite_index, tmp_path):
    draft = write(tmp_path, CHECKED)
    result = invoke("cite", draft, "--index", cite_index, "--check", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [c["status"] for c in data["citations"]] == ["supported", "wrong_source", "unsupported", "not_in_index"]
    assert data["citations"][1]["suggestion"]["id"] == "beans.txt"
    assert data["citations"][1]["suggestion"]["citation"] == 4
    assert set(data["sources"][0]) == {"citation", "entry", "id", "path", "title", "match", "how"}
    good = write(tmp_path, CHECKED.split(" Arabica")[0] + "\n\nSources\n\n1. A vaccine trial — `trial.md`\n", "ok.md")
    assert "supported by its cited source" in ok("cite", good, "--index", cite_index, "--check",
                                                 "--format", "text").stdout


def test_help_states_the_calibrated_default():
    from citesearch.search.citing import DEFAULT_MIN_SUPPORT

    assert f"[default: {DEFAULT_MIN_SUPPORT}, calibrated]" in " ".join(ok("cite", "--help").stdout.split())
