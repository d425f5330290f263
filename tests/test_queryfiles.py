"""Query files for batch runs: every format, detection, and malformed lines."""

from __future__ import annotations

import pytest

from citesearch.errors import CitesearchError, CorpusError
from citesearch.search.queryfiles import read_queries

TOPICS = """<top>
<num> Number: 301
<title> International Organized Crime
<desc> Description:
Identify organizations that participate in international criminal activity.
<narr> Narrative:
A relevant document must name the organization.
</top>

<top>
<num> Number: 302 <title> Poliomyelitis and Post-Polio
<desc> Description: Is the disease still a problem?
</top>
<top>
<num> Number: 303
</top>
"""


@pytest.mark.parametrize(
    "field,expected",
    [
        ("title", [("301", "International Organized Crime"), ("302", "Poliomyelitis and Post-Polio")]),
        ("desc", [("301", "Identify organizations that participate in international criminal activity."), ("302", "Is the disease still a problem?")]),
        ("all", [("301", "International Organized Crime Identify organizations that participate in international criminal activity. A relevant document must name the organization."), ("302", "Poliomyelitis and Post-Polio Is the disease still a problem?")]),
    ],
)
def test_trec_topics(tmp_path, field, expected):
    path = tmp_path / "topics.301-303"
    path.write_text(TOPICS)
    qf = read_queries(path, topic_field=field)
    assert qf.format == "trec" and qf.queries == expected
    assert len(qf.errors) == 1 and ":14: topic without" in qf.errors[0]  # topic 303 has no text


@pytest.mark.parametrize(
    "name,content,fmt,queries",
    [
        ("q.txt", "first query\n\nsecond\n", "text", [("1", "first query"), ("2", "second")]),
        ("q.tsv", "a\tone\nb\ttwo words\n", "tsv", [("a", "one"), ("b", "two words")]),
        ("q.jsonl", '{"_id": "x", "text": "hello"}\n', "jsonl", [("x", "hello")]),
        ("queries", '{"_id": "x", "text": "hello"}\n', "jsonl", [("x", "hello")]),  # by content
        ("queries", "7\tseven\n", "tsv", [("7", "seven")]),
    ],
)
def test_formats_and_detection(tmp_path, name, content, fmt, queries):
    (tmp_path / name).write_text(content)
    qf = read_queries(tmp_path / name)
    assert (qf.format, qf.queries) == (fmt, queries)


def test_format_override(tmp_path):
    (tmp_path / "q.tsv").write_text("a\tb\n")
    assert read_queries(tmp_path / "q.tsv", fmt="text").queries == [("1", "a\tb")]


def test_malformed_lines_are_reported_or_fatal_with_strict(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"_id": "1", "text": "ok"}\n{"_id": "2"}\nnot json\n{"_id": "3", "text": "fine"}\n')
    qf = read_queries(path)
    assert qf.queries == [("1", "ok"), ("3", "fine")]
    assert [e.split(":")[1] for e in qf.errors] == ["2", "3"]
    with pytest.raises(CorpusError) as err:
        read_queries(path, strict=True)
    assert err.value.line == 2


def test_duplicate_ids_and_empty_files(tmp_path):
    (tmp_path / "d.tsv").write_text("1\ta\n1\tb\n")
    with pytest.raises(CitesearchError, match="more than once"):
        read_queries(tmp_path / "d.tsv")
    (tmp_path / "e.txt").write_text("\n\n")
    with pytest.raises(CitesearchError, match="no queries"):
        read_queries(tmp_path / "e.txt")
