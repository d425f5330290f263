"""Splitting documents into passages (citesearch.corpus.passages)."""

from __future__ import annotations

import re

import pytest
from conftest import SHARED, needs_shared
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citesearch.corpus import DEFAULT_WORDS, Document, LoadReport, Passage, load_documents, split_passages

_WORD = re.compile(r"\S+")


def doc(text: str, id: str = "doc") -> Document:
    return Document(id=id, path=f"{id}.txt", title="", text=text)


def texts(d: Document, passages: list[Passage]) -> list[str]:
    return [d.text[p.start : p.end] for p in passages]


def word_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    return [(offset + m.start(), offset + m.end()) for m in _WORD.finditer(text)]


def check_offsets(d: Document, passages: list[Passage], words: int, overlap: int) -> None:
    """The offset property of passages; see the module docstring of passages.py."""
    text = d.text
    all_words = word_spans(text)
    if not all_words:
        assert passages == []
        return
    assert passages, "a document with words has at least one passage"
    assert [p.ordinal for p in passages] == list(range(len(passages)))
    assert [p.id for p in passages] == [f"{d.id}#{i}" for i in range(len(passages))]
    assert all(p.doc_id == d.id for p in passages)
    word_starts = {s for s, _ in all_words}
    word_ends = {e for _, e in all_words}
    for p in passages:
        piece = text[p.start : p.end]
        assert piece, p
        assert not piece[0].isspace() and not piece[-1].isspace(), p
        # Passages begin and end on whole words.
        assert p.start in word_starts and p.end in word_ends, p
    starts = [p.start for p in passages]
    ends = [p.end for p in passages]
    assert starts == sorted(starts) and len(set(starts)) == len(starts), "passages in order"
    assert ends == sorted(ends) and len(set(ends)) == len(ends), "passages in order"
    if overlap == 0:
        covered = [w for p in passages for w in word_spans(text[p.start : p.end], p.start)]
        assert covered == all_words, "every word exactly once, in order"
        assert all(a.end <= b.start for a, b in zip(passages, passages[1:]))
    else:
        covered = sorted({w for p in passages for w in word_spans(text[p.start : p.end], p.start)})
        assert covered == all_words, "every word at least once"
        # No gap between neighbours: the next one starts no later than the first word after this one.
        for a, b in zip(passages, passages[1:]):
            assert not word_spans(text[a.end : b.start]), (a, b)


# --- small explicit cases --------------------------------------------------------------------------


def test_short_document_is_exactly_one_passage():
    d = doc("Iceland sits on the Mid-Atlantic Ridge. Its volcanoes erupt often.")
    assert split_passages(d) == [Passage("doc", 0, 0, len(d.text))]


def test_one_passage_excludes_surrounding_whitespace():
    d = doc("\n\n  Hello there, world.  \n\n")
    (p,) = split_passages(d)
    assert (p.start, p.end) == (4, 23)
    assert d.text[p.start : p.end] == "Hello there, world."


def test_document_of_up_to_one_and_a_half_windows_is_one_passage():
    d = doc(" ".join(["word"] * 149) + ".")
    assert len(split_passages(d, words=100)) == 1
    assert len(split_passages(doc(" ".join(["word"] * 300) + "."), words=100)) == 3


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab. \n\t\u00a0", max_size=40), st.integers(1, 12))
def test_short_texts_are_one_passage_as_their_word_count_says(text, words):
    # passage_spans skips counting the words of a text under 3 × words - 1 characters:
    # such a text must be one the count would make one passage.
    count = len(text.split())
    if len(text) < 3 * words - 1:
        assert round(count / words) <= 1
    spans = split_passages(Document("d", "d", "d", text), words=words)
    if count == 0:
        assert spans == []
    elif round(count / words) <= 1:
        assert len(spans) == 1


def test_default_window_keeps_a_short_document_whole():
    d = doc(" ".join(f"Sentence number {i} is here." for i in range(40)))  # 200 words
    assert len(d.text.split()) == DEFAULT_WORDS
    assert texts(d, split_passages(d)) == [d.text]


@pytest.mark.parametrize("text", ["", " ", "\n\n\t  \n", "\u00a0\u2028"])
def test_empty_or_whitespace_text_has_no_passages(text):
    assert split_passages(doc(text)) == []


def test_passage_ids_and_ordinals():
    d = doc(" ".join(f"S{i} alpha beta." for i in range(1, 9)), id="notes/a.md")
    passages = split_passages(d, words=6)
    assert [p.id for p in passages] == ["notes/a.md#0", "notes/a.md#1", "notes/a.md#2", "notes/a.md#3"]
    assert [p.ordinal for p in passages] == [0, 1, 2, 3]
    assert all(p.doc_id == "notes/a.md" for p in passages)


def test_sentences_are_packed_into_balanced_windows():
    d = doc(" ".join(f"S{i} alpha beta." for i in range(1, 9)))
    assert texts(d, split_passages(d, words=6)) == [
        "S1 alpha beta. S2 alpha beta.",
        "S3 alpha beta. S4 alpha beta.",
        "S5 alpha beta. S6 alpha beta.",
        "S7 alpha beta. S8 alpha beta.",
    ]


def test_overlap_repeats_the_last_sentence_of_the_previous_passage():
    d = doc(" ".join(f"S{i} alpha beta." for i in range(1, 9)))
    assert texts(d, split_passages(d, words=6, overlap=1)) == [
        "S1 alpha beta. S2 alpha beta.",
        "S2 alpha beta. S3 alpha beta. S4 alpha beta.",
        "S4 alpha beta. S5 alpha beta. S6 alpha beta.",
        "S6 alpha beta. S7 alpha beta. S8 alpha beta.",
    ]


def test_overlap_of_two_sentences():
    d = doc(" ".join(f"S{i} alpha beta." for i in range(1, 9)))
    got = texts(d, split_passages(d, words=6, overlap=2))
    assert got[2] == "S3 alpha beta. S4 alpha beta. S5 alpha beta. S6 alpha beta."
    assert got[3] == "S5 alpha beta. S6 alpha beta. S7 alpha beta. S8 alpha beta."


def test_long_sentence_is_cut_at_word_boundaries():
    words = [f"w{i:02d}" for i in range(50)]
    d = doc(" ".join(words))  # one 50-word sentence, no full stop
    got = texts(d, split_passages(d, words=10))
    assert got == [" ".join(words[i : i + 10]) for i in range(0, 50, 10)]


def test_long_sentence_with_long_words_is_not_cut_inside_a_word():
    d = doc(" ".join(["Pneumonoultramicroscopicsilicovolcanoconiosis"] * 30))
    passages = split_passages(d, words=7)
    assert len(passages) >= 4
    for piece in texts(d, passages):
        assert set(piece.split()) == {"Pneumonoultramicroscopicsilicovolcanoconiosis"}
    check_offsets(d, passages, 7, 0)


def test_window_closes_early_at_a_paragraph_boundary():
    first = " ".join(["one"] * 8) + " nine."
    second = "Xx yy. " + " ".join(["w"] * 8) + " end."
    apart = doc(first + "\n\n" + second)
    assert texts(apart, split_passages(apart, words=10)) == [first, second]
    # The same words in one paragraph pack the short sentence into the first window.
    joined = doc(first + " " + second)
    assert texts(joined, split_passages(joined, words=10)) == [first + " Xx yy.", " ".join(["w"] * 8) + " end."]


def test_short_tail_is_merged_into_the_last_passage():
    d = doc(" ".join(f"S{i} alpha beta gamma delta." for i in range(1, 5)) + " Tail.")  # 4 x 5 words + 1
    got = texts(d, split_passages(d, words=5))
    assert len(got) == 4
    assert got[-1] == "S4 alpha beta gamma delta. Tail."


def test_short_last_sentence_is_not_left_as_a_stub():
    # 8 words with words=5: round(8 / 5) = 2 passages, the short tail merged (module docstring).
    d = doc("Yes. Go. Then we all went home. Ok.")
    got = texts(d, split_passages(d, words=5))
    assert len(got) == 2, got


def test_long_sentence_is_cut_into_balanced_windows():
    # One 22-word sentence with words=5: round(22 / 5) = 4 passages of about equal size.
    d = doc(" ".join(f"w{i:02d}" for i in range(22)))
    got = texts(d, split_passages(d, words=5))
    assert len(got) == 4, got
    assert min(len(piece.split()) for piece in got) >= 4, got


@pytest.mark.parametrize(
    "sentence",
    [
        "We met Dr. Brown.",
        "Eat fruit, e.g. apples.",
        "It is cheap, i.e. free.",
        "See Fig. 3 now.",
        "Ask Mr. Smith today.",
        "Visit the U.S. Navy.",
    ],
)
def test_abbreviations_do_not_end_a_sentence(sentence):
    # With overlap=1 each passage repeats the previous passage's last sentence; had the
    # abbreviation ended a sentence, a passage would start or end in mid-sentence.
    d = doc(" ".join([sentence] * 8))
    passages = split_passages(d, words=2 * len(sentence.split()), overlap=1)
    assert len(passages) >= 3
    for piece in texts(d, passages):
        n = len(piece.split()) // len(sentence.split())
        assert piece == " ".join([sentence] * n), piece


def test_invalid_window_settings_are_rejected():
    with pytest.raises(ValueError):
        split_passages(doc("Some words here."), words=0)
    with pytest.raises(ValueError):
        split_passages(doc("Some words here."), overlap=-1)


# --- the offset property on generated text --------------------------------------------------------

_WORDS = st.one_of(
    st.sampled_from(
        [
            "the", "Iceland", "volcano.", "Dr.", "e.g.", "U.S.", "end.", "Why?", "Yes!", "(N.L.L.),",
            "naïve", "東京", "Ελλάδα.", "—", "...", '"Quoted."', "x)", "3.14", "a.b.c", "'tis", "(see",
        ]
    ),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=6),
)
_SEPARATORS = st.sampled_from(
    [" ", " ", " ", " ", "  ", "\n", "\n\n", "\n \n", "\n\n\n", "\t", "\r\n\r\n", "\u00a0", "\u2028", "\u3000", "\x0c"]
)


@st.composite
def documents(draw) -> Document:
    parts = [draw(st.sampled_from(["", " ", "\n\n", "\t"]))]
    for w in draw(st.lists(_WORDS, max_size=80)):
        parts.append(w)
        parts.append(draw(_SEPARATORS))
    if draw(st.booleans()):
        parts.pop()
    return doc("".join(parts))


_SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(documents(), st.sampled_from([1, 2, 3, 5, 8, 13, 40]))
def test_offset_property_without_overlap(d, words):
    check_offsets(d, split_passages(d, words=words), words, 0)


@_SETTINGS
@given(documents(), st.sampled_from([1, 3, 5, 8]), st.sampled_from([1, 2, 3]))
def test_offset_property_with_overlap(d, words, overlap):
    check_offsets(d, split_passages(d, words=words, overlap=overlap), words, overlap)


@_SETTINGS
@given(documents(), st.sampled_from([2, 3, 5, 8, 13]))
def test_no_passage_is_much_longer_than_two_windows(d, words):
    passages = split_passages(d, words=words)
    if len(passages) > 1:
        for piece in texts(d, passages):
            assert len(piece.split()) <= 2 * words, piece


@_SETTINGS
@given(st.lists(st.integers(1, 30), min_size=1, max_size=40), st.sampled_from([5, 10, 20]))
def test_window_sizes_on_sentences_of_varied_length(lengths, words):
    # Sentences of the given lengths; a sentence longer than a window is cut into pieces of
    # at most `words`, so only the packing decides passage size.
    text = " ".join(" ".join(["w"] * (n - 1) + ["end."]) for n in lengths)
    d = doc(text)
    passages = split_passages(d, words=words)
    check_offsets(d, passages, words, 0)
    if len(passages) > 1:
        assert max(len(piece.split()) for piece in texts(d, passages)) <= 2 * words


# --- the offset property on the real corpora -------------------------------------------------------

_REAL_SETTINGS = [(DEFAULT_WORDS, 0), (50, 0), (50, 2)]


def _load(path) -> list[Document]:
    report = LoadReport()
    docs = list(load_documents([path], report=report))
    assert report.errors == [] and report.duplicates == []
    return docs


@needs_shared
def test_offset_property_on_the_immunotherapy_corpus():
    folder = SHARED / "corpus" / "immunotherapy"
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    docs = _load(folder)
    assert sorted(d.id for d in docs) == files
    for d in docs:
        assert len(split_passages(d)) >= 1
        for words, overlap in _REAL_SETTINGS + [(20, 0), (20, 1)]:
            check_offsets(d, split_passages(d, words=words, overlap=overlap), words, overlap)


@needs_shared
@pytest.mark.parametrize("collection", ["cisi", "cacm"])
def test_offset_property_on_the_test_collections(collection):
    docs = _load(SHARED / "collections" / collection / "corpus.jsonl")
    assert len(docs) > 1000
    for words, overlap in _REAL_SETTINGS:
        for d in docs:
            check_offsets(d, split_passages(d, words=words, overlap=overlap), words, overlap)
