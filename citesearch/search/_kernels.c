/* Compiled top-k scoring, built ahead of time with the package: see citesearch/search/kernels.py.
 *
 * One function, scan(): it scores every passage that contains a query term for one or two
 * methods at once (BM25 and TF-IDF share the postings, not the weights) and returns a short
 * list of candidates that holds each method's top k. Nothing here needs numpy or numba: the
 * arrays come in through the buffer protocol, so importing this module costs microseconds,
 * where loading numba costs 0.75 s and compiling its kernels several seconds.
 *
 * The scores are exactly numpy's (the tests compare them bit for bit): sums in float64 in
 * query-term order, each term's product c * w rounded to float32 where `narrow` says numpy
 * would (a Python number times a float32 array), never fused into a multiply-add (setup.py
 * builds with -ffp-contract=off).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The k-th largest of v[0..n) (1 <= k <= n), reordering v: quickselect. */
static double kth_largest(double *v, Py_ssize_t n, Py_ssize_t k)
{
    Py_ssize_t lo = 0, hi = n - 1, want = k - 1;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        double a = v[lo], b = v[mid], c = v[hi], pivot;
        pivot = (a < b) ? ((b < c) ? b : (a < c ? c : a)) : ((a < c) ? a : (b < c ? c : b));
        Py_ssize_t i = lo, j = hi;
        while (i <= j) { /* descending: larger values to the left */
            while (v[i] > pivot) i++;
            while (v[j] < pivot) j--;
            if (i <= j) {
                double t = v[i]; v[i] = v[j]; v[j] = t;
                i++; j--;
            }
        }
        if (want <= j) hi = j;
        else if (want >= i) lo = i;
        else return v[want];
    }
    return v[want];
}

/* The new floor for one method: the k-th largest positive score among the candidates, if
 * there are k of them and it is above the old floor. */
static double raise_floor(const double *s, Py_ssize_t n, Py_ssize_t k, double floor, double *scratch)
{
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (s[i] > 0.0 && s[i] >= floor) scratch[m++] = s[i];
    if (m < k) return floor;
    double kth = kth_largest(scratch, m, k);
    return kth > floor ? kth : floor;
}

/* Term i's contribution for a posting of weight w: c * w in float64, or rounded to float32
 * where numpy's product would be. */
static inline double contribution(double c, int narrow, float w) { return narrow ? (double)((float)c * w) : c * (double)w; }

static double floor_from_prefixes(const int64_t *indptr, const float *data, const int64_t *terms, const double *coefs,
                                  const uint8_t *narrow, const int32_t *prefixes, const int64_t *prefix_ptr,
                                  Py_ssize_t m, Py_ssize_t k)
{
    double best = 0.0;
    for (Py_ssize_t i = 0; i < m; i++) {
        int64_t t = terms[i];
        if (prefix_ptr[t + 1] - prefix_ptr[t] < k) continue;
        double v = contribution(coefs[i], narrow[i], data[indptr[t] + prefixes[prefix_ptr[t] + k - 1]]);
        if (v > best) best = v;
    }
    return best;
}

static int keeps(double s, double floor) { return s > 0.0 && s >= floor; }

/* Raise each method's floor to the k-th best score among the n candidates (a lower bound
 * on the k-th best of all, the candidates being real passages with their exact scores) and
 * keep only the candidates that reach a floor; returns how many. */
static Py_ssize_t compact(int64_t *rows, double *s1, double *s2, Py_ssize_t n, Py_ssize_t k, int two, double *f1,
                          double *f2, double *scratch)
{
    *f1 = raise_floor(s1, n, k, *f1, scratch);
    if (two) *f2 = raise_floor(s2, n, k, *f2, scratch);
    Py_ssize_t kept = 0;
    for (Py_ssize_t q = 0; q < n; q++) {
        if (keeps(s1[q], *f1) || (two && keeps(s2[q], *f2))) {
            rows[kept] = rows[q];
            s1[kept] = s1[q];
            s2[kept] = s2[q];
            kept++;
        }
    }
    return kept;
}

typedef struct {
    Py_buffer indptr, postings, data1, data2, terms, coefs1, narrow1, coefs2, narrow2, prefixes1, prefixes2, prefix_ptr;
    Py_buffer acc, mark, touched, rows, s1, s2, scratch;
} Args;

static PyObject *scan(PyObject *self, PyObject *args)
{
    Args a;
    Py_ssize_t k, n_rows;
    int two;
    memset(&a, 0, sizeof a);
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*y*y*y*y*pnnw*w*w*w*w*w*w*", &a.indptr, &a.postings, &a.data1,
                          &a.data2, &a.terms, &a.coefs1, &a.narrow1, &a.coefs2, &a.narrow2, &a.prefixes1,
                          &a.prefixes2, &a.prefix_ptr, &two, &k, &n_rows, &a.acc, &a.mark, &a.touched,
                          &a.rows, &a.s1, &a.s2, &a.scratch))
        return NULL;

    const int64_t *indptr = a.indptr.buf;
    const int32_t *postings = a.postings.buf;
    const float *data1 = a.data1.buf, *data2 = a.data2.buf;
    const int64_t *terms = a.terms.buf;
    const double *coefs1 = a.coefs1.buf, *coefs2 = a.coefs2.buf;
    const uint8_t *narrow1 = a.narrow1.buf, *narrow2 = a.narrow2.buf;
    const int64_t *prefix_ptr = a.prefix_ptr.buf;
    double *acc = a.acc.buf; /* the two methods' sums side by side: one cache line a passage */
    uint8_t *mark = a.mark.buf;
    int64_t *touched = a.touched.buf, *out_rows = a.rows.buf;
    double *out1 = a.s1.buf, *out2 = a.s2.buf, *scratch = a.scratch.buf;
    Py_ssize_t m = a.terms.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t block = a.acc.len / (Py_ssize_t)(2 * sizeof(double));
    Py_ssize_t cap = a.rows.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t n = 0;
    int overflow = 0;
    int64_t *pos = PyMem_Malloc(2 * (m ? m : 1) * sizeof(int64_t));
    if (!pos) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t *end = pos + m;

    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < m; i++) {
        pos[i] = indptr[terms[i]];
        end[i] = indptr[terms[i] + 1];
    }
    /* The floors start at the best per-term bound: a passage scores at least any one term's
     * contribution (a sum of non-negative terms, rounded, is never below one of them), so
     * the k-th heaviest posting of a term (its impact prefix lists them heaviest first)
     * names k passages scoring at least its contribution. */
    double f1 = floor_from_prefixes(indptr, data1, terms, coefs1, narrow1, a.prefixes1.buf, prefix_ptr, m, k);
    double f2 = two ? floor_from_prefixes(indptr, data2, terms, coefs2, narrow2, a.prefixes2.buf, prefix_ptr, m, k)
                    : 0.0;
    for (int64_t base = 0; base < n_rows && !overflow; base += block) {
        int64_t limit = base + block;
        Py_ssize_t t = 0;
        /* Each term's postings in this block, added into a block-sized accumulator that
         * stays in cache; a passage is listed once, on its first posting, without a branch. */
        for (Py_ssize_t i = 0; i < m; i++) {
            int64_t p = pos[i], e = end[i];
            double c1 = coefs1[i], c2 = two ? coefs2[i] : 0.0;
            float c1f = (float)c1, c2f = (float)c2;
            int n1 = narrow1[i], n2 = two ? narrow2[i] : 0;
            if (two && n1 && n2) { /* the usual query (hybrid's two runs): its own loop, without the tests */
                for (; p < e; p++) {
                    int64_t r = postings[p];
                    if (r >= limit) break;
                    r -= base;
                    touched[t] = r;
                    t += 1 - mark[r];
                    mark[r] = 1;
                    acc[2 * r] += (double)(c1f * data1[p]);
                    acc[2 * r + 1] += (double)(c2f * data2[p]);
                }
            }
            for (; p < e; p++) {
                int64_t r = postings[p];
                if (r >= limit) break;
                r -= base;
                touched[t] = r;
                t += 1 - mark[r];
                mark[r] = 1;
                acc[2 * r] += n1 ? (double)(c1f * data1[p]) : c1 * (double)data1[p];
                if (two) acc[2 * r + 1] += n2 ? (double)(c2f * data2[p]) : c2 * (double)data2[p];
            }
            pos[i] = p;
        }
        for (Py_ssize_t j = 0; j < t; j++) {
            int64_t r = touched[j];
            double s1 = acc[2 * r], s2 = acc[2 * r + 1];
            acc[2 * r] = acc[2 * r + 1] = 0.0;
            mark[r] = 0;
            if (!keeps(s1, f1) && !(two && keeps(s2, f2))) continue;
            if (n == cap) { /* full */
                n = compact(out_rows, out1, out2, n, k, two, &f1, &f2, scratch);
                if (n >= cap || n > cap - cap / 4) { /* ties hold the floors down: the caller retries with more room */
                    overflow = 1;
                    for (Py_ssize_t q = j; q < t; q++) { /* leave the scratch buffers zeroed */
                        acc[2 * touched[q]] = acc[2 * touched[q] + 1] = 0.0;
                        mark[touched[q]] = 0;
                    }
                    break;
                }
                if (!keeps(s1, f1) && !(two && keeps(s2, f2))) continue;
            }
            out_rows[n] = r + base;
            out1[n] = s1;
            out2[n] = s2;
            n++;
        }
    }
    if (!overflow && n > k) { /* a last raise, so that the caller orders few */
        n = compact(out_rows, out1, out2, n, k, two, &f1, &f2, scratch);
    }
    Py_END_ALLOW_THREADS
    PyMem_Free(pos);

done:;
    Py_buffer *all[] = {&a.indptr, &a.postings, &a.data1, &a.data2, &a.terms, &a.coefs1, &a.narrow1, &a.coefs2,
                        &a.narrow2, &a.prefixes1, &a.prefixes2, &a.prefix_ptr, &a.acc, &a.mark,
                        &a.touched, &a.rows, &a.s1, &a.s2, &a.scratch};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) PyBuffer_Release(all[i]);
    if (PyErr_Occurred()) return NULL;
    return PyLong_FromSsize_t(overflow ? (Py_ssize_t)-1 : n);
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS,
     "scan(indptr, postings, data1, data2, terms, coefs1, narrow1, coefs2, narrow2, prefixes1, prefixes2,"
     " prefix_ptr, two, k, n_rows, acc, mark, touched, rows, s1, s2, scratch) -> n: candidates holding each"
     " method's top k (n = -1: no room, retry with larger output buffers)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", "Compiled top-k scoring.", -1, methods};

PyMODINIT_FUNC PyInit__kernels(void)
{
    PyObject *m = PyModule_Create(&module);
    /* kernels.py checks it: an editable install whose build is older than its source
     * ranks with numpy rather than with the wrong arguments. */
    if (m && PyModule_AddIntConstant(m, "VERSION", 3) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
