"""Calibrating ``citesearch cite``'s support threshold on a labeled set built from the
shared test collections (issue 15).

For each collection, its documents are shuffled (``--seed``) and 80% of them indexed;
the other 20% are held out. Claims, up to ``--per-kind`` of each kind:

- ``positive``: a sentence of an indexed document (its own document supports it);
- ``part``: the middle 60-80% of such a sentence's words (a claim that states less);
- ``reworded``: a filler opening ("Notably,") and a fifth of the words left out;
- ``number``: a sentence with a number, the number changed;
- ``titled``: a sentence whose subject (its words before the first auxiliary: is, can,
  was, ...) is replaced by its document's title (up to a colon, dash or comma, at most
  six words, no digits, with a word the sentence lacks): a claim that names what the
  document is about, supported by a sentence that states the fact without naming it;
- ``number``: a sentence with a number, the number changed;
- ``swap``: a sentence whose rarest word (fewest documents) is replaced by a word of
  about the same document frequency that its document does not contain;
- ``swap-any``: the same, but for a content word picked at random (not the rarest: the
  word a careless or false claim changes is as often a common one);
- ``negated``: a sentence with "not" put after its first auxiliary (is, can, was, ...),
  or its "not" taken out;
- ``quantifier``: a quantifier turned to its opposite (most/many/all → few, few →
  many, majority ↔ minority, always/often → rarely, ...);
- ``antonym``: a word turned to its antonym (increase ↔ decrease, higher ↔ lower,
  more ↔ less, large ↔ small, effective ↔ ineffective, ...);
- ``unrelated``: a sentence of a held-out document.

``positive``, ``part``, ``reworded`` and ``titled`` are labeled supported, the rest not.
With ``--small N`` each collection is also sampled down to an index of N documents (what a
user's own folder of pages is, such as the shared immunotherapy corpus's 54 passages),
whose claims are made and scored the same way and reported as ``<name>-small``. Every claim is scored whole
(:func:`citesearch.search.citing.best_support`: the best support among its candidates),
so the threshold sweep is arithmetic. The threshold is chosen leave-one-collection-out:
on three collections pooled, the threshold with the best F1 of "supported" (ties: the
higher), measured on the fourth; and on all four for the default.

Usage:
    python benchmarks/cite_calibration.py ../shared/collections/{cisi,cacm,med,adi}
    python benchmarks/cite_calibration.py ../shared/collections/{cisi,cacm,med,adi} --json scores.json
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from citesearch.corpus import load_documents
from citesearch.indexer.builder import build_index
from citesearch.indexer.stopwords import ENGLISH
from citesearch.search import citing
from citesearch.search.citing import DEFAULT_MIN_SUPPORT, best_support, numbers_in
from citesearch.search.claims import is_claim, split_sentences
from citesearch.search.searcher import Index

POSITIVE = ("positive", "part", "reworded", "titled")
KINDS = ("positive", "part", "reworded", "titled", "number", "swap", "swap-any", "negated", "quantifier", "antonym",
         "unrelated")
QUANTIFIERS = {"most": "few", "many": "few", "all": "few", "few": "many", "majority": "minority",
               "minority": "majority", "always": "rarely", "often": "rarely", "frequently": "rarely",
               "usually": "rarely", "rarely": "often", "seldom": "often", "every": "few", "several": "no"}
ANTONYMS = {}
for a, b in [("increase", "decrease"), ("increased", "decreased"), ("increases", "decreases"),
             ("increasing", "decreasing"), ("higher", "lower"), ("high", "low"), ("more", "less"),
             ("larger", "smaller"), ("large", "small"), ("greater", "smaller"), ("better", "worse"),
             ("effective", "ineffective"), ("successful", "unsuccessful"), ("success", "failure"),
             ("positive", "negative"), ("improved", "worsened"), ("long", "short"), ("longer", "shorter"),
             ("strong", "weak"), ("major", "minor"), ("maximum", "minimum"), ("early", "late"),
             ("significant", "insignificant"), ("rise", "fall"), ("easy", "difficult"), ("simple", "complex")]:
    ANTONYMS[a], ANTONYMS[b] = b, a
_FLIP = {"quantifier": re.compile(r"\b(" + "|".join(QUANTIFIERS) + r")\b", re.IGNORECASE),
         "antonym": re.compile(r"\b(" + "|".join(ANTONYMS) + r")\b", re.IGNORECASE)}
FILLERS = ("Notably,", "In general,", "Overall,", "As reported,", "In short,", "Importantly,", "Indeed,")
THRESHOLDS = [round(0.05 * i, 2) for i in range(1, 20)]
_AUX = re.compile(
    r"\b(is|are|was|were|can|could|will|would|should|may|might|must|has|have|had|does|do|did)\b(?! not\b)",
    re.IGNORECASE,
)
_NOT = re.compile(r"\s(?:not|never|cannot)\b", re.IGNORECASE)
_NUM = re.compile(r"(?<![\w.,])\d+(?:\.\d+)?(?![\w])")
_WORD = re.compile(r"[A-Za-z][a-z]{3,}")


def sentences_of(text: str) -> list[str]:
    parsed = split_sentences(text)
    out = []
    for s in parsed.sentences:
        words = len(s.plain.split())
        if is_claim(s) and 6 <= words <= 60:
            out.append(" ".join(text[s.start : s.end].split()))
    return out


def change_number(sentence: str, rng: random.Random) -> str | None:
    found = list(_NUM.finditer(sentence))
    if not found:
        return None
    m = rng.choice(found)
    old = m.group()
    present = numbers_in(sentence)
    for step in rng.sample([1, 2, 3, 5, 10, 20], 6):
        if "." in old:
            places = len(old.split(".")[1])
            new = f"{float(old) + step * 10**-places:.{places}f}"
        else:
            new = str(int(old) + step)
        if not numbers_in(new) & present:  # a number the sentence does not already hold
            return sentence[: m.start()] + new + sentence[m.end() :]
    return None


def negate(sentence: str) -> str | None:
    """"not" put after the first auxiliary, or a "not"/"never"/"cannot" taken out."""
    if (m := _NOT.search(sentence)) is not None:
        return sentence[: m.start()] + (" can" if m.group().lower().strip() == "cannot" else "") + sentence[m.end() :]
    m = _AUX.search(sentence)
    if m is None:
        return None
    return sentence[: m.end()] + " not" + sentence[m.end() :]


def swap(sentence: str, doc_words: set[str], df: Counter, by_df: dict[int, list[str]], rng: random.Random,
         rarest: bool = True) -> str | None:
    """The sentence's rarest word (or, with ``rarest=False``, a word picked at random)
    replaced by a word of about the same document frequency that its document lacks."""
    words = [m for m in _WORD.finditer(sentence) if m.group().lower() not in ENGLISH and df[m.group().lower()] > 0]
    if not words:
        return None
    if rarest:
        m = min(words, key=lambda m: (df[m.group().lower()], m.start()))
    else:
        m = rng.choice(words)
    target = df[m.group().lower()]
    pool = [w for d in range(max(1, target // 2), target * 2 + 1) for w in by_df.get(d, []) if w not in doc_words]
    if not pool:
        return None
    new = rng.choice(pool)
    if m.group()[0].isupper():
        new = new.capitalize()
    return sentence[: m.start()] + new + sentence[m.end() :]


def flip(sentence: str, kind: str, rng: random.Random) -> str | None:
    """A quantifier or a word turned to its opposite (its first letter's case kept)."""
    found = list(_FLIP[kind].finditer(sentence))
    if not found:
        return None
    m = rng.choice(found)
    word = m.group()
    new = (QUANTIFIERS if kind == "quantifier" else ANTONYMS)[word.lower()]
    if word[0].isupper():
        new = new.capitalize()
    return sentence[: m.start()] + new + sentence[m.end() :]


def title_phrase(title: str) -> str | None:
    """A document's title as a subject: up to its first colon, dash, comma or bracket, at
    most six words, none with a digit."""
    head = re.split(r"[:;,(\[]| - | -- |\u2014|\u2013", title.strip())[0].strip().rstrip(".")
    words = head.split()
    if not 1 <= len(words) <= 6 or any(c.isdigit() for c in head):
        return None
    return head


def titled(sentence: str, phrase: str | None) -> str | None:
    """The sentence's subject (its words before its first auxiliary, within its first
    eight words) replaced by the title phrase, when the phrase has a word the sentence lacks."""
    if phrase is None:
        return None
    m = _AUX.search(sentence)
    if m is None or m.start() == 0 or len(sentence[: m.start()].split()) > 8:
        return None
    lacking = {w.lower() for w in _WORD.findall(phrase)} - {w.lower() for w in _WORD.findall(sentence)}
    if not lacking - ENGLISH:
        return None
    return phrase[0].upper() + phrase[1:] + " " + sentence[m.start() :]


def part(sentence: str, rng: random.Random) -> str | None:
    words = sentence.split()
    keep = max(6, int(len(words) * rng.uniform(0.6, 0.8)))
    if keep >= len(words):
        return None
    start = rng.randrange(0, len(words) - keep + 1)
    return " ".join(words[start : start + keep]).rstrip(",;:") + "."


def reword(sentence: str, rng: random.Random) -> str | None:
    """A filler opening ("Notably,") and a fifth of the words (not numbers) left out: words
    the source lacks and words it has that the claim drops, as a paraphrase has."""
    words = sentence.split()
    droppable = [i for i, w in enumerate(words) if not any(c.isdigit() for c in w)]
    drop = set(rng.sample(droppable, len(droppable) // 5)) if len(droppable) >= 5 else set()
    kept = [w for i, w in enumerate(words) if i not in drop]
    if not kept:
        return None
    first = kept[0] if kept[0].isupper() and len(kept[0]) > 1 else kept[0][:1].lower() + kept[0][1:]
    return " ".join([rng.choice(FILLERS), first, *kept[1:]]).rstrip(",;:") + ("" if kept[-1][-1] in ".!?" else ".")


def labeled_set(docs: list[dict], held: list[dict], per_kind: int, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, claim) pairs."""
    df: Counter = Counter()
    words_of = {}
    for d in docs:
        words = {w.lower() for w in _WORD.findall(d["title"] + " " + d["text"])}
        words_of[d["_id"]] = words
        df.update(words)
    by_df: dict[int, list[str]] = {}
    for w, n in sorted(df.items()):
        if w not in ENGLISH:
            by_df.setdefault(n, []).append(w)
    phrases = {d["_id"]: title_phrase(d.get("title") or "") for d in docs}
    pool = [(d["_id"], s) for d in docs for s in sentences_of(d["text"])]
    rng.shuffle(pool)
    out: list[tuple[str, str]] = []
    counts: Counter = Counter()
    for doc_id, s in pool:
        made = {
            "positive": s,
            "part": part(s, rng),
            "reworded": reword(s, rng),
            "number": change_number(s, rng),
            "titled": titled(s, phrases[doc_id]),
            "swap": swap(s, words_of[doc_id], df, by_df, rng),
            "swap-any": swap(s, words_of[doc_id], df, by_df, rng, rarest=False),
            "negated": negate(s),
            "quantifier": flip(s, "quantifier", rng),
            "antonym": flip(s, "antonym", rng),
        }
        # One kind per sentence, the scarcest first, so that kinds do not share sentences.
        for kind in sorted(made, key=lambda k: (counts[k], KINDS.index(k))):
            claim = made[kind]
            if claim is None or counts[kind] >= per_kind or (kind != "positive" and claim == s):
                continue
            out.append((kind, claim))
            counts[kind] += 1
            break
        if all(counts[k] >= per_kind for k in made):
            break
    others = [s for d in held for s in sentences_of(d["text"])]
    rng.shuffle(others)
    out += [("unrelated", s) for s in others[:per_kind]]
    return out


def score_collection(path: Path, per_kind: int, seed: int, work: Path, small: int = 0) -> list[dict]:
    """The labeled claims of one collection, scored; with ``small``, of an index of that
    many of its documents (the claims' unrelated sentences from as many others)."""
    rng = random.Random(seed)
    records = [json.loads(line) for line in (path / "corpus.jsonl").open(encoding="utf-8")]
    records = [r for r in records if r.get("text", "").strip()]
    rng.shuffle(records)
    cut = int(len(records) * 0.8)
    docs, held = records[:cut], records[cut:]
    name = path.name
    if small:
        docs, held, name = docs[:small], held[:small], f"{path.name}-small"
    corpus = work / f"{name}.jsonl"
    with corpus.open("w", encoding="utf-8") as fh:
        for r in docs:
            fh.write(json.dumps(r) + "\n")
    index_dir = work / f"{name}-index"
    build_index(load_documents([corpus]), index_dir)
    items = labeled_set(docs, held, per_kind, rng)
    return score(name, index_dir, items, len(docs))


def score(name: str, index_dir: Path, items: list[tuple[str, str]], n_docs: int) -> list[dict]:
    started = time.perf_counter()
    with Index.open(index_dir) as index:
        supports = best_support(index, [claim for _, claim in items])
    seconds = time.perf_counter() - started
    print(f"{name}: {n_docs} documents indexed, {len(items)} claims scored in {seconds:.1f} s", file=sys.stderr)
    return [
        {"collection": name, "index": str(index_dir), "docs": n_docs, "kind": kind, "claim": claim,
         "label": kind in POSITIVE, "score": s.score,
         "lexical": round(s.lexical, 4), "missing": list(s.missing), "negation": s.negation}
        for (kind, claim), s in zip(items, supports)
    ]


def prf(rows: list[dict], threshold: float) -> tuple[float, float, float]:
    tp = sum(1 for r in rows if r["label"] and r["score"] >= threshold)
    fp = sum(1 for r in rows if not r["label"] and r["score"] >= threshold)
    fn = sum(1 for r in rows if r["label"] and r["score"] < threshold)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def choose(rows: list[dict]) -> float:
    """The threshold with the best F1: the middle of the thresholds within 0.005 of the
    best F1 (a plateau's middle, not its edge, which the next texts may fall either side of)."""
    f1 = {t: prf(rows, t)[2] for t in THRESHOLDS}
    best = max(f1.values())
    near = [t for t in THRESHOLDS if f1[t] >= best - 0.005]
    return near[(len(near) - 1) // 2]


def report(rows: list[dict]) -> str:
    names = list(dict.fromkeys(r["collection"] for r in rows))
    out = ["| held out | threshold chosen on the other three | precision | recall | F1 |", "|---|---|---|---|---|"]
    held: list[dict] = []  # every claim, judged at the threshold chosen without its collection
    for name in names:
        base = name.removesuffix("-small")  # a collection's small index is held out with it
        train = [r for r in rows if r["collection"].removesuffix("-small") != base]
        test = [r for r in rows if r["collection"] == name]
        t = choose(train)
        p, r, f = prf(test, t)
        held += [{**x, "score": 1.0 if x["score"] >= t else 0.0} for x in test]
        out.append(f"| {name} | {t:.2f} | {p:.3f} | {r:.3f} | {f:.3f} |")
    p, r, f = prf(held, 0.5)
    out.append(f"| all, each at its fold's threshold | | {p:.3f} | {r:.3f} | {f:.3f} |")
    best = choose(rows)
    out.append("")
    out.append(f"Chosen on all four: {best:.2f} (the default, `DEFAULT_MIN_SUPPORT`, is {DEFAULT_MIN_SUPPORT}).")
    out.append("")
    out.append(f"At the default {DEFAULT_MIN_SUPPORT}, per collection and kind: share judged supported")
    out.append("")
    out.append("| collection | precision | recall | F1 | " + " | ".join(KINDS) + " |")
    out.append("|---" * (4 + len(KINDS)) + "|")
    for name in [*names, "all"]:
        mine = rows if name == "all" else [r for r in rows if r["collection"] == name]
        p, r, f = prf(mine, DEFAULT_MIN_SUPPORT)
        shares = []
        for kind in KINDS:
            k = [x for x in mine if x["kind"] == kind]
            shares.append(f"{sum(x['score'] >= DEFAULT_MIN_SUPPORT for x in k) / len(k):.3f} ({len(k)})" if k else "–")
        out.append(f"| {name} | {p:.3f} | {r:.3f} | {f:.3f} | " + " | ".join(shares) + " |")
    out.append("")
    out.append("Calibration (all collections): claims by support score, and the share that is truly supported")
    out.append("")
    out.append("| support | claims | truly supported |")
    out.append("|---|---|---|")
    edges = [0.0, 0.000001, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.000001]
    for lo, hi in zip(edges, edges[1:]):
        k = [x for x in rows if lo <= x["score"] < hi]
        label = "0 (a hard requirement fails)" if lo == 0.0 else f"{lo:.1f}–{min(hi, 1.0):.1f}"
        if k:
            out.append(f"| {label} | {len(k)} | {sum(x['label'] for x in k) / len(k):.3f} |")
    return "\n".join(out) + "\n"


def _groups(rows: list[dict]) -> list[tuple[str, list[dict]]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["collection"], []).append(r)
    return list(out.items())


def summary(rows: list[dict]) -> str:
    """One line: F1 per held-out fold, overall precision/recall/F1 at each fold's threshold,
    and each kind's share judged supported at it."""
    names = list(dict.fromkeys(r["collection"] for r in rows))
    judged, folds = [], []
    for name in names:
        base = name.removesuffix("-small")
        t = choose([r for r in rows if r["collection"].removesuffix("-small") != base])
        test = [r for r in rows if r["collection"] == name]
        folds.append(f"{name} {t:.2f}:{prf(test, t)[2]:.3f}")
        judged += [{**x, "score": 1.0 if x["score"] >= t else 0.0} for x in test]
    p, r, f = prf(judged, 0.5)
    shares = []
    for k in KINDS:
        mine = [x for x in judged if x["kind"] == k]
        shares.append(f"{k}={sum(x['score'] >= 0.5 for x in mine) / max(1, len(mine)):.2f}")
    kinds = " ".join(shares)
    return f"P {p:.3f} R {r:.3f} F1 {f:.3f} | {' '.join(folds)} | {kinds}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("collections", nargs="+", type=Path)
    ap.add_argument("--per-kind", type=int, default=150)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--rare-fraction", type=float, default=None,
                    help=f"A term in at most this share of passages must be in the evidence [{citing.RARE_FRACTION}]")
    ap.add_argument("--small", type=int, default=0,
                    help="Also score each collection sampled down to an index of this many documents")
    ap.add_argument("--try", dest="tries", action="append", default=[], metavar="NAME=VALUE,...",
                    help="Also score the same claims with these citing settings (e.g. RARE_MIN=2,POLARITY=0) "
                         "and print one summary line for each")
    ap.add_argument("--json", type=Path, default=None, help="Also write every claim and its score here.")
    args = ap.parse_args()
    if args.rare_fraction is not None:
        citing.RARE_FRACTION = args.rare_fraction
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.collections:
            rows += score_collection(path, args.per_kind, args.seed, Path(tmp))
            if args.small:
                rows += score_collection(path, args.per_kind, args.seed, Path(tmp), small=args.small)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
        sys.stdout.write(report(rows))
        print(f"\ndefaults: {summary(rows)}")
        defaults = {name: getattr(citing, name) for name in dir(citing) if name.isupper()}
        for setting in args.tries:
            for part in setting.split(","):
                name, value = part.split("=")
                setattr(citing, name, type(defaults[name])(float(value)))
            again: list[dict] = []
            for key, group in _groups(rows):
                items = [(r["kind"], r["claim"]) for r in group]
                again += score(key, Path(group[0]["index"]), items, group[0]["docs"])
            print(f"{setting}: {summary(again)}", flush=True)
            for name, value in defaults.items():
                setattr(citing, name, value)


if __name__ == "__main__":
    main()
