/* Weighing a build's postings, compiled ahead of time with the package: see
 * citesearch/indexer/builder.py (_save_bm25, _save_dfr) and tfidf.py (passage_weights),
 * which weigh with numpy a block at a time where this is not built, or for a BM25 variant
 * other than Okapi's, or TF-IDF of a tf wider than two bytes or without l2 norms.
 *
 * okapi(indptr, passages, tf, parts, idf, k1_plus_1, out):
 *     out[p] = idf[t] * (tf * (k1 + 1) / (tf + parts[passage]))        (bm25.weights, Okapi)
 * in_expc2(indptr, passages, tf, norms, factor, out):
 *     tfn = tf * norms[passage]; out[p] = factor[t] * tfn / (tfn + 1)   (dfr.weights)
 * for every posting p of every term t (term t's postings are [indptr[t], indptr[t + 1])),
 * in float64 with numpy's operations in numpy's order, each rounded to float32 as numpy's
 * assignment into a float32 array rounds it: the same bits (setup.py builds without fused
 * multiply-adds; the tests compare them with numpy's). One pass over the postings instead
 * of numpy's six or seven over each block, and without the GIL, so the build's weighing
 * threads run side by side.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

/* A posting's tf, one, two or four bytes wide. */
static inline double tf_at(const void *tf, int width, int64_t p)
{
    return width == 1 ? ((const uint8_t *)tf)[p] : width == 2 ? ((const uint16_t *)tf)[p] : ((const int32_t *)tf)[p];
}

/* Check the arrays' lengths against each other and every passage number against the
 * per-passage array; NULL, or what is wrong. */
static const char *checked(Py_buffer *indptr, Py_buffer *passages, Py_buffer *tf, Py_buffer *per_passage,
                           Py_buffer *per_term, Py_buffer *out, int *width)
{
    Py_ssize_t n_terms = indptr->len / (Py_ssize_t)sizeof(int64_t) - 1;
    Py_ssize_t n = passages->len / (Py_ssize_t)sizeof(int32_t);
    Py_ssize_t n_passages = per_passage->len / (Py_ssize_t)sizeof(double);
    const int64_t *ip = indptr->buf;
    const int32_t *ps = passages->buf;
    *width = (int)tf->itemsize;
    if (*width != 1 && *width != 2 && *width != 4) return "tf must be uint8, uint16 or int32";
    if (indptr->itemsize != 8 || passages->itemsize != 4 || per_passage->itemsize != 8 || per_term->itemsize != 8 ||
        out->itemsize != 4)
        return "indptr int64, passages int32, per-passage and per-term values float64, weights float32";
    if (n_terms < 0 || per_term->len / (Py_ssize_t)sizeof(double) < n_terms) return "one value a term";
    if (tf->len / *width != n || out->len / (Py_ssize_t)sizeof(float) != n) return "one tf and one weight a posting";
    if (ip[0] != 0 || ip[n_terms] != n) return "indptr must go from 0 to the postings";
    for (Py_ssize_t t = 0; t < n_terms; t++)
        if (ip[t + 1] < ip[t]) return "indptr must not decrease";
    for (Py_ssize_t p = 0; p < n; p++)
        if (ps[p] < 0 || ps[p] >= n_passages) return "a posting of a passage with no per-passage value";
    return NULL;
}

static PyObject *weigh(PyObject *args, int okapi)
{
    Py_buffer b[6];
    double k1_plus_1 = 0.0;
    memset(b, 0, sizeof b);
    int parsed = okapi ? PyArg_ParseTuple(args, "y*y*y*y*y*dw*", &b[0], &b[1], &b[2], &b[3], &b[4], &k1_plus_1, &b[5])
                       : PyArg_ParseTuple(args, "y*y*y*y*y*w*", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]);
    if (!parsed) return NULL;
    int width;
    const char *problem = checked(&b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &width);
    if (!problem) {
        const int64_t *indptr = b[0].buf;
        const int32_t *passages = b[1].buf;
        const void *tf = b[2].buf;
        const double *per_passage = b[3].buf, *per_term = b[4].buf;
        float *out = b[5].buf;
        Py_ssize_t n_terms = b[0].len / (Py_ssize_t)sizeof(int64_t) - 1;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t t = 0; t < n_terms; t++) {
            double term = per_term[t];
            for (int64_t p = indptr[t]; p < indptr[t + 1]; p++) {
                double f = tf_at(tf, width, p);
                if (okapi) {
                    out[p] = (float)(term * ((f * k1_plus_1) / (f + per_passage[passages[p]])));
                } else {
                    double tfn = f * per_passage[passages[p]];
                    out[p] = (float)((term * tfn) / (tfn + 1.0));
                }
            }
        }
        Py_END_ALLOW_THREADS
    }
    for (int i = 0; i < 6; i++) PyBuffer_Release(&b[i]);
    if (problem) {
        PyErr_Format(PyExc_ValueError, "%s: %s", okapi ? "okapi" : "in_expc2", problem);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* TF-IDF as scikit-learn's TfidfTransformer(norm="l2") makes it (tfidf.passage_weights):
 * x = part[tf] * idf[t] for every posting; each passage's sum of squares added up in
 * posting order (ascending term order within a passage, as numpy's add.at and
 * scikit-learn's row loop add); then x / sqrt(that sum), rounded to float32. ``part`` holds
 * the tf part of every value a one- or two-byte tf can take; ``squares`` is the caller's
 * zeroed float64 array, one value a passage, left holding the norms. */
static PyObject *tfidf(PyObject *self, PyObject *args)
{
    Py_buffer b[7];
    memset(b, 0, sizeof b);
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*w*w*", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6])) return NULL;
    int width;
    const char *problem = checked(&b[0], &b[1], &b[2], &b[5], &b[4], &b[6], &width);
    if (!problem && (width > 2 || b[3].len / (Py_ssize_t)sizeof(double) < ((Py_ssize_t)1 << (8 * width))))
        problem = "a one- or two-byte tf, and a tf part for each of its values";
    if (!problem) {
        const int64_t *indptr = b[0].buf;
        const int32_t *passages = b[1].buf;
        const void *tf = b[2].buf;
        const double *part = b[3].buf, *idf = b[4].buf;
        double *squares = b[5].buf;
        float *out = b[6].buf;
        Py_ssize_t n_terms = b[0].len / (Py_ssize_t)sizeof(int64_t) - 1;
        Py_ssize_t n_passages = b[5].len / (Py_ssize_t)sizeof(double);
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t t = 0; t < n_terms; t++)
            for (int64_t p = indptr[t]; p < indptr[t + 1]; p++) {
                double x = part[(int64_t)tf_at(tf, width, p)] * idf[t];
                squares[passages[p]] += x * x;
            }
        for (Py_ssize_t d = 0; d < n_passages; d++) squares[d] = sqrt(squares[d]);
        for (Py_ssize_t t = 0; t < n_terms; t++)
            for (int64_t p = indptr[t]; p < indptr[t + 1]; p++)
                out[p] = (float)(part[(int64_t)tf_at(tf, width, p)] * idf[t] / squares[passages[p]]);
        Py_END_ALLOW_THREADS
    }
    for (int i = 0; i < 7; i++) PyBuffer_Release(&b[i]);
    if (problem) {
        PyErr_Format(PyExc_ValueError, "tfidf: %s", problem);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *okapi(PyObject *self, PyObject *args) { return weigh(args, 1); }

static PyObject *in_expc2(PyObject *self, PyObject *args) { return weigh(args, 0); }

static PyMethodDef methods[] = {
    {"okapi", okapi, METH_VARARGS, "okapi(indptr, passages, tf, parts, idf, k1_plus_1, out): BM25 (Okapi) weights"},
    {"in_expc2", in_expc2, METH_VARARGS, "in_expc2(indptr, passages, tf, norms, factor, out): In_expC2 weights"},
    {"tfidf", tfidf, METH_VARARGS, "tfidf(indptr, passages, tf, part, idf, squares, out): TF-IDF (l2) weights"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_weighing", "The build's compiled weighing.", -1, methods};

PyMODINIT_FUNC PyInit__weighing(void) { return PyModule_Create(&module); }
