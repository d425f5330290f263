"""The ``citesearch`` command: a thin click layer over the library.

It validates options, calls the library, and formats; data goes to stdout, progress and
diagnostics to stderr. Heavy imports (NLTK, and scikit-learn through it) happen only inside
``index``.
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from . import __version__
from .corpus.passages import DEFAULT_OVERLAP, DEFAULT_TITLE_WEIGHT, DEFAULT_WORDS
from .errors import CitesearchError, IndexNotFound
from .evaluation.measures import DEFAULT_MEASURES
from .indexer.analysis import STEMMERS, STOPWORD_LISTS, AnalyzerConfig
from .indexer.bm25 import BM25_VARIANTS, DEFAULT_B, DEFAULT_K1, BM25Params
from .indexer.manifest import DEFAULT_METHOD, METHODS
from .plural import plural
from .search.batch import LEVELS, RUN_FORMATS
from .search.expansion import RM3
from .search.formats import FORMATS as RENDERERS
from .search.formats import member_id
from .search.fusion import FUSERS
from .search.options import (
    AGGREGATES,
    DEFAULT_AGGREGATE,
    DEFAULT_FUSION,
    EXPAND_RUNS,
    HYBRID_WITH,
    UNSET,
    SearchOptions,
)
from .search.queryfiles import QUERY_FORMATS, TOPIC_FIELDS

VARIANTS = tuple(BM25_VARIANTS)
FORMATS = tuple(RENDERERS)
FUSIONS = tuple(FUSERS)


class FiniteRange(click.FloatRange):
    """A float option's range, which refuses nan and inf as well (click's lets nan
    through every bound, and inf through an open one)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import math

        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


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
        except OSError as exc:  # a full disk, a folder we may not write to: what and where, in one line
            where = f"{exc.filename}: " if exc.filename else ""
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
            _fail(f"{where}{exc.strerror or exc}", "Free some space and run again." if full else None)
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


# Ranking options that search, batch, evaluate and tune share, declared once.
method_option = click.option(
    "--method", type=click.Choice(METHODS), default=None, help=f"[default: the index's, {DEFAULT_METHOD}]"
)
fusion_option = click.option(
    "--fusion",
    type=click.Choice(FUSIONS),
    default=None,
    help=f"How hybrid combines BM25 and TF-IDF.  [default: the index's, {DEFAULT_FUSION}]",
)
expand_option = click.option(
    "--expand",
    type=click.Choice(["none", "rm3"]),
    default=None,
    help="RM3 pseudo-relevance feedback (the index's tuned parameters, else defaults).  [default: the index's, none]",
)
hybrid_with_option = click.option(
    "--hybrid-with",
    type=click.Choice(HYBRID_WITH),
    default=None,
    help="The run hybrid fuses with TF-IDF: dfr (In_expC2) or bm25.  "
    "[default: the index's: dfr, or bm25 for an index built without In_expC2 weights]",
)
expand_runs_option = click.option(
    "--expand-runs",
    type=click.Choice(EXPAND_RUNS),
    default=None,
    help="Which runs rank the RM3-expanded query: all, or bm25 (TF-IDF keeps the original query). "
    "Only matters for --method hybrid with --expand rm3.  [default: the index's, all]",
)


no_wait_option = click.option(
    "--no-wait", is_flag=True, help="Fail at once if another process is writing to the index, instead of waiting."
)
scheduler_option = click.option(
    "--scheduler", metavar="ADDRESS", default=None,
    help="Run on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:8786); the index must be at a path "
    "every worker can read. Needs pip install 'citesearch[distributed]'.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="citesearch")
def cli() -> None:
    """Search a pile of documents and get ranked passages with citations.

    \b
    Example:
        citesearch index docs/ --index .citesearch
        citesearch search caffeine half-life
        citesearch sources
        citesearch show notes/brewing.md
    """


@cli.command(short_help="Index documents (text, Markdown, reST, HTML, JSONL) into an index folder.")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@index_dir_option
@click.option("--include", multiple=True, metavar="GLOB", help="Only files matching GLOB (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files matching GLOB (repeatable).")
@click.option(
    "--passage-words",
    type=click.IntRange(10, 10_000),
    default=None,
    help=f"Words per passage, about.  [default: {DEFAULT_WORDS}]",
)
@click.option(
    "--overlap",
    type=click.IntRange(0, 20),
    default=None,
    help=f"Sentences repeated between passages.  [default: {DEFAULT_OVERLAP}]",
)
@click.option(
    "--title-weight",
    type=click.IntRange(1, 10),
    default=None,
    help="How many times a document's title terms count (added to its first passage's; the text is unchanged)."
    f"  [default: {DEFAULT_TITLE_WEIGHT}]",
)
@click.option("--stemmer", type=click.Choice(STEMMERS), default=None, help=f"[default: {AnalyzerConfig.stemmer}]")
@click.option(
    "--stopwords", type=click.Choice(STOPWORD_LISTS), default=None, help=f"[default: {AnalyzerConfig.stopwords}]"
)
@click.option(
    "--variant", type=click.Choice(VARIANTS), default=None, help=f"BM25 variant.  [default: {BM25Params.variant}]"
)
@click.option("--k1", type=FiniteRange(0), default=None, help=f"BM25 k1.  [default: {DEFAULT_K1}]")
@click.option("--b", "b", type=FiniteRange(0, 1), default=None, help=f"BM25 b.  [default: {DEFAULT_B}]")
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default=None,
    help=f"Default search method saved in the index.  [default: {DEFAULT_METHOD}]",
)
@click.option(
    "--strict", is_flag=True, help="Fail on the first unreadable file or malformed line, keeping the previous index."
)
@click.option("--rebuild", is_flag=True, help="Start from an empty index instead of updating the one there.")
@click.option(
    "--shards", type=click.IntRange(1, 1024), default=None,
    help="Build N shard indexes, searched as one (with the whole collection's statistics), in parallel.",
)
@scheduler_option
@no_wait_option
@friendly_errors
def index(
    paths, index_dir, include, exclude, passage_words, overlap, title_weight, stemmer, stopwords, variant, k1, b,
    method, strict, rebuild, shards, scheduler, no_wait,
) -> None:
    """Index files and directories of documents into an index directory.

    Reads .txt .md .rst .html .htm and .jsonl (BEIR: one {"_id", "title", "text"} per
    line), each optionally gzipped. Directories are walked recursively; hidden files,
    binary files and links leading outside are skipped. Unreadable files and malformed
    lines are reported and skipped (exit status 1 at the end).

    An existing index is updated in place: new files are added, changed ones indexed
    again (a JSONL collection by _id), files under PATHS that are gone are removed, and
    documents from other paths stay (a sharded index too: new documents go to its last
    shard). --rebuild starts from empty. The index changes only when the new one is complete.

    --shards N splits the input (in order; a JSONL collection at line boundaries) into N
    shard indexes built in parallel, locally or with --scheduler on a Dask cluster (each
    shard a task); search, batch, evaluate and tune read them as one index, with the
    same rankings as a single index of the same documents.

    \b
    Example:
        citesearch index examples/coffee --index /tmp/coffee
        citesearch index notes/ papers.jsonl.gz --exclude 'drafts/*'
        citesearch index corpus.jsonl --index /shared/idx --shards 8 --scheduler tcp://head:8786
    """
    from .corpus import LoadReport
    from .indexer.storage import check_replaceable

    if scheduler and not shards:
        raise click.UsageError("--scheduler builds a sharded index: give --shards N")
    request = _IndexRequest(
        paths=paths, include=include, exclude=exclude, method=method, rebuild=rebuild, wait=not no_wait,
        shards=shards, scheduler=scheduler,
        build={
            "--passage-words": passage_words, "--overlap": overlap, "--title-weight": title_weight,
            "--stemmer": stemmer, "--stopwords": stopwords, "--variant": variant, "--k1": k1, "--b": b,
        },
    )
    target = _index_path(index_dir)
    report = LoadReport(strict=strict)
    check_replaceable(Path(target))  # before the lock puts a file in a folder that is not an index
    created = not os.path.exists(target)
    try:
        _index(target, request, report)
    except BaseException:
        if created and not os.path.exists(os.path.join(target, "manifest.json")):  # a first build that failed
            shutil.rmtree(target, ignore_errors=True)
        raise


@dataclass(frozen=True)
class _IndexRequest:
    """What ``citesearch index`` was asked to do. ``build``: the build settings' options,
    by option name, None where not given."""

    paths: tuple[str, ...]
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    method: str | None
    rebuild: bool
    wait: bool
    shards: int | None
    scheduler: str | None
    build: dict[str, Any]

    def settings(self) -> Any:
        """The build settings: the options given, the defaults for the others."""
        from dataclasses import replace

        from .indexer.builder import IndexSettings

        given = {name: value for name, value in self.build.items() if value is not None}
        settings = IndexSettings()
        analyzer = {"stemmer": given.get("--stemmer"), "stopwords": given.get("--stopwords")}
        return replace(
            settings,
            analyzer=replace(settings.analyzer, **{k: v for k, v in analyzer.items() if v is not None}),
            bm25=BM25Params(
                given.get("--variant", settings.bm25.variant),
                given.get("--k1", settings.bm25.k1),
                given.get("--b", settings.bm25.b),
            ),
            passage_words=given.get("--passage-words", settings.passage_words),
            passage_overlap=given.get("--overlap", settings.passage_overlap),
            title_weight=given.get("--title-weight", settings.title_weight),
        )

    def differences(self, existing: Any) -> list[str]:
        """The options given whose value is not the existing index's."""
        was = {
            "--passage-words": existing.passage_words, "--overlap": existing.passage_overlap,
            "--title-weight": existing.title_weight, "--stemmer": existing.analyzer.stemmer,
            "--stopwords": existing.analyzer.stopwords, "--variant": existing.bm25.variant,
            "--k1": existing.bm25.k1, "--b": existing.bm25.b, "--method": existing.method,
        }
        given = {**self.build, "--method": self.method}
        return [name for name, value in given.items() if value is not None and value != was[name]]


def _index(target: str, request: _IndexRequest, report: Any) -> None:
    from .corpus import discover, read_documents
    from .indexer.builder import build_index
    from .indexer.locking import writer_lock
    from .indexer.manifest import read_manifest

    with writer_lock(target, wait=request.wait, on_wait=_say_waiting(target)):
        try:
            existing = None if request.rebuild else read_manifest(target)
        except IndexNotFound:
            existing = None
        if existing is not None:
            differ = request.differences(existing)
            if differ:
                raise CitesearchError(
                    f"the index at {target} was built with other settings ({', '.join(differ)})",
                    hint="Add --rebuild to index everything again with the new settings.",
                )
            if request.shards and request.shards != existing.shards:
                raise CitesearchError(
                    f"the index at {target} has {existing.shards or 'no'} shards, not {request.shards}",
                    hint="Add --rebuild to index everything again into the new shards.",
                )
            if request.scheduler:  # an update's new documents go to one shard: it runs here
                click.echo("Note: an update runs in this process; --scheduler is for builds (--rebuild)", err=True)
            _update(target, request, report, sharded=bool(existing.shards))
            return
        settings = request.settings()
        method = request.method or DEFAULT_METHOD
        files = discover(request.paths, request.include, request.exclude, report)
        started = time.perf_counter()
        if request.shards:
            from .cluster import runner
            from .indexer.sharding import build_sharded

            with runner(request.scheduler) as run:
                summary = build_sharded(files, target, request.shards, settings, method, report, run, report.strict)
        else:
            with _progress(len(files), "Indexing") as bar:
                docs = read_documents(files, report, on_file=lambda f: bar.update(1))
                summary = build_index(docs, target, settings, method=method)
    _report_inputs(report)
    click.echo(
        f"Indexed {plural(summary.sources, 'document')} into {plural(summary.passages, 'passage')}, "
        f"{summary.terms:,} terms in {time.perf_counter() - started:.1f} s → {target}",
        err=True,
    )
    _exit_on_input_errors(report)


def _say_waiting(target: str) -> Callable[[str], None]:
    def say(holder: str) -> None:
        click.echo(f"Waiting for {holder}, which is writing to the index at {target}…", err=True)

    return say


def _report_inputs(report: Any) -> None:
    for line in report.warnings():
        click.echo(f"Warning: {line}", err=True)
    for line in report.errors:
        click.echo(f"Error: {line}", err=True)


def _exit_on_input_errors(report: Any) -> None:
    if report.errors:
        click.echo(f"{len(report.errors)} input error(s): those inputs were skipped.", err=True)
        sys.exit(1)


def _update(target: str, request: _IndexRequest, report: Any, sharded: bool = False) -> None:
    from .indexer.sharding import update_sharded
    from .indexer.updating import update_index

    update = update_sharded if sharded else update_index
    summary = update(target, request.paths, request.include, request.exclude, report)
    _report_inputs(report)
    if summary.written:
        click.echo(
            f"Added {summary.added:,}, updated {summary.updated:,}, removed {plural(summary.removed, 'document')} "
            f"({summary.unchanged:,} unchanged) in {summary.seconds:.1f} s → {target}",
            err=True,
        )
    else:
        click.echo(f"Nothing changed ({plural(summary.unchanged, 'document')}) in {summary.seconds:.1f} s", err=True)
    _exit_on_input_errors(report)


@cli.command(short_help="Remove documents from an index, by id or by the file or folder they came from.")
@click.argument("names", nargs=-1, required=True)
@index_dir_option
@no_wait_option
@friendly_errors
def remove(names, index_dir, no_wait) -> None:
    """Remove documents: each NAME is a document id, or a file or folder they were read
    from. Exit status 1 when a NAME matches nothing (the others are removed).

    \b
    Example:
        citesearch remove notes/old.md
        citesearch remove d17 d18 --index collection-index
    """
    from .indexer.locking import writer_lock
    from .indexer.manifest import read_manifest
    from .indexer.sharding import remove_from_sharded
    from .indexer.updating import remove_documents

    target = _index_path(index_dir)
    sharded = read_manifest(target).shards  # no index: say so, and make no folder
    with writer_lock(target, wait=not no_wait, on_wait=_say_waiting(target)):
        summary = (remove_from_sharded if sharded else remove_documents)(target, names)
    for name in summary.missing:
        click.echo(f"Error: no document or file {name!r} in the index", err=True)
    click.echo(
        f"Removed {plural(summary.removed, 'document')} ({summary.unchanged:,} left) in {summary.seconds:.1f} s",
        err=True,
    )
    if summary.missing:
        sys.exit(1)


class QueryCommand(click.Command):
    """A command whose words are a query: they may come unquoted (``search cancer
    immunotherapy``) and start with a dash (``search -chemotherapy immunotherapy``).

    Before click parses them, every argument that is not one of the command's options
    (or its value) is moved after a ``--``, so that click takes it as a query word.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in param.opts + param.secondary_opts:
                    takes_value[name] = not (param.is_flag or param.count)
        options: list[str] = []
        words: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                words += args[i:]
                break
            name, eq, value = arg.partition("=")
            if arg.startswith("--"):
                if name not in takes_value:  # a mistyped option, not a query word
                    raise click.NoSuchOption(name, possibilities=list(takes_value), ctx=ctx)
            elif arg.startswith("-") and name not in takes_value:
                name, value = arg[:2], arg[2:]  # -k5
                if not (takes_value.get(name) and value.isdigit()):
                    words.append(arg)  # -word: an exclusion
                    continue
                eq = "="
            elif not arg.startswith("-") or arg == "-":
                words.append(arg)
                continue
            if eq:
                options += [name, value]
            elif takes_value[name]:
                if i >= len(args):
                    raise click.BadOptionUsage(name, f"Option '{name}' requires an argument.", ctx=ctx)
                options += [name, args[i]]
                i += 1
            else:
                options.append(name)
        return super().parse_args(ctx, options + ["--"] + words)


@cli.command(cls=QueryCommand, short_help="Search the index: ranked passages with citations and sources.")
@click.argument("query", nargs=-1, required=True)
@index_dir_option
@click.option("-k", "--top", "k", type=click.IntRange(1), default=10, show_default=True, help="How many passages.")
@method_option
@fusion_option
@click.option("--per-source", type=click.IntRange(1), default=None, help="At most N passages from one source.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--explain", is_flag=True, help="Show how each score was computed: every method's terms, and the fusion.")
@click.option(
    "--variant", type=click.Choice(VARIANTS), default=None, help="BM25 variant for this query.  [default: the index's]"
)
@click.option("--k1", type=FiniteRange(0), default=None, help="BM25 k1 for this query.")
@click.option("--b", "b", type=FiniteRange(0, 1), default=None, help="BM25 b for this query.")
@expand_option
@expand_runs_option
@hybrid_with_option
@click.option(
    "--color/--no-color", default=None, help="Bold matches.  [default: on a terminal, unless NO_COLOR is set]"
)
@friendly_errors
def search(
    query, index_dir, k, method, fusion, per_source, fmt, explain, variant, k1, b, expand, expand_runs, hybrid_with,
    color,
) -> None:
    """Search the index and print ranked passages with citations.

    The query's words may be quoted as one argument or not. Exits with status 1 when
    nothing matches, as grep does.

    \b
    Query syntax:
        word            a search term
        word*           any word starting with it
        "exact phrase"  words together, in order
        -word           leave out passages containing it
        source:GLOB     only sources whose path matches (e.g. source:*.md)
        title:word      only sources whose title has the word

    \b
    Example:
        citesearch search caffeine half-life
        citesearch search '"cold brew" extraction -espresso' -k 5
        citesearch search -espresso cold brew
        citesearch search 'caffeine source:*.md' --format json
    """
    from .search.searcher import Index

    with Index.open(_index_path(index_dir)) as idx:
        params = None
        if variant or k1 is not None or b is not None:
            base = idx.options().bm25  # the index's: tuned, else as built
            assert base is not None
            params = BM25Params(variant or base.variant, base.k1 if k1 is None else k1, base.b if b is None else b)
        feedback = {None: UNSET, "none": None, "rm3": _rm3(idx.options().expand, None, None, None)}[expand]
        options = SearchOptions(
            method=method, fusion=fusion, bm25=params, expand=feedback, per_source=per_source, explain=explain,
            expand_runs=expand_runs, hybrid_with=hybrid_with,
        )
        found = idx.search(" ".join(query), k=k, options=options)
    for word in found.unmatched:
        hint = f"; did you mean {found.suggestions[word]!r}?" if word in found.suggestions else ""
        click.echo(f"Note: {word!r} matches nothing in the index{hint}", err=True)
    if color is None:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    sys.stdout.write(RENDERERS[fmt](found, color=color))
    if not found.results:
        sys.exit(1)


CITE_ERROR = 2
"""``cite``'s exit status on an error (1 means: some claim is unsupported, as linters do)."""


@cli.command(short_help="Cite a text: attach sources to each claim and flag what nothing supports.")
@click.argument("file", metavar="FILE|-", type=click.Path(dir_okay=False, allow_dash=True))
@index_dir_option
@click.option("--format", "fmt", type=click.Choice(["markdown", "text", "json"]), default="markdown",
              show_default=True, help="markdown: the text with [n] after each supported claim and "
              "[unsupported] after the rest, then the sources.")
@click.option("--max-citations", type=click.IntRange(1), default=2, show_default=True,
              help="At most N sources per claim.")
@click.option("--min-support", type=FiniteRange(0, 1, min_open=True), default=None,
              help="The support score a passage needs to support a claim.  [default: 0.7, calibrated]")
@click.option("--check", is_flag=True,
              help="Check the text's own [n] citations against its numbered source list instead.")
def cite(file, index_dir, fmt, max_citations, min_support, check) -> None:
    """Split a Markdown or plain text into claims and find, for each, the indexed
    passages that support it. Exit status: 0 when every claim is supported, 1 when
    some are not (with --check: when any citation is wrong), 2 on an error.

    Support is lexical: the claim's content words (weighted by idf) and word pairs must
    be in the passage, and its numbers, names and rare words too; a negation must agree.

    \b
    Example:
        citesearch cite draft.md --index /tmp/coffee
        citesearch cite draft.md --format json --max-citations 1
        cat answer.md | citesearch cite - --check --format text
    """
    from .search.citeformats import CHECK_FORMATS, CITE_FORMATS, check_summary, summary
    from .search.searcher import Index

    try:
        text = _read_text(file)
        with Index.open(_index_path(index_dir)) as idx:
            if check:
                checked = idx.check_citations(text, max_citations, min_support)
                out, note, failed = CHECK_FORMATS[fmt](checked), check_summary(checked), bool(checked.wrong)
            else:
                found = idx.cite(text, max_citations, min_support)
                out, note, failed = CITE_FORMATS[fmt](found), summary(found), bool(found.unsupported)
    except CitesearchError as exc:
        click.echo(f"Error: {exc}" + (f" — {exc.hint}" if exc.hint else ""), err=True)
        sys.exit(CITE_ERROR)
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    click.echo(note, err=True)
    sys.exit(1 if failed else 0)


def _read_text(path: str) -> str:
    """The text of ``path`` (``-``: standard input) as UTF-8; a binary or undecodable file
    is an error naming it."""
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        else:
            with open(path, "rb") as fh:
                data = fh.read()
    except OSError as exc:
        raise CitesearchError(f"{name}: {exc.strerror or exc}") from None
    if b"\x00" in data[:8192]:
        raise CitesearchError(f"{name}: a binary file, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CitesearchError(f"{name}: not UTF-8 text (byte {exc.start} cannot be decoded)") from None
    return text


@cli.command(short_help="List the indexed sources with their titles and passage counts.")
@click.argument("pattern", required=False)
@index_dir_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "tsv"]), default="text", show_default=True)
@friendly_errors
def sources(pattern, index_dir, fmt) -> None:
    """List the indexed sources: id, title and number of passages, in index order.

    PATTERN, a glob, keeps the sources whose path or id matches it.

    \b
    Example:
        citesearch sources
        citesearch sources '*.md' --format json
    """
    import json

    from .search.searcher import Index

    with Index.open(_index_path(index_dir)) as idx:
        found = idx.sources(pattern)
    if fmt == "json":
        records = [{"id": s.id, "path": s.path, "title": s.title, "passages": s.passages} for s in found]
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
    elif fmt == "tsv":
        click.echo("id\tpath\ttitle\tpassages")
        for s in found:
            click.echo(f"{s.id}\t{s.path}\t{' '.join(s.title.split())}\t{s.passages}")
    else:
        for s in found:
            where = s.path if member_id(s) is None else f"{s.path} · {s.id}"
            click.echo(f"{where}  {plural(s.passages, 'passage')}\n    {' '.join(s.title.split())}")
        click.echo(f"{plural(len(found), 'source')}", err=True)
    if not found:
        sys.exit(1)


@cli.command(short_help="Show a source or a passage by id, with its passages and offsets.")
@click.argument("item_id", metavar="ID")
@index_dir_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@friendly_errors
def show(item_id, index_dir, fmt) -> None:
    """Show a source (by its id, as in `citesearch sources`) with all its passages, or
    one passage (by its id, `SOURCE_ID#N`, as in search results), with character
    offsets into the source's text.

    \b
    Example:
        citesearch show notes/brewing.md
        citesearch show 'notes/brewing.md#2'
        citesearch show enc-arabica          # a JSONL collection's document, by its _id
    """
    import json

    from .search.searcher import Index

    with Index.open(_index_path(index_dir)) as idx:
        found = idx.lookup(item_id)
    if found is None:
        raise CitesearchError(f"no source or passage with id {item_id!r}", hint="List them: citesearch sources")
    source, passages = found
    if fmt == "json":
        record = {
            "id": source.id, "path": source.path, "title": source.title, "passages": [
                {"id": f"{source.id}#{p.ordinal}", "ordinal": p.ordinal, "start": p.start, "end": p.end, "text": p.text}
                for p in passages
            ],
        }
        click.echo(json.dumps(record, indent=2, ensure_ascii=False))
        return
    click.echo(f"{source.title}")
    where = source.path if member_id(source) is None else f"{source.path} · id {source.id}"
    click.echo(f"{where} · {plural(source.passages, 'passage')}\n")
    for p in passages:
        click.echo(f"[{source.id}#{p.ordinal}] characters {p.start}–{p.end}")
        click.echo(p.text.strip() + "\n")


@cli.command(short_help="Summarize an index: counts and settings; --verify checks its files.")
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

    from .indexer.manifest import read_manifest
    from .indexer.storage import IndexReader

    path = _index_path(index_dir)
    if read_manifest(path).shards:
        from .indexer.sharding import ShardedSummary

        reader: Any = ShardedSummary(path)  # read without opening the shards: --verify names what is damaged
    else:
        reader = IndexReader(path)
    m = reader.manifest
    if as_json:
        click.echo(json.dumps(m.to_dict(), indent=2, ensure_ascii=False))
    else:
        c, a, bm = m.counts, m.analyzer, m.bm25
        size = reader.size if m.shards else sum(f.bytes for f in m.files.values())
        click.echo(f"Index      {reader.path}  (format {m.format_version}, {m.created_by}, {m.created})")
        if m.shards:
            click.echo(f"Shards     {m.shards}: {reader.describe()}")
        click.echo(
            f"Contents   {plural(c.sources, 'source')}, {plural(c.passages, 'passage')}, {plural(c.terms, 'term')}, "
            f"{plural(c.postings, 'posting')}, {size / 1e6:.1f} MB"
        )
        click.echo(
            f"Analysis   tokens {a.token_pattern}, stop words {a.stopwords}, stemmer {a.stemmer}, "
            f"accents {'folded' if a.strip_accents else 'kept'}"
        )
        click.echo(
            f"Passages   about {m.passage_words} words, overlap {m.passage_overlap} sentence(s), "
            f"title terms counted {m.title_weight}×, average {m.avg_passage_length:.1f} terms"
        )
        delta = f" delta={bm.effective_delta}" if bm.effective_delta else ""
        click.echo(f"BM25       {bm.variant} k1={bm.k1} b={bm.b}{delta}")
        if m.dfr is not None:
            click.echo(f"DFR        In_expC2 c={m.dfr.c:g} (hybrid fuses it with TF-IDF)")
        else:
            click.echo("DFR        none stored (built before In_expC2; hybrid fuses BM25 with TF-IDF)")
        click.echo(
            f"TF-IDF     sublinear tf {'on' if m.tfidf.sublinear_tf else 'off'}, "
            f"smooth idf {'on' if m.tfidf.smooth_idf else 'off'}, l2 norm"
        )
        click.echo(f"Search     default method {m.method}")
        if m.tuned is not None:
            t = m.tuned
            chosen = f"{t.metric} {t.score:.4f} cross-validated" if t.score is not None else t.metric
            click.echo(f"Tuned      {SearchOptions.from_tuned(t).describe()}")
            click.echo(
                f"           (searches use these; {chosen}, {t.folds} folds, {plural(t.queries, 'query', 'queries')}, "
                f"{t.created}; `citesearch tune --reset` removes them)"
            )
    if verify:
        bad = reader.verify()
        if bad:
            _fail(
                f"index at {reader.path} is damaged: {', '.join(bad)} changed since it was written",
                "Rebuild the index.",
            )
        click.echo("Checksums  all files match", err=True)
    reader.close()


def _rm3_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed(
        [
            expand_option,
            expand_runs_option,
            click.option(
                "--fb-docs",
                type=click.IntRange(1),
                default=None,
                help=f"RM3 feedback passages.  [default: the index's tuned RM3, else {RM3.fb_docs}]",
            ),
            click.option(
                "--fb-terms",
                type=click.IntRange(1),
                default=None,
                help=f"RM3 expansion terms.  [default: the index's tuned RM3, else {RM3.fb_terms}]",
            ),
            click.option(
                "--fb-weight",
                type=FiniteRange(0, 1),
                default=None,
                help=f"RM3 weight of the original query.  [default: the index's tuned RM3, else {RM3.weight}]",
            ),
        ]
    ):
        fn = decorator(fn)
    return fn


def _ranking_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed(
        [
            method_option,
            fusion_option,
            hybrid_with_option,
            click.option(
                "--level",
                type=click.Choice(LEVELS),
                default="document",
                show_default=True,
                help="Rank documents (by their passages) or passages.",
            ),
            click.option(
                "--aggregate",
                type=click.Choice(AGGREGATES),
                default=None,
                help=f"A document's score from its passages'.  [default: the index's, {DEFAULT_AGGREGATE}]",
            ),
            click.option(
                "--syntax/--no-syntax",
                default=False,
                show_default=True,
                help="Read queries with the search syntax (phrases, -word, filters).",
            ),
            click.option(
                "--workers", type=click.IntRange(0), default=0, help="Worker processes  [default: one per core]"
            ),
            scheduler_option,
        ]
    ):
        fn = decorator(fn)
    return _rm3_option(fn)


def _query_file_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """How a query file is read (batch, evaluate --queries, tune): the values reach the
    command as one dict, ``query_file``."""
    options = [
        click.option(
            "--query-format", type=click.Choice(QUERY_FORMATS), default=None,
            help="[default: from the extension and content]",
        ),
        click.option(
            "--topic-field", type=click.Choice(TOPIC_FIELDS), default="title", show_default=True,
            help="TREC topics: which field is the query (XML: title=<query>, desc=<question>, narr=<narrative>).",
        ),
        click.option("--strict", is_flag=True, help="Stop at the first malformed query line."),
    ]

    @functools.wraps(fn)
    def gathered(*args: Any, query_format: str | None, topic_field: str, strict: bool, **kwargs: Any) -> Any:
        return fn(*args, query_file={"fmt": query_format, "topic_field": topic_field, "strict": strict}, **kwargs)

    for decorator in reversed(options):
        gathered = decorator(gathered)
    return gathered


def _read_query_file(path: str, how: dict[str, Any]):
    """The queries of ``path``, read as ``how`` (see ``_query_file_options``) says; each
    malformed line is reported on stderr (the command exits 1 at the end)."""
    from .search.queryfiles import read_queries

    qf = read_queries(path, how["fmt"], how["topic_field"], how["strict"])
    for err in qf.errors:
        click.echo(f"Error: {err}", err=True)
    return qf


def _batch_options(
    index_path: str, ranking: dict[str, Any], k: int | None, fmt: str = "trec", run_name: str | None = None
):
    """The batch options of a command's ranking options (see ``_ranking_options``),
    resolved against the index: its method, and the run tag from it."""
    from .indexer.manifest import read_manifest
    from .search.batch import BatchOptions

    r = ranking
    manifest = read_manifest(index_path)
    rm3 = _rm3(SearchOptions().resolve(manifest).expand, r["fb_docs"], r["fb_terms"], r["fb_weight"])
    expand = {"rm3": rm3, "none": None, None: UNSET}[r["expand"]]
    search = SearchOptions(
        method=r["method"], fusion=r["fusion"], aggregate=r["aggregate"], expand=expand, expand_runs=r["expand_runs"],
        hybrid_with=r["hybrid_with"],
    )
    opts = BatchOptions(
        search, k=k or (1000 if fmt == "trec" else 10), level=r["level"], fmt=fmt, run_name=run_name, syntax=r["syntax"]
    )
    return opts.resolve(manifest)


def _rm3(index_feedback: object, fb_docs: int | None, fb_terms: int | None, fb_weight: float | None) -> RM3:
    """The RM3 settings for ``--expand rm3``: the index's tuned ones (else the defaults),
    with the ``--fb-*`` options given on the command line."""
    base = index_feedback if isinstance(index_feedback, RM3) else RM3()
    return RM3(
        base.fb_docs if fb_docs is None else fb_docs,
        base.fb_terms if fb_terms is None else fb_terms,
        base.weight if fb_weight is None else fb_weight,
    )


def _run_batch(index_path: str, queries: list[tuple[str, str]], opts, workers: int, errors: list[str],
               scheduler: str | None = None):
    """Yield output lines per query with a progress bar (queries/s) on stderr."""
    from .search.batch import run_queries

    started = time.perf_counter()
    with _progress(len(queries), "Searching", "queries") as bar:
        for lines, error in run_queries(index_path, queries, opts, workers, scheduler=scheduler):
            if error:
                errors.append(error)
            bar.update(1)
            yield lines
    seconds = time.perf_counter() - started
    n = len(queries)
    click.echo(f"{plural(n, 'query', 'queries')} in {seconds:.1f} s ({n / max(seconds, 1e-9):,.0f} q/s)", err=True)


@cli.command(short_help="Run a file of queries and write a run file (TREC, JSONL, TSV).")
@click.argument("queries_file", metavar="QUERIES", type=click.Path(dir_okay=False, allow_dash=True))
@index_dir_option
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="The run file to write ('-' for stdout)."
)
@click.option("--format", "fmt", type=click.Choice(RUN_FORMATS), default="trec", show_default=True)
@click.option(
    "-k",
    "--top",
    "k",
    type=click.IntRange(1),
    default=None,
    help="Results per query  [default: 1000 for trec, else 10]",
)
@click.option("--run-name", default=None, help="Run tag in TREC output  [default: citesearch-METHOD]")
@_query_file_options
@_ranking_options
@friendly_errors
def batch(queries_file, index_dir, output, fmt, k, run_name, query_file, workers, **ranking) -> None:
    """Run every query of a file and write a run file.

    QUERIES is plain text (one query per line, ids 1..n), TSV (id<TAB>query, a header
    line such as `qid<TAB>query` is skipped), JSONL ({"_id", "text"}) or TREC topics,
    SGML (<top><num><title>...</top>) or XML (<topic number="1"><query>...</topic>);
    gzipped or not; '-' reads standard input. Binary files are refused. TREC output is
    `qid Q0 docid rank score run_name`; documents with equal scores are ranked by id,
    descending, which is how trec_eval orders ties.

    \b
    Example:
        citesearch batch topics.txt --index idx -o run.trec
        citesearch batch queries.jsonl --index idx -o run.jsonl --format jsonl --level passage
        zcat topics.xml.gz | citesearch batch - --index idx -o run.trec --topic-field desc
    """
    from .search.batch import write_atomically

    qf = _read_query_file(queries_file, query_file)
    path = _index_path(index_dir)
    from .search.searcher import Index

    Index.open(path).close()  # a missing or unreadable index fails here, before any work
    opts = _batch_options(path, ranking, k, fmt, run_name)
    errors: list[str] = []
    pieces = _run_batch(path, qf.queries, opts, workers, errors, ranking["scheduler"])
    if output == "-":
        for piece in pieces:
            sys.stdout.write(piece)
    else:
        write_atomically(output, pieces)
    for err in errors:
        click.echo(f"Warning: {err}", err=True)
    if qf.errors:
        sys.exit(1)


@cli.command(short_help="Score run files against relevance judgments, as trec_eval does.")
@click.argument("runs", nargs=-1, type=click.Path(dir_okay=False))
@click.option(
    "--qrels", required=True, type=click.Path(dir_okay=False), help="Judgments: TREC (qid iter docid rel) or BEIR TSV."
)
@click.option(
    "--metrics",
    default=",".join(DEFAULT_MEASURES),
    show_default=True,
    help="Comma-separated; ir_measures names (nDCG@10, AP) or trec_eval's (ndcg_cut_10, map), shown as given.",
)
@click.option("--per-query", is_flag=True, help="Also show each query's values.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
@click.option("-c", "--complete", is_flag=True, help="Count judged queries missing from a run as 0 (trec_eval -c).")
@click.option(
    "-l",
    "--relevance-level",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Minimum judgment that counts as relevant (trec_eval -l).",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    default=None,
    help="With 2+ runs: PNG of per-query deltas (needs matplotlib).",
)
@click.option(
    "--queries",
    "queries_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Run these queries on --index first, then evaluate.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="With --queries: also save the run it makes (TREC).",
)
@index_dir_option
@click.option(
    "-k",
    "--top",
    "k",
    type=click.IntRange(1),
    default=1000,
    show_default=True,
    help="With --queries: results per query.",
)
@_query_file_options
@_ranking_options
@friendly_errors
def evaluate(
    runs, qrels, metrics, per_query, fmt, complete, relevance_level, plot, queries_file, output, index_dir, k, workers,
    query_file, **ranking,
) -> None:
    """Score run files against relevance judgments, as trec_eval does.

    Measures: nDCG[@k], AP[@k], P@k, R[@k], RR[@k], Success@k, Bpref, Rprec, Judged@k, or
    trec_eval's names for them: ndcg, ndcg_cut_k, map, map_cut_k, P_k, recall_k,
    recip_rank, success_k, bpref, Rprec. Output names each measure as --metrics gives it.
    Queries without judgments are skipped, and judged queries a run lacks too unless -c
    (warnings count them); a run sharing no query with the judgments is an error.

    With two or more runs, each is compared with the first (the baseline): delta, paired
    t-test and randomization test p-values, Holm-corrected across runs per measure, and
    per-query wins/losses/ties. JSON adds "comparisons": [{baseline, run, metric, delta,
    t_test_p, randomization_p, holm_p, wins, losses, ties}], p-values uncorrected except
    holm_p, the randomization test's corrected p; CSV adds the same as a second block,
    after an empty line, with its own header. Runs are named by their run tags, or by
    their file names when tags collide.

    \b
    Example:
        citesearch evaluate run.trec --qrels qrels.txt --metrics ndcg_cut_10,map,P_10
        citesearch evaluate bm25.trec hybrid.trec --qrels qrels.txt --metrics nDCG@10,AP
        citesearch evaluate --index idx --queries queries.jsonl --qrels qrels/test.tsv -o run.trec
    """
    from pathlib import Path

    from .evaluation import check_coverage, parse_measure, parse_run, read_qrels, read_run, report, run_names
    from .evaluation import evaluate as evaluate_run

    labels: dict[str, str] = {}  # canonical name → as the user wrote it; a measure named twice counts once
    measures = []
    for text in metrics.split(","):
        if text.strip() and str(measure := parse_measure(text)) not in labels:
            labels[str(measure)] = text.strip()
            measures.append(measure)
    if not measures:
        raise click.UsageError("--metrics names no measure")
    if plot and len(runs) + bool(queries_file) < 2:
        raise click.UsageError("--plot compares runs: give two or more")
    if output and not queries_file:
        raise click.UsageError("-o/--output saves the run that --queries makes: give --queries and --index")
    if output == "-":
        raise click.UsageError("-o/--output needs a file: the report goes to standard output")
    if plot:
        report.pyplot()  # without matplotlib, fail before any work
    if output:
        from .search.batch import check_writable

        check_writable(output)  # before the queries run
    judgments = read_qrels(qrels)
    bad_queries: list[str] = []
    sources: list[tuple[str, str, str, dict]] = []  # (run tag, file to name it by, file for messages, run)
    for path in runs:
        run, tag = read_run(path)
        sources.append((tag, path, path, run))
    if queries_file:
        from .search.batch import write_atomically
        qf = _read_query_file(queries_file, query_file)
        bad_queries = qf.errors
        path = _index_path(index_dir)
        opts = _batch_options(path, ranking, k)
        errors: list[str] = []
        pieces = list(_run_batch(path, qf.queries, opts, workers, errors, ranking["scheduler"]))
        for err in errors:
            click.echo(f"Warning: {err}", err=True)
        if output:
            write_atomically(output, iter(pieces))
        made = parse_run("".join(pieces).splitlines(), output or queries_file)[0]
        named_by = output or f"run of {Path(queries_file).name}"
        sources.append((opts.run_name, named_by, output or f"the run of {queries_file}", made))
    if not sources:
        raise click.UsageError("give run files, or --queries with --index")
    names = run_names([(tag, file) for tag, file, _, _ in sources])
    warnings = [check_coverage(run, judgments, where, qrels, complete) for _, _, where, run in sources]
    for warning in filter(None, warnings):
        click.echo(f"Warning: {warning}", err=True)
    evaluations = {
        name: evaluate_run(run, judgments, measures, relevance_level, complete).relabel(labels)
        for name, (_, _, _, run) in zip(names, sources)
    }
    shown = list(labels.values())
    if fmt == "json":
        click.echo(report.to_json(evaluations, shown), nl=False)
    elif fmt == "csv":
        click.echo(report.to_csv(evaluations, shown, per_query), nl=False)
    else:
        click.echo(report.to_text(evaluations, shown, per_query), nl=False)
    if plot:
        report.plot(evaluations, shown[0], plot)
        click.echo(f"Wrote {plot}", err=True)
    if output:
        click.echo(f"Wrote {output}", err=True)
    if bad_queries:
        sys.exit(1)


@cli.command(short_help="Tune the search settings on judged queries, cross-validated; --save keeps the best.")
@index_dir_option
@click.option(
    "--queries", "queries_file", type=click.Path(dir_okay=False), default=None,
    help="Queries to tune on (any format batch reads).",
)
@click.option("--qrels", type=click.Path(dir_okay=False), default=None, help="Judgments: TREC or BEIR TSV.")
@click.option(
    "--metric", default="nDCG@10", show_default=True, help="The one measure to maximize (evaluate's names)."
)
@click.option("--folds", type=click.IntRange(2), default=5, show_default=True, help="Cross-validation folds.")
@click.option("--seed", type=int, default=0, show_default=True, help="Shuffles the queries into folds.")
@click.option("--save", is_flag=True, help="Save the best settings in the index: searches use them by default.")
@click.option("--reset", is_flag=True, help="Remove saved settings (the index's own again); runs nothing else.")
@click.option("--workers", type=click.IntRange(0), default=0, help="Worker processes  [default: one per core]")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@scheduler_option
@_query_file_options
@friendly_errors
def tune(index_dir, queries_file, qrels, metric, folds, seed, save, reset, workers, fmt, scheduler, query_file) -> None:
    """Tune the query-time settings on your judged queries, and estimate honestly how
    well the chosen settings will do on queries they were not chosen on.

    \b
    The search is staged, not the full product: each stage varies one group of the
    best settings so far (ties keep them), in this order:
      method      bm25, tfidf, hybrid
      BM25        okapi/lucene × k1 0.6 0.9 1.2 1.5 2.0 × b 0.2 0.4 0.6 0.75 0.9
      fusion      rrf k 5 10 20 40 60 100, linear weight 0.2-0.8 (hybrid only)
      feedback    none, RM3 fb_docs 5 10 20 × fb_terms 10 20 × weight 0.5 0.7 0.9
      aggregate   max, sum, mean
    Each configuration is run once over all the judged queries, 1000 documents deep
    (as evaluate --index), and its per-query scores reused.

    Reported: the index's own settings' score (as built, the search's starting point),
    the best settings' score on the queries that chose them (in-sample: it flatters,
    being the best of many tries on the same queries), and the cross-validated score:
    the queries are shuffled (--seed) into --folds folds; for each, the same search is
    run on the other folds and its choice scored on the held-out one. Their mean is the
    honest estimate. --save writes the best settings into the index; search, batch and
    evaluate --index then use them unless an option says otherwise; `info` shows them.

    \b
    Example:
        citesearch tune --index idx --queries queries.jsonl --qrels qrels.txt
        citesearch tune --index idx --queries topics.txt --qrels qrels.txt --metric AP --save
        citesearch tune --index idx --reset
    """
    import json

    from .evaluation import tuning
    from .indexer.manifest import read_manifest

    path = _index_path(index_dir)
    if reset:
        if save or queries_file or qrels:
            raise click.UsageError("--reset takes no --queries, --qrels or --save: it only removes saved settings")
        had = tuning.reset(path)
        click.echo(
            f"Removed the saved search settings from {path}: searches use the index's own again."
            if had else f"{path} has no saved search settings.",
            err=True,
        )
        return
    if not (queries_file and qrels):
        raise click.UsageError("give --queries and --qrels (or --reset)")
    saved_before = read_manifest(path).tuned  # a missing index fails here, before any work
    qf = _read_query_file(queries_file, query_file)
    done = [0]
    with _progress(1, "Tuning") as bar:

        def advance(n: int, total: int, stage: str) -> None:
            # The total grows as each stage shows which configurations the searches need.
            bar.length, bar.current_item, bar.finished = total, stage, False
            bar.update(n - done[0])
            done[0] = n

        if hasattr(bar, "item_show_func"):
            bar.item_show_func = lambda stage: stage
        result = tuning.tune(path, qf.queries, qrels, metric, folds, seed, workers, progress=advance,
                             scheduler=scheduler)
    for err in result.errors:
        click.echo(f"Warning: {err} (it scores 0)", err=True)
    if save:
        tuning.save(path, result)
        result.saved = True
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(_tune_report(result), nl=False)
    n = len(result.scores)
    click.echo(f"{plural(n, 'configuration')} in {result.seconds:.1f} s", err=True)
    if saved_before is not None and not save:
        earlier = SearchOptions.from_tuned(saved_before).describe()
        click.echo(
            f"Note: {path} has saved settings from an earlier tune ({earlier}); tuning starts from the index's own, "
            "not from them, since they may have been chosen on these queries.",
            err=True,
        )
    if save:
        click.echo(f"Saved the best settings in {path}: search, batch and evaluate --index use them now.", err=True)
    if qf.errors:
        sys.exit(1)


def _tune_report(result) -> str:
    """The text report of :func:`tuning.tune`'s result."""
    from .evaluation.tuning import mean as tuning_mean

    folds = result.folds
    own = tuning_mean([result.score(result.default, f.queries) for f in folds])  # over the same folds
    rows = [
        ("index's own settings", result.default_score, result.default.describe()),
        ("best, in sample", result.best_score, result.best.describe()),
        ("cross-validated", result.cv_score, f"mean of {len(folds)} held-out folds (the index's own: {own:.4f})"),
    ]
    lines = [f"{result.metric} on {plural(len(result.queries), 'judged query', 'judged queries')}, "
             f"{len(folds)} folds\n"]
    lines += [f"  {label:<22}{score:.4f}   {text}" for label, score, text in rows]
    lines.append("\nPer fold: settings chosen on the other folds, their score there (rest), on this fold, and the")
    lines.append("index's own settings' score on this fold:")
    for i, f in enumerate(folds, 1):
        lines.append(
            f"  {i}. {plural(len(f.queries), 'query', 'queries'):<12} rest {f.train_score:.4f}  this {f.score:.4f}  "
            f"own {result.score(result.default, f.queries):.4f}  {f.settings.describe()}"
        )
    lines.append(
        f"\nThe in-sample score is the best of {plural(len(result.searched), 'configuration')} on the queries\n"
        "that chose it, so it flatters. The cross-validated one scores each choice on queries it was\n"
        "not chosen on: it is what to expect of tuning on new queries."
    )
    if result.cv_score <= own:
        lines.append("Cross-validated, tuning does not beat the index's own settings here: keep them.")
    return "\n".join(lines) + "\n"


def main() -> None:
    cli(prog_name="citesearch")
