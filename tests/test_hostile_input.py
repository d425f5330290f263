"""Hostile and malformed input (issue 14): each finding of the probe, as a test.

Bad input of every kind gives a clear one-line error or warning naming the file (and
line), costs bounded work, and loses nothing else. What is about processes (blocking on
a FIFO, taking minutes, permissions of what a process creates) runs real subprocesses,
with timeouts.
"""

from __future__ import annotations

import gzip
import inspect
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import tracemalloc
import zlib
from pathlib import Path

import pytest

from citesearch.corpus import InputFile, LoadReport, discover, load_documents, loading, read_file
from citesearch.errors import CitesearchError

from .conftest import ROOT, fails, invoke, ok

PY = [sys.executable, "-m", "citesearch"]


def _cli(*args, timeout=60, prefix=(), **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*prefix, *PY, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT, **kw
    )


def _stderr_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _bomb(path: Path, size: int, byte: bytes = b"a") -> Path:
    """A gzip file of ``size`` bytes of ``byte``, a few hundred KB on disk."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = byte * (1 << 20)
    with open(path, "wb") as f:
        for _ in range(size >> 20):
            f.write(z.compress(chunk))
        f.write(z.compress(byte * (size & ((1 << 20) - 1))))
        f.write(z.flush())
    return path


def _sources(index: Path) -> list[str]:
    out = json.loads(ok("sources", "--index", index, "--format", "json").stdout)
    return [s["path"] for s in out]


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "good.txt").write_text("Volcanoes erupt in Iceland.\n")
    return d


# -- 1. Unbounded or endless work on hostile files --------------------------------------------


def test_gzip_bomb_is_read_no_further_than_the_cap(docs, monkeypatch):
    monkeypatch.setattr(loading, "MAX_DOCUMENT_BYTES", 1 << 20)
    _bomb(docs / "bomb.txt.gz", 40 << 20)
    report = LoadReport()
    tracemalloc.start()
    try:
        docs_read = list(load_documents([docs], report=report))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [d.path for d in docs_read] == [(docs / "good.txt").as_posix()]
    assert report.errors == [
        f"{(docs / 'bomb.txt.gz').as_posix()}: file larger than 1,048,576 bytes once decompressed "
        "(the most citesearch reads); skipped"
    ]
    assert peak < 8 << 20  # 40 MB inflated whole would be far more


def test_gzip_bomb_of_nul_bytes_is_binary_after_8_kib(docs):
    _bomb(docs / "zeros.txt.gz", 200 << 20, b"\x00")
    report = LoadReport()
    tracemalloc.start()
    try:
        list(load_documents([docs], report=report))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.binary == [(docs / "zeros.txt.gz").as_posix()] and report.errors == []
    assert peak < 4 << 20


def test_gzip_bomb_in_a_real_build_is_one_error_line(docs, tmp_path):
    """The default cap, end to end: 65 MiB once decompressed, 65 KB on disk."""
    _bomb(docs / "bomb.txt.gz", loading.MAX_DOCUMENT_BYTES + (1 << 20))
    proc = _cli("index", docs, "--index", tmp_path / "idx")
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in _stderr_lines(proc.stderr) if line.startswith("Error:")]
    assert errors == [
        f"Error: {(docs / 'bomb.txt.gz').as_posix()}: file larger than 67,108,864 bytes once decompressed "
        "(the most citesearch reads); skipped"
    ]
    assert "Traceback" not in proc.stderr and "Indexed 1 document" in proc.stderr


def test_a_jsonl_line_over_the_cap_is_an_error_for_that_line_only(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "MAX_DOCUMENT_BYTES", 1000)
    path = tmp_path / "c.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.write('{"_id": "a", "text": "first"}\n')
        f.write('{"_id": "big", "text": "' + "x" * 50_000 + '"}\n')
        f.write('{"_id": "c", "text": "third"}')
    report = LoadReport()
    assert [d.id for d in load_documents([path], report=report)] == ["a", "c"]
    assert report.errors == [
        f"{path.as_posix()}:2: line larger than 1,000 bytes once decompressed (the most citesearch reads); skipped"
    ]


def test_a_fifo_is_skipped_with_a_warning_and_never_opened(docs, tmp_path):
    """A FIFO without a writer blocks whoever opens it for reading: the build must not."""
    os.mkfifo(docs / "pipe.txt")
    os.mkfifo(tmp_path / "named.txt")
    proc = _cli("index", docs, tmp_path / "named.txt", "--index", tmp_path / "idx", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert (
        f"Warning: skipped 2 special file(s) (FIFOs, devices, sockets: not regular files): "
        f"{(docs / 'pipe.txt').as_posix()}, {(tmp_path / 'named.txt').as_posix()}"
    ) in proc.stderr
    assert "Indexed 1 document" in proc.stderr


def test_a_fifo_put_in_place_of_a_listed_file_is_refused_without_blocking(tmp_path):
    """Between listing and reading, a file may become a FIFO: the read opens it without
    blocking and refuses it (a subprocess, so that a regression times out, not hangs)."""
    os.mkfifo(tmp_path / "pipe.txt")
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from citesearch.corpus import InputFile, LoadReport, read_file
        report = LoadReport()
        for suffix in ("pipe.txt",):
            f = InputFile(Path({str(tmp_path)!r}) / suffix, suffix, suffix)
            assert list(read_file(f, report)) == []
        print(report.errors)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['pipe.txt: cannot read: not a regular file']"


HOSTILE_MARKUP = textwrap.dedent(
    """
    import sys, time
    from citesearch.corpus.formats import read_html, read_markdown, read_rst, read_text
    n, m = 100_000, 40_000
    cases = [
        ("nested divs", read_html, "<div>" * n + "deep words" + "</div>" * n),
        ("nested navs", read_html, "<nav>" * m + "menu" + "</nav>" * m + "<p>deep words</p>"),
        ("unclosed start tags", read_html, "<p>deep words</p>" + "<a " * m),
        ("unclosed comments", read_html, "<p>deep words</p>" + "<!--x>" * m),
        ("unclosed CDATA", read_html, "<p>deep words</p>" + "<![CDATA[>" * m),
        ("marked sections", read_html, "<p>deep words</p>" + "<![if>" * m),
        ("bad marked sections", read_html, "<p>deep words</p>" + "[ !<!" * m + ">"),
        ("end tags", read_html, "<p>deep words</p>" + "</" * m),
        ("markdown emphasis", read_markdown, "# " + " **a" * n + "\\n\\ndeep words"),
        ("markdown heading spaces", read_markdown, "# a" + " " * n + "b\\n\\ndeep words"),
        ("rst literals", read_rst, "T " + "``a" * n + "\\n===\\n\\ndeep words"),
        ("front matter spaces", read_text, "---\\ntitle: x" + " " * n + "y\\n---\\ndeep words"),
    ]
    for name, reader, text in cases:
        started = time.perf_counter()
        title, body = reader(text, "page.html")
        assert "deep words" in body, name
        print(f"{name}: {time.perf_counter() - started:.2f} s", flush=True)
    """
)


def test_deep_nesting_and_unclosed_markup_take_linear_time():
    """100,000 nested <div>s (1.1 MB) took 473 s (bs4's insert_after walks the subtree
    below each tag); unclosed markup made html.parser rescan to the end at every "<".
    Each took from 13 s to minutes at these sizes; all of them now take a few seconds
    together. The bound is generous: it fails only if one of them is quadratic again."""
    proc = subprocess.run([sys.executable, "-c", HOSTILE_MARKUP], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 12


def test_deeply_nested_html_keeps_its_text_title_and_paragraphs():
    from citesearch.corpus.formats import read_html

    n = 5_000  # deep enough for a recursive walk to fail; the speed is the test above
    html = "<title>T</title>" + "<div><span>" * n + "<h1>Head</h1>inner words" + "</span></div>" * n + "<p>after</p>"
    assert read_html(html) == ("T", "Head\n\ninner words\n\nafter")
    assert read_html(html.replace("<title>T</title>", ""))[0] == "Head"


def test_html_the_parser_refuses_is_read_not_a_traceback():
    """html.parser raises AssertionError on a <![ section it does not know: it is read
    as HTML5 reads it, a bogus comment up to the next ">"."""
    from citesearch.corpus.formats import read_html

    assert read_html("<p>one</p><![ x]><p>two</p><![foo bar]>three") == ("one", "one\n\ntwo\n\nthree")


def test_a_page_whose_text_looks_like_a_file_name_is_indexed_without_a_warning(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.html").write_text("index.html")
    proc = _cli("index", tmp_path / "docs", "--index", tmp_path / "idx")
    assert proc.returncode == 0 and _stderr_lines(proc.stderr) == [proc.stderr.strip()], proc.stderr
    assert proc.stderr.startswith("Indexed 1 document")


HOSTILE_TOPICS = textwrap.dedent(
    """
    import os, sys, tempfile
    from citesearch.errors import CitesearchError
    from citesearch.search.queryfiles import read_queries
    n = 80_000
    cases = {
        "unclosed tops": "<top>" * n,
        "unclosed topics": '<topic number="1">' * n,
        "unclosed fields": '<topics><topic number="1">' + "<query>" * n + "</topic>",
        "unclosed CDATA": '<topics><topic number="1"><query>' + "<![CDATA[" * n + "</query></topic>",
        "unclosed subtopics": '<topics><topic number="1"><query>x</query>' + "<subtopic" * n + "</topic>",
        "many topics": '<topic number="1"><query>x</query></topic>\\n' * n,
    }
    for name, text in cases.items():
        path = os.path.join(tempfile.mkdtemp(), "q.trec")
        with open(path, "w") as f:
            f.write(text)
        try:
            read_queries(path)
        except CitesearchError:
            pass
        print(name, flush=True)
    """
)


def test_topic_files_with_unclosed_tags_take_linear_time():
    """A topic file's patterns searched on to a closing tag from every unclosed opening:
    "<top>" 20,000 times took 8 s, 80,000 times over two minutes. A generous bound."""
    proc = subprocess.run([sys.executable, "-c", HOSTILE_TOPICS], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 6


def test_a_qrels_or_run_line_over_a_mebibyte_is_one_error_line(tmp_path):
    qrels = _bomb(tmp_path / "qrels.txt.gz", 4 << 20)
    run = tmp_path / "run.trec"
    run.write_text("1 Q0 a 1 2.0 r\n")
    result = fails("evaluate", run, "--qrels", qrels)
    assert _stderr_lines(result.stderr) == [f"Error: {qrels}:1: line longer than 1,048,576 characters"]


# -- 2. One bad file aborts the whole build ---------------------------------------------------


def test_a_symlink_loop_is_an_error_line_and_the_rest_is_indexed(docs, tmp_path):
    (docs / "loop.txt").symlink_to("loop.txt")
    (docs / "a.md").symlink_to("b.md")
    (docs / "b.md").symlink_to("a.md")
    (tmp_path / "named.txt").symlink_to("named.txt")
    result = fails("index", docs, tmp_path / "named.txt", "--index", tmp_path / "idx")
    errors = [line for line in _stderr_lines(result.stderr) if line.startswith("Error")]
    loop = "cannot read: Too many levels of symbolic links"
    assert errors == [
        f"Error: {(docs / 'a.md').as_posix()}: {loop}",
        f"Error: {(docs / 'b.md').as_posix()}: {loop}",
        f"Error: {(docs / 'loop.txt').as_posix()}: {loop}",
        f"Error: {tmp_path / 'named.txt'}: {loop}",
    ]
    assert _sources(tmp_path / "idx") == [(docs / "good.txt").as_posix()]


def test_a_folder_tree_deeper_than_the_recursion_limit_is_walked(tmp_path):
    """os.walk (Python < 3.12) recursed once per level: 1,100 levels was a RecursionError.
    Here the limit is lowered to 200 frames more than the test's own, and the tree is 400
    deep (a tree deeper than the default limit takes seconds to make and walk)."""
    depth = 400
    here = tmp_path / "root"
    here.mkdir()
    (here / "top.txt").write_text("top words\n")
    fd = os.open(here, os.O_RDONLY)
    try:
        for _ in range(depth):  # made relative to the last folder: the whole path may be too long for mkdir
            os.mkdir("a", dir_fd=fd)
            fd, old = os.open("a", os.O_RDONLY, dir_fd=fd), fd
            os.close(old)
        with open(os.open("x.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as f:
            f.write("deep words\n")
    finally:
        os.close(fd)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 200)
    try:
        report = LoadReport()
        files = discover([here], report=report)
    finally:
        sys.setrecursionlimit(limit)
        _remove_chain(here, depth)  # shutil.rmtree recurses too: pytest could not remove the tree
    assert [f.doc_id for f in files] == ["top.txt", "a/" * depth + "x.txt"] and report.errors == []


def _remove_chain(root: Path, depth: int) -> None:
    """Remove ``root``, a chain of ``depth`` folders named ``a``, without recursion."""
    fd = os.open(root, os.O_RDONLY)
    for _ in range(depth):
        fd, old = os.open("a", os.O_RDONLY, dir_fd=fd), fd
        os.close(old)
    for _ in range(depth):
        for name in os.listdir(fd):
            os.unlink(name, dir_fd=fd)
        fd, old = os.open("..", os.O_RDONLY, dir_fd=fd), fd
        os.close(old)
        os.rmdir("a", dir_fd=fd)
    os.close(fd)
    shutil.rmtree(root)


def _without_root_powers(probe_dir: Path) -> tuple[str, ...]:
    """A command prefix under which permissions apply: none for an ordinary user; for
    root, setpriv dropping the capabilities that override them (skip if impossible)."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    prefix = (setpriv, "--bounding-set=-dac_override,-dac_read_search") if setpriv else ()
    if prefix:
        probe = subprocess.run(
            [*prefix, sys.executable, "-c", f"import os; os.listdir({str(probe_dir)!r})"], capture_output=True
        )
        if probe.returncode != 0:
            return prefix
    pytest.skip("running as root, and cannot drop the capabilities that bypass permissions")


def test_unreadable_files_and_unlistable_or_unsearchable_directories_are_error_lines(docs, tmp_path):
    locked = docs / "locked"  # readable, not searchable: listed, but no file in it opens
    (locked / "deeper").mkdir(parents=True)
    (locked / "x.txt").write_text("hidden words\n")
    (locked / "deeper" / "y.txt").write_text("deeper words\n")
    unlistable = docs / "unlistable"  # searchable, not readable: cannot be listed
    unlistable.mkdir()
    (unlistable / "z.txt").write_text("unlisted words\n")
    secret = docs / "secret.txt"  # a file that cannot be read
    secret.write_text("secret words\n")
    locked.chmod(0o600)
    unlistable.chmod(0o300)
    secret.chmod(0o000)
    try:
        prefix = _without_root_powers(unlistable)
        proc = _cli("index", docs, "--index", tmp_path / "idx", prefix=prefix)
    finally:
        locked.chmod(0o755)
        unlistable.chmod(0o755)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in _stderr_lines(proc.stderr) if line.startswith("Error")]
    assert errors == [
        f"Error: {locked.as_posix()}: cannot open the files in the directory: Permission denied; skipped",
        f"Error: {unlistable.as_posix()}: cannot list the directory: Permission denied; skipped",
        f"Error: {secret.as_posix()}: cannot read: Permission denied",
    ]
    assert "Indexed 1 document" in proc.stderr


def test_a_file_name_that_is_not_utf8_is_an_error_line_shown_escaped(docs, tmp_path):
    bad = os.fsdecode(os.fsencode(docs) + b"/caf\xe9.txt")
    Path(bad).write_text("latin-1 name\n")
    bad_dir = os.fsdecode(os.fsencode(docs) + b"/d\xff")
    os.mkdir(bad_dir)
    Path(bad_dir, "inside.txt").write_text("words\n")
    result = fails("index", docs, bad, "--index", tmp_path / "idx")
    errors = [line for line in _stderr_lines(result.stderr) if line.startswith("Error")]
    shown = f"{docs.as_posix()}/caf\\xe9.txt"
    assert errors == [
        f"Error: {docs.as_posix()}/d\\xff: the name is not valid UTF-8 (rename it); skipped",
        f"Error: {shown}: the name is not valid UTF-8 (rename it); skipped",
        f"Error: {shown}: the name is not valid UTF-8 (rename it); skipped",
    ]
    assert _sources(tmp_path / "idx") == [(docs / "good.txt").as_posix()]


def test_a_file_name_with_a_newline_is_indexed_and_shown_on_one_line(docs, tmp_path):
    (docs / "two\nlines.txt").write_text("newline words\n")
    (docs / "bin\nary.txt").write_bytes(b"\x00\x01")
    (docs / "dang\nling.md").symlink_to("nowhere.md")
    result = fails("index", docs, "--index", tmp_path / "idx")
    lines = _stderr_lines(result.stderr)
    assert f"Error: {docs.as_posix()}/dang\\nling.md: cannot read: No such file or directory" in lines
    assert f"Warning: skipped 1 binary file(s): {docs.as_posix()}/bin\\nary.txt" in lines
    assert sorted(_sources(tmp_path / "idx")) == [(docs / "good.txt").as_posix(), (docs / "two\nlines.txt").as_posix()]


def test_printable_shows_undecodable_bytes_and_control_characters():
    assert loading.printable("plain/ok é.txt") == "plain/ok é.txt"
    assert loading.printable("a\nb\tc\udcff.txt") == "a\\nb\\tc\\xff.txt"


def test_unwritable_run_file_is_one_error_line_before_any_query_runs(built_index, tmp_path):
    queries = tmp_path / "q.tsv"
    queries.write_text("1\tvolcano\n")
    result = fails("batch", queries, "--index", built_index, "-o", "/proc/nope/x.trec")
    assert _stderr_lines(result.stderr) == ["Error: /proc/nope/x.trec: cannot write: No such file or directory"]
    result = fails("evaluate", "--queries", queries, "--index", built_index, "--qrels", queries, "-o", "/proc/nope/y")
    assert _stderr_lines(result.stderr) == ["Error: /proc/nope/y: cannot write: No such file or directory"]


def test_write_atomically_turns_a_failed_write_into_one_error_and_leaves_nothing(tmp_path):
    from citesearch.search.batch import write_atomically

    def pieces():
        yield "line\n"
        raise OSError(28, "No space left on device")

    with pytest.raises(CitesearchError, match=r"run.trec: cannot write: No space left on device"):
        write_atomically(tmp_path / "run.trec", pieces())
    assert list(tmp_path.iterdir()) == []

    started = []

    def lazy():
        started.append(True)
        yield "x"

    for target in ("/proc/nope/run.trec", tmp_path):
        with pytest.raises(CitesearchError, match="cannot write: (No such file or directory|is a directory)$"):
            write_atomically(target, lazy())
    assert started == []  # the queries were never run


# -- 3. Input lost or misread quietly ----------------------------------------------------------


def test_a_nul_byte_in_a_jsonl_spoils_only_its_line(tmp_path):
    path = tmp_path / "c.jsonl"
    lines = [json.dumps({"_id": str(i), "text": f"document {i}"}) for i in range(50)]
    lines[3] = '{"_id": "3", "text": "bad \x00 byte"}'
    path.write_text("\n".join(lines) + "\n")
    report = LoadReport()
    assert len(list(load_documents([path], report=report))) == 49
    assert report.binary == []
    assert [e.split(" (")[0] for e in report.errors] == [f"{path.as_posix()}:4: malformed JSON"]


def test_a_binary_file_named_jsonl_is_still_skipped_as_binary(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(gzip.compress(b'{"_id": "1", "text": "x"}\n' * 100) + b"\x00")
    report = LoadReport()
    with pytest.raises(CitesearchError, match="no readable documents"):
        list(load_documents([path], report=report))
    assert report.binary == [path.as_posix()] and report.errors == []


@pytest.mark.parametrize(
    "value, problem",
    [
        ('""', '"_id" is empty'),
        ('"  "', '"_id" is only white space'),
        ("null", '"_id" must be a string or a number, not null'),
        ("true", '"_id" must be a string or a number, not true/false'),
        ("[1]", '"_id" must be a string or a number, not an array'),
        ('{"a": 1}', '"_id" must be a string or a number, not an object'),
        ("NaN", '"_id" must be a string or a number, not nan'),
        ('"' + "x" * 1001 + '"', '"_id" is longer than 1,000 characters'),
    ],
)
def test_absurd_jsonl_ids_are_line_errors(tmp_path, value, problem):
    path = tmp_path / "c.jsonl"
    path.write_text('{"_id": "ok", "text": "kept"}\n{"_id": ' + value + ', "text": "lost"}\n{"_id": 7, "text": "n"}\n')
    report = LoadReport()
    assert [d.id for d in load_documents([path], report=report)] == ["ok", "7"]
    assert report.errors == [f"{path.as_posix()}:2: {problem}; line skipped"]


def test_jsonl_lines_json_reads_but_cannot_store_are_fixed_or_line_errors(tmp_path):
    """Lone surrogates (json reads them from escapes; UTF-8 and so the store cannot hold
    them: a traceback at the end of the build) become U+FFFD; nesting too deep for json,
    or a number too long for it, are errors for their line."""
    path = tmp_path / "c.jsonl"
    path.write_text(
        '{"_id": "s\\ud800", "text": "lone \\udc00 half", "metadata": {"k\\ud801": ["\\udfff"]}}\n'
        + "[" * 100_000 + "\n"
        + '{"_id": 1' + "1" * 5000 + ', "text": "x"}\n'
    )
    report = LoadReport()
    (doc,) = load_documents([path], report=report)
    assert (doc.id, doc.text, doc.metadata) == ("s\ufffd", "lone \ufffd half", {"k\ufffd": ["\ufffd"]})
    assert report.errors == [
        f"{path.as_posix()}:2: malformed JSON (nested too deeply); line skipped",
        f"{path.as_posix()}:3: malformed JSON (a number too long); line skipped",
    ]
    fails("index", path, "--index", tmp_path / "idx")  # stored, not a traceback
    assert json.loads(ok("show", "s\ufffd", "--index", tmp_path / "idx", "--format", "json").stdout)["id"] == "s\ufffd"


def test_qrels_first_line_that_is_a_judgment_is_not_a_header(tmp_path):
    from citesearch.evaluation import read_qrels

    trec = tmp_path / "qrels.txt"
    trec.write_text("1 0 1410 2.0\n1 0 1411 1\n")
    assert read_qrels(trec) == {"1": {"1410": 2, "1411": 1}}
    beir = tmp_path / "qrels.tsv"
    beir.write_text("query-id\tcorpus-id\tscore\n1\t1410\t1\n")
    assert read_qrels(beir) == {"1": {"1410": 1}}


@pytest.mark.parametrize("grade", ["inf", "-inf", "nan", "2.5", "1e400", "high"])
def test_a_grade_that_is_not_an_integer_is_one_error_line(tmp_path, grade):
    qrels = tmp_path / "qrels.txt"
    qrels.write_text(f"1 0 a 1\n1 0 b {grade}\n")
    run = tmp_path / "run.trec"
    run.write_text("1 Q0 a 1 2.0 r\n")
    result = fails("evaluate", run, "--qrels", qrels)
    assert _stderr_lines(result.stderr) == [
        f"Error: {qrels}:2: relevance {grade!r} is not an integer grade (as trec_eval reads them)"
    ]


def test_a_nan_score_in_a_run_is_one_error_line(tmp_path):
    qrels = tmp_path / "qrels.txt"
    qrels.write_text("1 0 a 1\n")
    run = tmp_path / "run.trec"
    run.write_text("1 Q0 a 1 2.0 r\n1 Q0 b 2 nan r\n")
    result = fails("evaluate", run, "--qrels", qrels)
    assert _stderr_lines(result.stderr) == [f"Error: {run}:2: score 'nan' is not a number (it cannot be ranked)"]


def test_a_byte_order_mark_is_not_part_of_the_first_id(tmp_path, built_index):
    from citesearch.evaluation import read_qrels, read_run
    from citesearch.search.queryfiles import read_queries

    bom = "\ufeff"
    (tmp_path / "qrels.txt").write_text(bom + "q1 0 d1 1\n", encoding="utf-8")
    (tmp_path / "qrels.tsv").write_text(bom + "query-id\tcorpus-id\tscore\nq1\td1\t1\n", encoding="utf-8")
    with gzip.open(tmp_path / "qrels.txt.gz", "wt", encoding="utf-8") as f:
        f.write(bom + "q1 0 d1 1\n")
    for name in ("qrels.txt", "qrels.tsv", "qrels.txt.gz"):
        assert read_qrels(tmp_path / name) == {"q1": {"d1": 1}}, name
    (tmp_path / "run.trec").write_text(bom + "q1 Q0 d1 1 3.5 tag\n", encoding="utf-8")
    assert read_run(tmp_path / "run.trec") == ({"q1": {"d1": 3.5}}, "tag")
    for name, text in {
        "q.tsv": "q1\tvolcano\n",
        "q.jsonl": '{"_id": "q1", "text": "volcano"}\n',
        "q.txt": "volcano\n",
        "q.trec": "<top><num> q1 <title> volcano </top>\n",
    }.items():
        (tmp_path / name).write_text(bom + text, encoding="utf-8")
        qid = read_queries(tmp_path / name).queries[0][0]
        assert qid == ("1" if name == "q.txt" else "q1"), name
    (tmp_path / "c.jsonl").write_text(bom + '{"_id": "d1", "text": "volcano"}\n', encoding="utf-8")
    assert [d.id for d in load_documents([tmp_path / "c.jsonl"])] == ["d1"]


@pytest.mark.parametrize(
    "line, problem",
    [
        ('{"_id": null, "text": "volcano"}', '"_id" must be a string or a number, not null'),
        ('{"_id": "", "text": "volcano"}', '"_id" is empty'),
        ('{"_id": " ", "text": "volcano"}', '"_id" is only white space'),
        ('{"_id": "q2", "text": null}', '"text" must be a string or a number, not null'),
        ('{"_id": "q2", "text": "  "}', '"text" is only white space'),
        ("[" * 100_000, 'expected {"_id": ..., "text": ...} (RecursionError)'),
        ('{"_id": ' + "9" * 5000 + ', "text": "x"}', 'expected {"_id": ..., "text": ...} (ValueError)'),
    ],
)
def test_query_file_ids_that_would_write_broken_runs_are_line_errors(tmp_path, built_index, line, problem):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"_id": 1, "text": "volcano"}\n' + line + "\n")
    result = fails("batch", queries, "--index", built_index, "-o", tmp_path / "run.trec")
    assert f"Error: {queries}:2: {problem}; line skipped" in _stderr_lines(result.stderr)
    run = (tmp_path / "run.trec").read_text()
    assert run and all(line.split()[0] == "1" and len(line.split()) == 6 for line in run.splitlines())


def test_a_run_name_with_white_space_is_refused(built_index, tmp_path):
    queries = tmp_path / "q.tsv"
    queries.write_text("1\tvolcano\n")
    for name in ("my run", "", "tab\tbed"):
        result = fails("batch", queries, "--index", built_index, "-o", tmp_path / "run.trec", "--run-name", name)
        assert _stderr_lines(result.stderr) == [f"Error: the run name must be one word, without white space: {name!r}"]
    assert not (tmp_path / "run.trec").exists()


@pytest.mark.parametrize("level", ["-5", "0"])
def test_a_relevance_level_below_one_is_refused(tmp_path, level):
    from citesearch.evaluation import evaluate, parse_measure

    run = tmp_path / "run.trec"
    run.write_text("1 Q0 a 1 2.0 r\n1 Q0 b 2 1.0 r\n")
    qrels = tmp_path / "qrels.txt"
    qrels.write_text("1 0 a 1\n")
    result = fails("evaluate", run, "--qrels", qrels, "-l", level, code=2)
    assert "Invalid value for '-l' / '--relevance-level'" in result.stderr
    with pytest.raises(CitesearchError, match="relevance level"):
        evaluate({"1": {"a": 1.0}}, {"1": {"a": 1}}, [parse_measure("AP")], level=int(level))


def _float_options():
    import click

    from citesearch.cli import cli

    for name, command in cli.commands.items():
        for param in command.params:
            if isinstance(param.type, click.FloatRange) or param.type is click.FLOAT:
                yield name, param


def test_every_float_option_refuses_nan_and_inf():
    from citesearch.cli import FiniteRange

    found = list(_float_options())
    assert {(c, p.opts[-1]) for c, p in found} >= {("index", "--k1"), ("search", "--b"), ("batch", "--fb-weight")}
    for command, param in found:
        assert isinstance(param.type, FiniteRange), (command, param.opts)
        for value in ("nan", "inf", "-inf", "NaN"):
            result = invoke(command, param.opts[-1], value, "x")
            assert result.exit_code == 2 and "is not a finite number" in result.stderr, (command, param.opts, value)


def test_k1_nan_no_longer_returns_nothing_with_status_0(built_index):
    result = fails("search", "volcano", "--index", built_index, "--k1", "nan", code=2)
    assert "Invalid value for '--k1': 'nan' is not a finite number." in result.stderr
    ok("search", "volcano", "--index", built_index, "--k1", "1.5")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_the_python_api_refuses_nan_and_inf_parameters_too(bad):
    from citesearch.errors import CitesearchError
    from citesearch.indexer.bm25 import BM25Params
    from citesearch.indexer.dfr import DFRParams
    from citesearch.search.expansion import RM3
    from citesearch.search.options import SearchOptions

    for make in (
        lambda: BM25Params(k1=bad), lambda: BM25Params(b=bad), lambda: BM25Params(delta=bad),
        lambda: RM3(weight=bad), lambda: SearchOptions(rrf_k=bad), lambda: SearchOptions(linear_weight=bad),
        lambda: DFRParams(c=bad),
    ):
        with pytest.raises((ValueError, CitesearchError)):
            make()
    BM25Params(k1=0.0, b=1.0, delta=0.0)  # the bounds themselves are fine


# -- 4. Permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_run_files_get_the_permissions_the_umask_gives(built_index, tmp_path, umask, mode):
    queries = tmp_path / "q.tsv"
    queries.write_text("1\tvolcano\n")
    run = tmp_path / "run.trec"
    proc = _cli("batch", queries, "--index", built_index, "-o", run, "--workers", "1",
                preexec_fn=lambda: os.umask(umask))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(run.stat().st_mode) == mode


def test_discover_reports_instead_of_raising(tmp_path):
    """The library too: discover() and read_file() report every problem above."""
    (tmp_path / "loop.txt").symlink_to("loop.txt")
    os.mkfifo(tmp_path / "pipe.md")
    report = LoadReport()
    assert discover([tmp_path, tmp_path / "missing.txt"], report=report) == []
    assert report.errors == [
        f"{(tmp_path / 'loop.txt').as_posix()}: cannot read: Too many levels of symbolic links",
        f"{tmp_path / 'missing.txt'}: no such file or directory",
    ]
    assert report.special == [(tmp_path / "pipe.md").as_posix()]
    f = InputFile(tmp_path / "gone.txt", "gone.txt", "gone.txt")
    assert list(read_file(f, report)) == []
    assert report.errors[-1] == "gone.txt: cannot read: No such file or directory"
