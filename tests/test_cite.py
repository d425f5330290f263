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


def test_scale_words_must_agree(cite_index):
    assert one(cite_index, "Arabica beans contain less caffeine than robusta beans.").status == "supported"
    flipped = one(cite_index, "Arabica beans contain more caffeine than robusta beans.")
    assert flipped.status == "unsupported" and "opposite" in flipped.reason


def test_a_substituted_word_and_a_single_letter_are_required(cite_index):
    # 'sugar' (a word the index lacks) where the passage has 'caffeine', between 'contain' and 'robusta'
    swapped = one(cite_index, "Arabica beans contain less sugar than robusta beans.")
    assert swapped.status == "unsupported" and "'sugar'" in swapped.reason
    from citesearch.search import citing
    from citesearch.search.searcher import Index

    with Index.open(cite_index) as idx:
        [b_cells] = citing.best_support(idx, ["The drug did not cause B liver damage."])
    assert "B" in b_cells.missing


def test_the_title_and_heading_stand_for_the_claims_subject(tmp_path):
    from citesearch.corpus import load_documents
    from citesearch.indexer.builder import build_index
    from citesearch.search import citing
    from citesearch.search.searcher import Index

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "espresso.md").write_text(
        "# Espresso\n\nIt is strong.\n\n## Pressure\n\nModern machines push water at about 9 bar.\n", encoding="utf-8")
    (tmp_path / "c" / "tea.md").write_text("# Tea\n\nTea leaves are steeped in hot water for minutes.\n",
                                           encoding="utf-8")
    build_index(load_documents([tmp_path / "c"]), tmp_path / "i")
    with Index.open(tmp_path / "i") as idx:
        [made, pressure, predicate] = citing.best_support(idx, [
            "Espresso machines push water at about 9 bar.",  # the subject is the title
            "Pressure machines push water at about 9 bar.",  # ... or the heading
            "Modern espresso machines push water at about 9 bar.",  # not the subject: costs coverage
        ])
        assert citing._is_heading("## Pressure") and citing._heading_line("Pressure\nModern machines push.") == 8
    assert made.coverage == pytest.approx(1.0) and pressure.coverage == pytest.approx(1.0)
    assert predicate.coverage < 1.0


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


# -- a hand-made set: claims about the shared immunotherapy pages and the bundled coffee corpus ----
#
# Written by us from the pages, after trying the first version of the support measure by hand,
# so it is not a blind test: it records the verdicts a reader would give (claims that restate a
# page, with changed numbers, swapped names or words, negations, flipped quantifiers or
# antonyms, and claims about something else). The cases the measure still gets wrong are
# marked xfail (strict: a fix shows up); BENCHMARKS.md reports the accuracy before and after.

SUPPORTED, UNSUPPORTED = "supported", "unsupported"
IMMUNOTHERAPY_CLAIMS = [
    # (claim, true verdict, kind)
    ("Tumor-associated macrophages block T-cells from attacking the cancer.", SUPPORTED, "paraphrase"),
    ("Pembrolizumab can reactivate tuberculosis.", SUPPORTED, "paraphrase"),
    ("A 2020 survey of 60 patients found that 23% had unrealistic expectations of a cure.", SUPPORTED, "stated"),
    ("Durable complete responses occur in fewer than 10% of patients with advanced genitourinary cancers.",
     SUPPORTED, "stated"),
    ("The KEYNOTE-177 trial found that pembrolizumab improved survival in metastatic colorectal cancer.",
     SUPPORTED, "stated"),
    ("The mRNA-4157 vaccine combined with pembrolizumab reduced melanoma recurrence risk by 44%.", SUPPORTED,
     "paraphrase"),
    ("Checkpoint inhibitors block these signals, allowing T cells to continue their assault on cancer.", SUPPORTED,
     "stated"),
    ("Combining radiotherapy with immunotherapy increases the risk of side effects.", SUPPORTED, "paraphrase"),
    ("A 2020 survey of 50 patients found that 23% had unrealistic expectations of a cure.", UNSUPPORTED, "number"),
    ("The mRNA-4157 vaccine combined with pembrolizumab reduced melanoma recurrence risk by 54%.", UNSUPPORTED,
     "number"),
    ("A 2019 review notes that immunotherapy has made few inroads in pancreatic cancer.", UNSUPPORTED, "number"),
    ("The KEYNOTE-177 trial found that nivolumab improved survival in metastatic colorectal cancer.", UNSUPPORTED,
     "name"),
    ("Durable complete responses occur in fewer than 10% of patients with advanced breast cancers.", UNSUPPORTED,
     "word"),
    ("Tumor-associated macrophages block B-cells from attacking the cancer.", UNSUPPORTED, "word"),
    ("Immunotherapy can currently cure all major types of cancer.", UNSUPPORTED, "negation"),
    ("Most tumors do not create an immunosuppressive microenvironment.", UNSUPPORTED, "negation"),
    ("Immunotherapy never causes serious side effects.", UNSUPPORTED, "negation"),
    ("Immunotherapy has cured pancreatic cancer in most patients.", UNSUPPORTED, "quantifier"),
    ("Even powerful checkpoint inhibitors rarely fail.", UNSUPPORTED, "quantifier"),
    ("Combining radiotherapy with immunotherapy decreases the risk of side effects.", UNSUPPORTED, "antonym"),
    ("The Eiffel Tower was completed in 1889.", UNSUPPORTED, "off-topic"),
    ("Arabica beans contain less caffeine than robusta beans.", UNSUPPORTED, "off-topic"),
]
COFFEE_CLAIMS = [
    ("Espresso is brewed at about 9 bar of pressure.", SUPPORTED, "title"),
    ("Espresso is made at about 9 bar of pressure.", SUPPORTED, "title"),
    ("A cup of brewed coffee holds roughly 80 to 120 milligrams of caffeine.", SUPPORTED, "stated"),
    ("The liver clears caffeine mainly through the enzyme CYP1A2.", SUPPORTED, "stated"),
    ("In 1948 Achille Gaggia introduced a spring-lever piston.", SUPPORTED, "stated"),
    ("Caffeine blocks adenosine receptors in the brain.", SUPPORTED, "paraphrase"),
    ("Dark roasts taste less acidic and more bitter.", SUPPORTED, "stated"),
    ("Modern machines push water at about 15 bar of pressure.", UNSUPPORTED, "number"),
    ("In healthy adults the half-life of caffeine is about eight hours.", UNSUPPORTED, "number"),
    ("The liver clears caffeine mainly through the enzyme CYP3A4.", UNSUPPORTED, "name"),
    ("In 1948 Francesco Illy introduced a spring-lever piston.", UNSUPPORTED, "name"),
    ("Chlorogenic sugars break down as the roast darkens.", UNSUPPORTED, "word"),
    ("Caffeine does not block adenosine receptors in the brain.", UNSUPPORTED, "negation"),
    ("Espresso is not made by forcing hot water through a compact bed of finely ground coffee.", UNSUPPORTED,
     "negation"),
    ("Health agencies consider up to about 400 milligrams a day safe for few healthy adults.", UNSUPPORTED,
     "quantifier"),
    ("In the first minutes of roasting the beans gain most of their water.", UNSUPPORTED, "antonym"),
    ("Glaciers retreat as the climate warms.", UNSUPPORTED, "off-topic"),
    ("Pembrolizumab can reactivate tuberculosis.", UNSUPPORTED, "off-topic"),
]
HAND_XFAIL: dict[str, str] = {
    "Espresso is brewed at about 9 bar of pressure.": (
        "the page says machines 'push water at about 9 bar of pressure' under the title 'Espresso: ...': the "
        "title now stands for the subject, but 'brewed' is not stated and is a quarter of the claim's idf weight "
        "(support 0.63); 'Espresso is made at about 9 bar of pressure.' is supported"
    ),
}
"""Claims of the hand-made set the measure still judges wrongly, and why."""


@pytest.fixture(scope="module")
def immunotherapy_index(tmp_path_factory) -> Path:
    from conftest import SHARED

    from citesearch.corpus import load_documents
    from citesearch.indexer.builder import build_index

    corpus = SHARED / "corpus" / "immunotherapy"
    if not corpus.is_dir():
        pytest.skip("the shared immunotherapy corpus is not beside the project")
    out = tmp_path_factory.mktemp("imm") / "index"
    build_index(load_documents([corpus]), out)
    return out


@pytest.fixture(scope="module")
def coffee_index(tmp_path_factory) -> Path:
    from conftest import EXAMPLES

    from citesearch.corpus import load_documents
    from citesearch.indexer.builder import build_index

    out = tmp_path_factory.mktemp("coffee") / "index"
    build_index(load_documents([EXAMPLES / "coffee"]), out)
    return out


def _hand(cases):
    return [pytest.param(text, verdict, id=f"{kind}:{text[:40]}",
                         marks=[pytest.mark.xfail(reason=HAND_XFAIL[text], strict=True)] if text in HAND_XFAIL else [])
            for text, verdict, kind in cases]


@pytest.mark.parametrize("text, verdict", _hand(IMMUNOTHERAPY_CLAIMS))
def test_hand_made_claims_about_the_immunotherapy_pages(immunotherapy_index, text, verdict):
    claim = one(immunotherapy_index, text)
    assert claim.status == verdict, (claim.support, claim.reason)


@pytest.mark.parametrize("text, verdict", _hand(COFFEE_CLAIMS))
def test_hand_made_claims_about_the_coffee_corpus(coffee_index, text, verdict):
    claim = one(coffee_index, text)
    assert claim.status == verdict, (claim.support, claim.reason)
