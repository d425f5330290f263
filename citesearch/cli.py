"""The ``citesearch`` command: a thin click layer over the library.

It validates options, calls the library, and formats; data goes to stdout, progress and
diagnostics to stderr. Heavy imports (NLTK, scikit-learn) happen only inside ``index``.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import click

from . import __version__
from .errors import CitesearchError

METHODS = ("bm25", "tfidf", "hybrid")
VARIANTS = ("okapi", "lucene", "bm25+", "bm25l")
FORMATS = ("text", "json", "jsonl", "markdown")
FUSIONS = ("rrf", "linear")


def _fail(message: str, hint: str | None = None) -> None:
    click.echo(f"Error: {message}" + (f" — {hint}" if hint else ""), err=True)
    sys.exit(1)


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Library errors become a one-line message and exit status 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CitesearchError as exc:
            _fail(str(exc), exc.hint)
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)

    return wrapper


def index_dir_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--index",
        "index_dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Index directory  [default: $CITESEARCH_INDEX, else ./.citesearch]",
    )(fn)


def _index_path(index_dir: str | None) -> str:
    return index_dir or os.environ.get("CITESEARCH_INDEX") or ".citesearch"


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, n: int) -> None:
        pass


def _progress(length: int, label: str) -> Any:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        return _NoBar()
    return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True, show_eta=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="citesearch")
def cli() -> None:
    """Search a pile of documents and get ranked passages with citations.

    \b
    Example:
        citesearch index docs/ --index .citesearch
        citesearch search "caffeine half-life"
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@index_dir_option
@click.option("--include", multiple=True, metavar="GLOB", help="Only files matching GLOB (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files matching GLOB (repeatable).")
@click.option("--passage-words", type=click.IntRange(10, 10_000), default=None, help="Words per passage, about.  [default: 120]")
@click.option("--overlap", type=click.IntRange(0, 20), default=None, help="Sentences repeated between passages.  [default: 0]")
@click.option("--stemmer", type=click.Choice(["snowball", "porter", "none"]), default=None, help="[default: snowball]")
@click.option("--stopwords", type=click.Choice(["english", "none"]), default=None, help="[default: english]")
@click.option("--variant", type=click.Choice(VARIANTS), default=None, help="BM25 variant.  [default: okapi]")
@click.option("--k1", type=click.FloatRange(0), default=None, help="BM25 k1.  [default: 0.9]")
@click.option("--b", "b", type=click.FloatRange(0, 1), default=None, help="BM25 b.  [default: 0.4]")
@click.option("--method", type=click.Choice(METHODS), default=None, help="Default search method saved in the index.  [default: hybrid]")
@click.option("--strict", is_flag=True, help="Fail on the first unreadable file or malformed line, keeping the previous index.")
@friendly_errors
def index(paths, index_dir, include, exclude, passage_words, overlap, stemmer, stopwords, variant, k1, b, method, strict) -> None:
    """Index files and directories of documents into an index directory.

    Reads .txt .md .rst .html .htm and .jsonl (BEIR: one {"_id", "title", "text"} per
    line), each optionally gzipped. Directories are walked recursively; hidden files,
    binary files and links leading outside are skipped. Unreadable files and malformed
    lines are reported and skipped (exit status 1 at the end); the index is replaced
    only when the new one is complete.

    \b
    Example:
        citesearch index examples/coffee --index /tmp/coffee
        citesearch index notes/ papers.jsonl.gz --exclude 'drafts/*'
    """
    from dataclasses import replace

    from .corpus import LoadReport, discover, read_documents
    from .indexer.analysis import AnalyzerConfig
    from .indexer.bm25 import BM25Params
    from .indexer.builder import DEFAULT_METHOD, IndexSettings, build_index

    settings = IndexSettings()
    settings = replace(
        settings,
        analyzer=replace(
            settings.analyzer,
            **{k: v for k, v in {"stemmer": stemmer, "stopwords": stopwords}.items() if v is not None},
        ),
        bm25=BM25Params(
            variant or settings.bm25.variant,
            settings.bm25.k1 if k1 is None else k1,
            settings.bm25.b if b is None else b,
        ),
        passage_words=passage_words or settings.passage_words,
        passage_overlap=settings.passage_overlap if overlap is None else overlap,
    )
    target = _index_path(index_dir)
    report = LoadReport(strict=strict)
    files = discover(paths, include, exclude, report)
    started = time.perf_counter()
    with _progress(len(files), "Indexing") as bar:
        docs = read_documents(files, report, on_file=lambda f: bar.update(1))
        summary = build_index(docs, target, settings, method=method or DEFAULT_METHOD)
    for line in report.warnings():
        click.echo(f"Warning: {line}", err=True)
    for line in report.errors:
        click.echo(f"Error: {line}", err=True)
    click.echo(
        f"Indexed {summary.sources:,} documents into {summary.passages:,} passages, "
        f"{summary.terms:,} terms in {time.perf_counter() - started:.1f} s → {target}",
        err=True,
    )
    if report.errors:
        click.echo(f"{len(report.errors)} input error(s): those inputs were skipped.", err=True)
        sys.exit(1)


@cli.command()
@click.argument("query")
@index_dir_option
@click.option("-k", "--top", "k", type=click.IntRange(1), default=10, show_default=True, help="How many passages.")
@click.option("--method", type=click.Choice(METHODS), default=None, help="[default: the index's, hybrid]")
@click.option("--fusion", type=click.Choice(FUSIONS), default="rrf", show_default=True, help="How hybrid combines BM25 and TF-IDF.")
@click.option("--per-source", type=click.IntRange(1), default=None, help="At most N passages from one source.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--explain", is_flag=True, help="Show each query term's BM25 contribution (text format).")
@click.option("--variant", type=click.Choice(VARIANTS), default=None, help="BM25 variant for this query.  [default: the index's]")
@click.option("--k1", type=click.FloatRange(0), default=None, help="BM25 k1 for this query.")
@click.option("--b", "b", type=click.FloatRange(0, 1), default=None, help="BM25 b for this query.")
@click.option("--color/--no-color", default=None, help="Bold matches.  [default: on a terminal, unless NO_COLOR is set]")
@friendly_errors
def search(query, index_dir, k, method, fusion, per_source, fmt, explain, variant, k1, b, color) -> None:
    """Search the index and print ranked passages with citations.

    \b
    Query syntax:
        word            a search term
        "exact phrase"  words together, in order
        -word           leave out passages containing it
        source:GLOB     only sources whose path matches (e.g. source:*.md)
        title:word      only sources whose title has the word

    \b
    Example:
        citesearch search '"cold brew" extraction -espresso' -k 5
        citesearch search 'caffeine source:*.md' --format json
    """
    from .search.formats import FORMATS as RENDER
    from .search.searcher import Index

    with Index.open(_index_path(index_dir)) as idx:
        params = None
        if variant or k1 is not None or b is not None:
            from .indexer.bm25 import BM25Params

            base = idx.scorer.index_bm25
            params = BM25Params(variant or base.variant, base.k1 if k1 is None else k1, base.b if b is None else b)
        found = idx.search(query, k=k, method=method, per_source=per_source, fusion=fusion, bm25_params=params, explain=explain)
    if color is None:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    sys.stdout.write(RENDER[fmt](found, color=color, explain=explain))


@cli.command()
@index_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the whole manifest as JSON.")
@click.option("--verify", is_flag=True, help="Check every file against the manifest's checksums.")
@friendly_errors
def info(index_dir, as_json, verify) -> None:
    """Summarize an index: counts, analysis, passage and scoring settings.

    \b
    Example:
        citesearch info --index /tmp/coffee
    """
    import json

    from .indexer.storage import IndexReader

    reader = IndexReader(_index_path(index_dir))
    m = reader.manifest
    if as_json:
        click.echo(json.dumps(m, indent=2, ensure_ascii=False))
    else:
        c, a, p, bm, tf = m["counts"], m["analyzer"], m["passages"], m["bm25"], m["tfidf"]
        size = sum(f["bytes"] for f in m["files"].values())
        click.echo(f"Index      {reader.path}  (format {m['format_version']}, {m['created_by']}, {m['created']})")
        click.echo(f"Contents   {c['sources']:,} sources, {c['passages']:,} passages, {c['terms']:,} terms, {c['postings']:,} postings, {size / 1e6:.1f} MB")
        click.echo(f"Analysis   tokens {a['token_pattern']}, stop words {a['stopwords']}, stemmer {a['stemmer']}, accents {'folded' if a['strip_accents'] else 'kept'}")
        click.echo(f"Passages   about {p['words']} words, overlap {p['overlap']} sentence(s), average {bm['avg_passage_length']:.1f} terms")
        click.echo(f"BM25       {bm['variant']} k1={bm['k1']} b={bm['b']}" + (f" delta={bm['delta']}" if bm["delta"] else ""))
        click.echo(f"TF-IDF     sublinear tf {'on' if tf['sublinear_tf'] else 'off'}, smooth idf {'on' if tf['smooth_idf'] else 'off'}, l2 norm")
        click.echo(f"Search     default method {m['search']['method']}")
    if verify:
        bad = reader.verify()
        if bad:
            _fail(f"index at {reader.path} is damaged: {', '.join(bad)} changed since it was written", "Rebuild the index.")
        click.echo("Checksums  all files match", err=True)
    reader.close()


def main() -> None:
    cli(prog_name="citesearch")
