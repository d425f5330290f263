"""Tried and not kept: hybrid RRF from two shallower tops, proven or else redone 1000 deep.

Usage: python benchmarks/experiments/lazy_rrf.py INDEX QUERIES.jsonl

For each depth D it checks the results against the two 1000-deep tops and prints how
often the proof holds and the time per query of both ways (BENCHMARKS.md quotes it).
"""
import json
import sys
import time

import numpy as np

import citesearch
from citesearch.search.fusion import RRF_K, rrf
from citesearch.search.query import plain_query
from citesearch.search.ranking import top_indices

idx=citesearch.Index.open(sys.argv[1])
qs=[json.loads(l)["text"] for l in open(sys.argv[2])]
W=[]
for q in qs:
    ids,_=idx.analyze(plain_query(q).positive_text); w={}
    for t in ids: w[t]=w.get(t,0)+1
    if w: W.append(w)
def lazy(w, k, D):
    runs=[idx.scorer.top(kind, w, D) for kind in ("bm25","tfidf")]
    rows=np.union1d(runs[0][0], runs[1][0])
    aligned=[]; inlist=[]
    for r,s in runs:
        a=np.zeros(len(rows)); pos=np.searchsorted(rows, r); a[pos]=s; aligned.append(a)
        m=np.zeros(len(rows),bool); m[pos]=True; inlist.append(m)
    fused=rrf(aligned, rows)
    eps=1.0/(RRF_K+D+1)
    complete=[len(r)<D for r,_ in runs]  # list holds every match: no unknown contribution
    unknown=np.zeros(len(rows))
    for m, c in zip(inlist, complete):
        if not c: unknown += np.where(m, 0.0, eps)
    exact = unknown==0
    e=np.flatnonzero(exact)
    if len(e)<k: return None
    best=e[top_indices(fused[e], rows[e], k)]
    sk=fused[best[-1]]
    others_upper = (fused+unknown)[~exact]
    outside = sum(0 if c else eps for c in complete)
    if sk > outside and (len(others_upper)==0 or sk > others_upper.max()):
        return rows[best], fused[best]
    return None
def full(w,k):
    runs=[idx.scorer.top(kind, w, 1000) for kind in ("bm25","tfidf")]
    rows=np.union1d(runs[0][0], runs[1][0]); aligned=[]
    for r,s in runs:
        a=np.zeros(len(rows)); a[np.searchsorted(rows,r)]=s; aligned.append(a)
    f=rrf(aligned, rows); b=top_indices(f, rows, k); return rows[b], f[b]
for D in (50,100,200):
    ok=0; t_l=[]; t_f=[]; bad=0
    for w in W:
        t=time.perf_counter(); r=lazy(w,10,D); t1=time.perf_counter()
        g=full(w,10); t2=time.perf_counter()
        if r is not None:
            ok+=1
            if not (np.array_equal(r[0],g[0]) and np.array_equal(r[1],g[1])): bad+=1
            t_l.append(t1-t)
        else: t_l.append(t1-t+t2-t1)
        t_f.append(t2-t1)
    print(D, "success", ok, "/", len(W), "mismatch", bad, "lazy mean %.2f ms p50 %.2f p99 %.2f | full mean %.2f p50 %.2f p99 %.2f" % (np.mean(t_l)*1e3, np.percentile(t_l,50)*1e3, np.percentile(t_l,99)*1e3, np.mean(t_f)*1e3, np.percentile(t_f,50)*1e3, np.percentile(t_f,99)*1e3))
