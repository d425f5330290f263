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
        (
            "desc",
            [
                ("301", "Identify organizations that participate in international criminal activity."),
                ("302", "Is the disease still a problem?"),
            ],
        ),
        (
            "all",
            [
                (
                    "301",
                    (
                        "International Organized Crime Identify organizations that participate in international "
                        "criminal activity. A relevant document must name the organization."
                    ),
                ),
                ("302", "Poliomyelitis and Post-Polio Is the disease still a problem?"),
            ],
        ),
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


# --- binary input, size caps, gzip ---------------------------------------------------------

PNG_LIKE = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 8


def _cli(args, input=None):
    from click.testing import CliRunner

    from citesearch.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], input=input, prog_name="citesearch")


def test_binary_file_is_refused_by_the_library(tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(PNG_LIKE)
    with pytest.raises(CorpusError, match="binary") as err:
        read_queries(path)
    assert err.value.path == str(path)
    with pytest.raises(CorpusError, match="binary"):  # an explicit format does not force it through
        read_queries(path, fmt="text")


def test_undecodable_file_without_nul_bytes_is_refused(tmp_path):
    path = tmp_path / "noise.txt"
    path.write_bytes(bytes(range(0x80, 0x100)) * 40)
    with pytest.raises(CorpusError, match="binary"):
        read_queries(path)
    # A few Latin-1 accents in a text file are not binary: they are read, replaced.
    path.write_bytes("caf\xe9 cr\xe8me\nna\xefve query\n".encode("latin-1"))
    assert [q for _, q in read_queries(path).queries] == ["caf\ufffd cr\ufffdme", "na\ufffdve query"]


def test_binary_file_is_a_one_line_cli_error(built_index, tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(PNG_LIKE)
    out = tmp_path / "run.trec"
    result = _cli(["batch", path, "--index", built_index, "-o", out])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {path}: ") and "binary" in lines[0]
    assert "Traceback" not in result.output and "\\x" not in result.stderr
    assert not out.exists()


def test_binary_file_in_a_real_process(built_index, tmp_path):
    import subprocess
    import sys

    path = tmp_path / "picture.png"
    path.write_bytes(PNG_LIKE)
    proc = subprocess.run(
        [sys.executable, "-m", "citesearch", "batch", str(path), "--index", str(built_index), "-o", "-"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0 and proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "binary" in proc.stderr and str(path) in proc.stderr


def test_gzip_is_read_by_extension_and_by_content(tmp_path):
    import gzip

    (tmp_path / "q.tsv.gz").write_bytes(gzip.compress(b"a\tone\nb\ttwo\n"))
    assert read_queries(tmp_path / "q.tsv.gz").queries == [("a", "one"), ("b", "two")]
    (tmp_path / "queries").write_bytes(gzip.compress(b'{"_id": "x", "text": "hello"}\n'))
    qf = read_queries(tmp_path / "queries")
    assert (qf.format, qf.queries) == ("jsonl", [("x", "hello")])


def test_broken_gzip_is_a_read_error(tmp_path):
    import gzip

    path = tmp_path / "q.txt.gz"
    path.write_bytes(gzip.compress(b"one\ntwo\n" * 1000)[:40])
    with pytest.raises(CorpusError, match="cannot read") as err:
        read_queries(path)
    assert str(err.value).startswith(f"{path}: ")


def test_gzip_bomb_is_refused_without_inflating_it(tmp_path, monkeypatch):
    import gzip

    from citesearch.search import queryfiles

    monkeypatch.setattr(queryfiles, "MAX_QUERY_BYTES", 1 << 20)
    path = tmp_path / "bomb.txt.gz"
    path.write_bytes(gzip.compress(b"query\n" * (4 << 20)))  # 24 MiB of text, ~25 KiB on disk
    assert path.stat().st_size < 100_000
    reads: list[int] = []
    real = queryfiles._read_capped

    def spy(fh, display, what=""):
        data = real(fh, display, what)  # raises once past the cap
        reads.append(len(data))
        return data

    monkeypatch.setattr(queryfiles, "_read_capped", spy)
    with pytest.raises(CorpusError, match="once decompressed") as err:
        read_queries(path)
    assert str(err.value).startswith(f"{path}: ")
    assert reads == [path.stat().st_size]  # only the compressed bytes were read whole
    plain = tmp_path / "big.txt"
    plain.write_bytes(b"query\n" * (200_000))
    with pytest.raises(CorpusError, match="bytes of queries; refused"):
        read_queries(plain)


# --- TSV headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", ["id\tquery", "qid\ttext", "query_id\tquery", "QID\tQuery", "_id\ttext", "qid\tquery\n"]
)
def test_tsv_header_is_skipped(tmp_path, header):
    path = tmp_path / "q.tsv"
    path.write_text(header.rstrip("\n") + "\n301\tvolcanoes\n302\tglaciers\n")
    qf = read_queries(path)
    assert qf.queries == [("301", "volcanoes"), ("302", "glaciers")] and qf.errors == []


def test_tsv_header_is_detected_without_extension(tmp_path):
    path = tmp_path / "queries"
    path.write_text("\ufeffqid\tquery\n1\ticeland\n")
    qf = read_queries(path)
    assert (qf.format, qf.queries) == ("tsv", [("1", "iceland")])


@pytest.mark.parametrize(
    "content,first",
    [
        ("1\tquery\n2\ttext\n", ("1", "query")),  # an id, not a header word
        ("id\tvolcanoes of iceland\n2\tglaciers\n", ("id", "volcanoes of iceland")),  # a query, not a header word
        ("301\tvolcanoes\nqid\tquery\n", ("301", "volcanoes")),
    ],
)
def test_tsv_without_header_keeps_its_first_query(tmp_path, content, first):
    path = tmp_path / "q.tsv"
    path.write_text(content)
    qf = read_queries(path)
    assert qf.queries[0] == first and len(qf.queries) == 2


# --- standard input --------------------------------------------------------------------------


class _Stdin:
    def __init__(self, data: bytes):
        import io

        self.buffer = io.BytesIO(data)


def test_read_queries_from_stdin(monkeypatch):
    import sys

    monkeypatch.setattr(sys, "stdin", _Stdin(b'{"_id": "q1", "text": "iceland"}\n'))
    qf = read_queries("-")
    assert (qf.format, qf.queries) == ("jsonl", [("q1", "iceland")])
    monkeypatch.setattr(sys, "stdin", _Stdin(b"q1\ticeland\nq2\n"))
    qf = read_queries("-")
    assert qf.queries == [("q1", "iceland")] and qf.errors == ["<stdin>:2: expected 'id<TAB>query'; line skipped"]
    monkeypatch.setattr(sys, "stdin", _Stdin(PNG_LIKE))
    with pytest.raises(CorpusError, match=r"^<stdin>: .*binary"):
        read_queries("-")


def _trec_run(text: str) -> dict[str, list[str]]:
    run: dict[str, list[str]] = {}
    for line in text.splitlines():
        qid, q0, doc, _rank, _score, _tag = line.split()
        assert q0 == "Q0"
        run.setdefault(qid, []).append(doc)
    return run


def test_cli_batch_reads_stdin(built_index, tmp_path):
    out = tmp_path / "run.trec"
    queries = "qid\tquery\nv\ticeland volcanoes\nt\ttsunami\n"
    result = _cli(["batch", "-", "--index", built_index, "-o", out], input=queries)
    assert result.exit_code == 0, result.output
    run = _trec_run(out.read_text())
    assert list(run) == ["v", "t"] and run["v"][0] == "alpha.txt" and run["t"][0] == "d2"


def test_cli_batch_stdin_to_stdout_with_query_format(built_index):
    args = ["batch", "-", "--index", built_index, "-o", "-", "--query-format", "text", "-k", "1"]
    result = _cli(args, input="iceland volcanoes\ntsunami\n")
    assert result.exit_code == 0, result.output
    run = _trec_run(result.stdout)
    assert run == {"1": ["alpha.txt"], "2": ["d2"]}


def test_cli_batch_stdin_xml_topics(built_index):
    args = ["batch", "-", "--index", built_index, "-o", "-", "-k", "1", "--topic-field", "desc"]
    result = _cli(args, input=XML_TOPICS)
    assert result.exit_code == 1  # topic 3 is malformed: reported, the others still run
    assert "Error: <stdin>:19: topic without" in result.stderr
    assert list(_trec_run(result.stdout)) == ["1", "2"]


# --- TREC XML topics -------------------------------------------------------------------------

XML_TOPICS = """<?xml version="1.0" encoding="UTF-8"?>
<topics>
  <topic number="1" type="faceted">
    <query>iceland volcanoes</query>
    <question>Which volcanoes in Iceland erupt &amp; stop air traffic?</question>
    <narrative>Relevant documents name an eruption.</narrative>
    <subtopic number="1" type="inf">Not part of any field.</subtopic>
  </topic>
  <topic number='2'>
    <title>tsunami</title>
    <description><![CDATA[What raises <tsunamis>?]]></description>
    <narrative>
      Undersea earthquakes
      and plate tectonics.
    </narrative>
  </topic>
  <topic number="3">
  </topic>
  <topic>
    <query>no number</query>
    <question>no number</question>
  </topic>
</topics>
"""


@pytest.mark.parametrize(
    "field,expected",
    [
        ("title", [("1", "iceland volcanoes"), ("2", "tsunami")]),
        ("desc", [("1", "Which volcanoes in Iceland erupt & stop air traffic?"), ("2", "What raises <tsunamis>?")]),
        ("narr", [("1", "Relevant documents name an eruption."), ("2", "Undersea earthquakes and plate tectonics.")]),
        (
            "all",
            [
                (
                    "1",
                    (
                        "iceland volcanoes Which volcanoes in Iceland erupt & stop air traffic? "
                        "Relevant documents name an eruption."
                    ),
                ),
                ("2", "tsunami What raises <tsunamis>? Undersea earthquakes and plate tectonics."),
            ],
        ),
    ],
)
@pytest.mark.parametrize("name", ["topics.xml", "topics", "topics.txt"])
def test_xml_topics(tmp_path, field, expected, name):
    path = tmp_path / name
    path.write_text(XML_TOPICS)
    qf = read_queries(path, topic_field=field)
    assert qf.format == "trec" and qf.queries == expected
    assert [e.split(": ", 1)[0] for e in qf.errors] == [f"{path}:17", f"{path}:19"]
    assert all("topic without" in e for e in qf.errors)
    with pytest.raises(CorpusError) as err:
        read_queries(path, topic_field=field, strict=True)
    assert err.value.line == 17


def test_xml_topics_gzipped_and_unclosed(tmp_path):
    import gzip

    path = tmp_path / "topics.xml.gz"
    path.write_bytes(gzip.compress(b'<topics><topic number="7"><query>geysers</query>\n<topic number="8">'
                                   b"<query>glaciers</query></topic></topics>"))
    qf = read_queries(path)
    assert qf.queries == [("8", "glaciers")]
    assert qf.errors == [f"{path}:1: <topic> without </topic>; skipped"]


def test_xml_without_topics_has_no_queries(tmp_path):
    path = tmp_path / "other.xml"
    path.write_text("<root><item>nothing</item></root>\n")
    with pytest.raises(CorpusError, match="no queries found"):
        read_queries(path)


def test_duplicate_id_names_its_line(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text("id\tquery\n1\ta\n\n1\tb\n")
    with pytest.raises(CorpusError, match=r"first on line 2") as err:
        read_queries(path)
    assert err.value.line == 4 and str(err.value).startswith(f"{path}:4: ")
