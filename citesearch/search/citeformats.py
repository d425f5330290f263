"""Rendering ``cite`` and ``cite --check`` results: markdown, text and json, via
``CITE_FORMATS`` and ``CHECK_FORMATS``."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Callable

from ..plural import plural
from .citing import Checking, Citing, Evidence
from .formats import _md_escape, _md_where, _where

UNSUPPORTED_MARK = "[unsupported]"


def _width(width: int | None) -> int:
    return max(width or min(100, shutil.get_terminal_size((100, 24)).columns), 40)


def summary(found: Citing) -> str:
    """One line: how many claims, supported and not."""
    n, bad = len(found.claims), len(found.unsupported)
    return f"{plural(n, 'claim')}: {n - bad} supported, {bad} unsupported (support ≥ {found.min_support:g})"


def check_summary(found: Checking) -> str:
    counts = {s: 0 for s in ("supported", "wrong_source", "unsupported", "not_in_index")}
    for c in found.citations:
        counts[c.status] += 1
    listed = sum(1 for s in found.sources if s.source is not None)
    return (
        f"{plural(len(found.citations), 'cited passage')}: {counts['supported']} supported by the cited source, "
        f"{counts['wrong_source']} by another, {counts['unsupported']} unsupported, {counts['not_in_index']} "
        f"citing a source not in the index; {listed} of {plural(len(found.sources), 'listed source')} found"
    )


# -- cite ------------------------------------------------------------------------------------------


def render_cite_markdown(found: Citing, **_: object) -> str:
    """The text itself, with ``[n]`` before each supported claim's closing punctuation and
    ``[unsupported]`` at each unsupported one, then the numbered sources."""
    text = found.text
    out, pos = [], 0
    for claim in sorted(found.claims, key=lambda c: c.anchor):
        out.append(text[pos : claim.anchor])
        mark = "".join(f"[{n}]" for n in claim.citations) if claim.status == "supported" else UNSUPPORTED_MARK
        out.append(" " + mark)
        pos = claim.anchor
    out.append(text[pos:])
    body = "".join(out).rstrip("\n")
    if found.sources:
        body += "\n\n**Sources**\n\n" + "\n".join(
            f"[{c.citation}] {_md_escape(' '.join(c.source.title.split()))} — {_md_where(c.source)}  "
            for c in found.sources
        )
    return body + "\n"


def _evidence_lines(e: Evidence, indent: str, width: int, label: str) -> list[str]:
    lines = textwrap.wrap(e.snippet, width - len(indent) - 2) or [""]
    head = f"{indent}{label} {lines[0]}"
    rest = [f"{indent}  {line}" for line in lines[1:]]
    where = f"{indent}  — {' '.join(e.source.title.split())} · {_where(e.source)} · passage {e.passage.ordinal}"
    return [head, *rest, f"{where} · support {e.score:.2f}"]


def render_cite_text(found: Citing, width: int | None = None, **_: object) -> str:
    """One block per claim: its verdict and offsets, the claim, its evidence snippets."""
    width = _width(width)
    lines: list[str] = []
    for i, claim in enumerate(found.claims, 1):
        if claim.status == "supported":
            verdict = f"supported {''.join(f'[{n}]' for n in claim.citations)}  support {claim.support:.2f}"
        else:
            verdict = f"UNSUPPORTED  {claim.reason}"
        lines.append(f"{i:>3}. {verdict}  (characters {claim.start}–{claim.end})")
        lines += ["     " + w for w in textwrap.wrap(" ".join(claim.text.split()), width - 5)]
        for e in claim.evidence:
            lines += _evidence_lines(e, "     ", width, f"[{e.citation}]")
        if claim.status != "supported" and claim.closest is not None:
            lines += _evidence_lines(claim.closest, "     ", width, "closest:")
        lines.append("")
    if found.sources:
        lines.append("Sources")
        for c in found.sources:
            lines.append(f"[{c.citation}] {' '.join(c.source.title.split())} — {_where(c.source)} "
                         f"({plural(c.claims, 'claim')})")
    else:
        lines.append("No claim is supported by the index." if found.claims else "No claims in the text.")
    return "\n".join(lines) + "\n"


def render_json(found: Citing | Checking, **_: object) -> str:
    return json.dumps(found.to_dict(), ensure_ascii=False, indent=2) + "\n"


CITE_FORMATS: dict[str, Callable[..., str]] = {
    "markdown": render_cite_markdown,
    "text": render_cite_text,
    "json": render_json,
}


# -- check -----------------------------------------------------------------------------------------

CHECK_VERDICTS = {
    "supported": "supported by its cited source",
    "wrong_source": "not supported by its cited source, but by another",
    "unsupported": "unsupported: no indexed source supports it",
    "not_in_index": "cited source not in the index",
}


def _suggested(c) -> str:
    if c.suggestion is None:
        return ""
    number = f"[{c.suggestion_citation}] " if c.suggestion_citation else ""
    return f"{number}{' '.join(c.suggestion.title.split())} — {_where(c.suggestion)}"


def render_check_text(found: Checking, width: int | None = None, **_: object) -> str:
    width = _width(width)
    lines = ["Sources listed"]
    for s in found.sources:
        where = f"→ {_where(s.source)} (by {s.how}{f', {s.match:.2f}' if s.how == 'title' else ''})" if s.source \
            else "→ not in the index"
        lines.append(f"[{s.number}] {s.entry.title}  {where}")
    lines.append("")
    for i, c in enumerate(found.citations, 1):
        cited = "".join(f"[{n}]" for n in c.cited)
        lines.append(f"{i:>3}. {cited} {CHECK_VERDICTS[c.status]}  (characters {c.start}–{c.end})")
        lines += ["     " + w for w in textwrap.wrap(" ".join(c.text.split()), width - 5)]
        if c.reason and c.status != "supported":
            lines.append(f"     cited source: {c.reason}")
        if c.suggestion is not None:
            lines.append(f"     suggest: {_suggested(c)}")
        for e in c.evidence:
            lines += _evidence_lines(e, "     ", width, f"[{e.citation}]" if e.citation else "·")
        lines.append("")
    if found.uncited:
        lines.append(f"{plural(found.uncited, 'claim')} without a citation (not checked).")
    return "\n".join(lines).rstrip("\n") + "\n"


def render_check_markdown(found: Checking, **_: object) -> str:
    lines = ["**Citations checked**", ""]
    for c in found.citations:
        cited = "".join(f"[{n}]" for n in c.cited)
        text = _md_escape(" ".join(c.text.split()))
        verdict = CHECK_VERDICTS[c.status]
        if c.suggestion is not None:
            verdict += f"; suggest {_md_escape(_suggested(c))}"
        lines.append(f"- {text} {cited} — **{verdict}**")
    lines += ["", "**Sources listed**", ""]
    for s in found.sources:
        where = _md_where(s.source) if s.source else "not in the index"
        lines.append(f"[{s.number}] {_md_escape(s.entry.title)} — {where}  ")
    return "\n".join(lines) + "\n"


CHECK_FORMATS: dict[str, Callable[..., str]] = {
    "markdown": render_check_markdown,
    "text": render_check_text,
    "json": render_json,
}
