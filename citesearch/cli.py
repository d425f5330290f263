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
from .corpus.passages import DEFAULT_OVERLAP, DEFAULT_WORDS
from .errors import CitesearchError
from .evaluation.measures import DEFAULT_MEASURES
from .indexer.analysis import STEMMERS, STOPWORD_LISTS, AnalyzerConfig
from .indexer.bm25 import BM25_VARIANTS, DEFAULT_B, DEFAULT_K1, BM25Params
from .search.batch import LEVELS, RUN_FORMATS
from .search.expansion import RM3
from .search.formats import FORMATS as RENDERERS
from .search.fusion import FUSERS
from .search.queryfiles import QUERY_FORMATS, TOPIC_FIELDS
from .indexer.manifest import DEFAULT_METHOD, METHODS
from .search.searcher import AGGREGATES

VARIANTS = tuple(BM25_VARIANTS)
FORMATS = tuple(RENDERERS)
FUSIONS = tuple(FUSERS)


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
    from .indexer.storage import default_index_path

    return index_dir or str(default_index_path())


def _plural(n: int, word: str) -> str:
    """``1 source``, ``2 sources``, ``1,000 queries``."""
    if n == 1:
        return f"1 {word}"
    return f"{n:,} " + (word[:-1] + "ies" if word.endswith("y") else word + "s")


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, n: int) -> None:
        pass


def _progress(length: int, label: str, unit: str | None = None) -> Any:
    """A progress bar on stderr when it is a terminal; nothing otherwise.

    With ``unit``, the bar also shows the rate, e.g. "412 queries/s".
    """
    if not sys.stderr.isatty():
        return _NoBar()
    started = time.perf_counter()
    bar = click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True, show_eta=True)
    if unit:
        bar.item_show_func = lambda _: f"{bar.pos / max(time.perf_counter() - started, 1e-9):,.0f} {unit}/s"
    return bar


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
@click.option("--passage-words", type=click.IntRange(10, 10_000), default=None, help=f"Words per passage, about.  [default: {DEFAULT_WORDS}]")
@click.option("--overlap", type=click.IntRange(0, 20), default=None, help=f"Sentences repeated between passages.  [default: {DEFAULT_OVERLAP}]")
@click.option("--stemmer", type=click.Choice(STEMMERS), default=None, help=f"[default: {AnalyzerConfig.stemmer}]")
@click.option("--stopwords", type=click.Choice(STOPWORD_LISTS), default=None, help=f"[default: {AnalyzerConfig.stopwords}]")
@click.option("--variant", type=click.Choice(VARIANTS), default=None, help=f"BM25 variant.  [default: {BM25Params.variant}]")
@click.option("--k1", type=click.FloatRange(0), default=None, help=f"BM25 k1.  [default: {DEFAULT_K1}]")
@click.option("--b", "b", type=click.FloatRange(0, 1), default=None, help=f"BM25 b.  [default: {DEFAULT_B}]")
@click.option("--method", type=click.Choice(METHODS), default=None, help=f"Default search method saved in the index.  [default: {DEFAULT_METHOD}]")
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
    from .indexer.builder import IndexSettings, build_index

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
        f"Indexed {summary.sources:,} document{'' if summary.sources == 1 else 's'} into "
        f"{summary.passages:,} passage{'' if summary.passages == 1 else 's'}, "
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
    from .search.searcher import Index

    with Index.open(_index_path(index_dir)) as idx:
        params = None
        if variant or k1 is not None or b is not None:
            base = idx.scorer.index_bm25
            params = BM25Params(variant or base.variant, base.k1 if k1 is None else k1, base.b if b is None else b)
        found = idx.search(query, k=k, method=method, per_source=per_source, fusion=fusion, bm25_params=params, explain=explain)
    if color is None:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    sys.stdout.write(RENDERERS[fmt](found, color=color, explain=explain))


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
        click.echo(json.dumps(m.to_dict(), indent=2, ensure_ascii=False))
    else:
        c, a, bm = m.counts, m.analyzer, m.bm25
        size = sum(f.bytes for f in m.files.values())
        click.echo(f"Index      {reader.path}  (format {m.format_version}, {m.created_by}, {m.created})")
        click.echo(
            f"Contents   {_plural(c.sources, 'source')}, {_plural(c.passages, 'passage')}, {_plural(c.terms, 'term')}, "
            f"{_plural(c.postings, 'posting')}, {size / 1e6:.1f} MB"
        )
        click.echo(
            f"Analysis   tokens {a.token_pattern}, stop words {a.stopwords}, stemmer {a.stemmer}, "
            f"accents {'folded' if a.strip_accents else 'kept'}"
        )
        click.echo(
            f"Passages   about {m.passage_words} words, overlap {m.passage_overlap} sentence(s), "
            f"average {m.avg_passage_length:.1f} terms"
        )
        delta = f" delta={bm.effective_delta}" if bm.effective_delta else ""
        click.echo(f"BM25       {bm.variant} k1={bm.k1} b={bm.b}{delta}")
        click.echo(
            f"TF-IDF     sublinear tf {'on' if m.tfidf.sublinear_tf else 'off'}, "
            f"smooth idf {'on' if m.tfidf.smooth_idf else 'off'}, l2 norm"
        )
        click.echo(f"Search     default method {m.method}")
    if verify:
        bad = reader.verify()
        if bad:
            _fail(f"index at {reader.path} is damaged: {', '.join(bad)} changed since it was written", "Rebuild the index.")
        click.echo("Checksums  all files match", err=True)
    reader.close()


def _rm3_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed(
        [
            click.option("--expand", type=click.Choice(["none", "rm3"]), default="none", show_default=True, help="Pseudo-relevance feedback."),
            click.option("--fb-docs", type=click.IntRange(1), default=RM3.fb_docs, show_default=True, help="RM3 feedback passages."),
            click.option("--fb-terms", type=click.IntRange(1), default=RM3.fb_terms, show_default=True, help="RM3 expansion terms."),
            click.option("--fb-weight", type=click.FloatRange(0, 1), default=RM3.weight, show_default=True, help="RM3 weight of the original query."),
        ]
    ):
        fn = decorator(fn)
    return fn


def _ranking_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed(
        [
            click.option("--method", type=click.Choice(METHODS), default=None, help=f"[default: the index's, {DEFAULT_METHOD}]"),
            click.option("--fusion", type=click.Choice(FUSIONS), default="rrf", show_default=True, help="How hybrid combines BM25 and TF-IDF."),
            click.option("--level", type=click.Choice(LEVELS), default="document", show_default=True, help="Rank documents (by their passages) or passages."),
            click.option("--aggregate", type=click.Choice(AGGREGATES), default="max", show_default=True, help="A document's score from its passages'."),
            click.option("--syntax/--no-syntax", default=False, show_default=True, help="Read queries with the search syntax (phrases, -word, filters)."),
            click.option("--workers", type=click.IntRange(0), default=0, help="Worker processes  [default: one per core]"),
        ]
    ):
        fn = decorator(fn)
    return _rm3_option(fn)


def _batch_options(k, method, fusion, level, aggregate, syntax, expand, fb_docs, fb_terms, fb_weight, fmt="trec", run_name=None):
    from .search.batch import BatchOptions

    return BatchOptions(
        k=k or (1000 if fmt == "trec" else 10),
        method=method,
        fusion=fusion,
        expand=RM3(fb_docs, fb_terms, fb_weight) if expand == "rm3" else None,
        level=level,
        aggregate=aggregate,
        fmt=fmt,
        run_name=run_name or f"citesearch-{method or DEFAULT_METHOD}" + ("-rm3" if expand == "rm3" else ""),
        syntax=syntax,
    )


def _run_batch(index_path: str, queries: list[tuple[str, str]], opts, workers: int, errors: list[str]):
    """Yield output lines per query with a progress bar (queries/s) on stderr."""
    from .search.batch import run_queries

    started = time.perf_counter()
    with _progress(len(queries), "Searching", "queries") as bar:
        for lines, error in run_queries(index_path, queries, opts, workers):
            if error:
                errors.append(error)
            bar.update(1)
            yield lines
    seconds = time.perf_counter() - started
    n = len(queries)
    click.echo(f"{n:,} quer{'y' if n == 1 else 'ies'} in {seconds:.1f} s ({n / max(seconds, 1e-9):,.0f} q/s)", err=True)


@cli.command()
@click.argument("queries_file", metavar="QUERIES", type=click.Path(dir_okay=False))
@index_dir_option
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The run file to write ('-' for stdout).")
@click.option("--format", "fmt", type=click.Choice(RUN_FORMATS), default="trec", show_default=True)
@click.option("-k", "--top", "k", type=click.IntRange(1), default=None, help="Results per query  [default: 1000 for trec, else 10]")
@click.option("--run-name", default=None, help="Run tag in TREC output  [default: citesearch-METHOD]")
@click.option("--query-format", type=click.Choice(QUERY_FORMATS), default=None, help="[default: from the extension and content]")
@click.option("--topic-field", type=click.Choice(TOPIC_FIELDS), default="title", show_default=True, help="TREC topics: which field is the query.")
@click.option("--strict", is_flag=True, help="Stop at the first malformed query line.")
@_ranking_options
@friendly_errors
def batch(queries_file, index_dir, output, fmt, k, run_name, query_format, topic_field, strict, method, fusion, level, aggregate, syntax, workers, expand, fb_docs, fb_terms, fb_weight) -> None:
    """Run every query of a file and write a run file.

    QUERIES is plain text (one query per line, ids 1..n), TSV (id<TAB>query), JSONL
    ({"_id", "text"}) or TREC topics (<top><num><title>...</top>). TREC output is
    `qid Q0 docid rank score run_name`; documents with equal scores are ranked by id,
    descending, which is how trec_eval orders ties.

    \b
    Example:
        citesearch batch topics.txt --index idx -o run.trec
        citesearch batch queries.jsonl --index idx -o run.jsonl --format jsonl --level passage
    """
    from .search.batch import write_atomically
    from .search.queryfiles import read_queries

    qf = read_queries(queries_file, query_format, topic_field, strict)
    for err in qf.errors:
        click.echo(f"Error: {err}", err=True)
    opts = _batch_options(k, method, fusion, level, aggregate, syntax, expand, fb_docs, fb_terms, fb_weight, fmt, run_name)
    path = _index_path(index_dir)
    from .search.searcher import Index

    Index.open(path).close()  # a missing or unreadable index fails here, before any work
    errors: list[str] = []
    pieces = _run_batch(path, qf.queries, opts, workers, errors)
    if output == "-":
        for piece in pieces:
            sys.stdout.write(piece)
    else:
        write_atomically(output, pieces)
    for err in errors:
        click.echo(f"Warning: {err}", err=True)
    if qf.errors:
        sys.exit(1)


@cli.command()
@click.argument("runs", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--qrels", required=True, type=click.Path(dir_okay=False), help="Judgments: TREC (qid iter docid rel) or BEIR TSV.")
@click.option("--metrics", default=",".join(DEFAULT_MEASURES), show_default=True, help="Comma-separated, ir_measures names.")
@click.option("--per-query", is_flag=True, help="Also show each query's values.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
@click.option("-c", "--complete", is_flag=True, help="Count judged queries missing from a run as 0 (trec_eval -c).")
@click.option("-l", "--relevance-level", type=int, default=1, show_default=True, help="Minimum judgment that counts as relevant (trec_eval -l).")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="With 2+ runs: PNG of per-query deltas (needs matplotlib).")
@click.option("--queries", "queries_file", type=click.Path(dir_okay=False), default=None, help="Run these queries on --index first, then evaluate.")
@index_dir_option
@click.option("-k", "--top", "k", type=click.IntRange(1), default=1000, show_default=True, help="With --queries: results per query.")
@_ranking_options
@friendly_errors
def evaluate(runs, qrels, metrics, per_query, fmt, complete, relevance_level, plot, queries_file, index_dir, k, method, fusion, level, aggregate, syntax, workers, expand, fb_docs, fb_terms, fb_weight) -> None:
    """Score run files against relevance judgments, as trec_eval does.

    Measures: nDCG@k, AP, P@k, R@k, RR (or RR@k), Success@k, Bpref, Judged@k.
    Queries without judgments are skipped and counted; judged queries a run lacks are
    skipped too unless -c. With two or more runs, each is compared with the first.

    \b
    Example:
        citesearch evaluate run.trec --qrels qrels.txt
        citesearch evaluate bm25.trec hybrid.trec --qrels qrels.txt --metrics nDCG@10,AP
        citesearch evaluate --index idx --queries queries.jsonl --qrels qrels/test.tsv
    """
    from .evaluation import evaluate as evaluate_run
    from .evaluation import parse_measure, parse_run, read_qrels, read_run, report

    measures = [parse_measure(m) for m in metrics.split(",") if m.strip()]
    if plot and len(runs) + bool(queries_file) < 2:
        raise click.UsageError("--plot compares runs: give two or more")
    judgments = read_qrels(qrels)
    bad_queries: list[str] = []
    loaded: dict[str, dict] = {}
    for path in runs:
        run, tag = read_run(path)
        loaded[_unique(tag, loaded)] = run
    if queries_file:
        from .search.queryfiles import read_queries

        qf = read_queries(queries_file)
        bad_queries = qf.errors
        for err in qf.errors:
            click.echo(f"Error: {err}", err=True)
        opts = _batch_options(k, method, fusion, level, aggregate, syntax, expand, fb_docs, fb_terms, fb_weight)
        errors: list[str] = []
        lines = "".join(_run_batch(_index_path(index_dir), qf.queries, opts, workers, errors))
        for err in errors:
            click.echo(f"Warning: {err}", err=True)
        loaded[_unique(opts.run_name, loaded)] = parse_run(lines.splitlines(), "(queries)")[0]
    if not loaded:
        raise click.UsageError("give run files, or --queries with --index")
    evaluations = {name: evaluate_run(run, judgments, measures, relevance_level, complete) for name, run in loaded.items()}
    names = [str(m) for m in measures]
    if fmt == "json":
        click.echo(report.to_json(evaluations), nl=False)
    elif fmt == "csv":
        click.echo(report.to_csv(evaluations, names, per_query), nl=False)
    else:
        click.echo(report.to_text(evaluations, names, per_query), nl=False)
    if plot:
        report.plot(evaluations, names[0], plot)
        click.echo(f"Wrote {plot}", err=True)
    if bad_queries:
        sys.exit(1)


def _unique(name: str, taken: dict) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    return candidate


def main() -> None:
    cli(prog_name="citesearch")
