/* Counting a build's postings, compiled ahead of time with the package: see
 * citesearch/indexer/builder.py (_count_postings), which falls back to scipy without it.
 *
 * count(tokens, lengths, n_terms, indptr, passages) turns the term ids of every passage
 * (passage after passage, lengths[i] of them in passage i; a list of arrays, the build's
 * batches as they came, not concatenated first) into the term-major matrix of
 * frequencies: term t's passages, ascending, are passages[indptr[t]:indptr[t + 1]]. A
 * counting sort by term that keeps the passage order (so that each term's repeats in a
 * passage are neighbours), then each run of a passage made one posting. count() sorts
 * the tokens' passage numbers into the caller's `passages` (as long as the tokens) and
 * says how many postings they make and the highest frequency, so that the caller can
 * give compact() a tf array of that many values, one byte each when they fit.
 *
 * scipy's COO -> CSR conversion does the same with four arrays as long as the tokens
 * besides them (row and column numbers, ones, their sums, a copy); at 10M passages each is
 * 770 MB, and most of that phase's 9-13 s was first touching their pages.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static PyObject *count(PyObject *self, PyObject *args)
{
    PyObject *parts_in;
    Py_buffer lengths_b, indptr_b, passages_b;
    Py_ssize_t n_terms;
    if (!PyArg_ParseTuple(args, "Oy*nw*w*", &parts_in, &lengths_b, &n_terms, &indptr_b, &passages_b)) return NULL;
    const int32_t *lengths = lengths_b.buf;
    int64_t *indptr = indptr_b.buf;
    int32_t *slots = passages_b.buf;
    Py_ssize_t n_passages = lengths_b.len / (Py_ssize_t)sizeof(int32_t);
    Py_ssize_t m = -1, k = 0, got = 0;
    int64_t *next = NULL, out = 0, max_run = 0, n = 0;
    Py_buffer *parts = NULL;
    PyObject *seq = PySequence_Fast(parts_in, "count: the tokens must be a sequence of arrays");
    if (!seq) goto done;
    k = PySequence_Fast_GET_SIZE(seq);
    parts = PyMem_Calloc(k ? (size_t)k : 1, sizeof(Py_buffer));
    if (!parts) {
        PyErr_NoMemory();
        goto done;
    }
    for (; got < k; got++) {
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(seq, got), &parts[got], PyBUF_C_CONTIGUOUS) < 0) goto done;
        if (parts[got].itemsize != (Py_ssize_t)sizeof(int32_t)) {
            got++;
            PyErr_SetString(PyExc_ValueError, "count: tokens must be int32");
            goto done;
        }
        n += parts[got].len / (Py_ssize_t)sizeof(int32_t);
    }
    if (indptr_b.len != (n_terms + 1) * (Py_ssize_t)sizeof(int64_t) || passages_b.len < n * (Py_ssize_t)sizeof(int32_t)) {
        PyErr_SetString(PyExc_ValueError, "count: indptr must hold n_terms + 1 values and passages one per token");
        goto done;
    }
    int64_t total = 0;
    for (Py_ssize_t p = 0; p < n_passages; p++) total += lengths[p] >= 0 ? lengths[p] : n + 1;
    if (total != n) {
        PyErr_SetString(PyExc_ValueError, "count: the lengths do not add up to the tokens");
        goto done;
    }
    for (Py_ssize_t j = 0; j < k; j++) {
        const int32_t *tokens = parts[j].buf;
        for (Py_ssize_t i = 0; i < parts[j].len / (Py_ssize_t)sizeof(int32_t); i++) {
            if (tokens[i] < 0 || tokens[i] >= n_terms) {
                PyErr_SetString(PyExc_ValueError, "count: a token is not a term id");
                goto done;
            }
        }
    }
    next = PyMem_Calloc((size_t)n_terms + 1, sizeof(int64_t));
    if (!next) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    /* Slots: where each term's tokens go, in passage order. */
    for (Py_ssize_t j = 0; j < k; j++) {
        const int32_t *tokens = parts[j].buf;
        for (Py_ssize_t i = 0; i < parts[j].len / (Py_ssize_t)sizeof(int32_t); i++) next[tokens[i] + 1]++;
    }
    for (Py_ssize_t t = 0; t < n_terms; t++) next[t + 1] += next[t];
    memcpy(indptr, next, ((size_t)n_terms + 1) * sizeof(int64_t));
    Py_ssize_t p = -1;
    int64_t left = 0; /* tokens still to come in passage p */
    for (Py_ssize_t j = 0; j < k; j++) {
        const int32_t *tokens = parts[j].buf;
        for (Py_ssize_t i = 0; i < parts[j].len / (Py_ssize_t)sizeof(int32_t); i++) {
            while (left == 0) left = lengths[++p]; /* the lengths add up: p stays in range */
            slots[next[tokens[i]]++] = (int32_t)p;
            left--;
        }
    }
    /* The postings there will be (runs of one passage in a term's slots) and the longest run. */
    int64_t runs = 0, longest = 0;
    for (Py_ssize_t t = 0; t < n_terms; t++) {
        int64_t a = indptr[t], b = indptr[t + 1];
        for (int64_t q = a, start = a; q < b; q++) {
            if (q + 1 == b || slots[q + 1] != slots[q]) {
                runs++;
                if (q + 1 - start > longest) longest = q + 1 - start;
                start = q + 1;
            }
        }
    }
    max_run = longest;
    out = runs;
    Py_END_ALLOW_THREADS
    m = (Py_ssize_t)out;

done:
    PyMem_Free(next);
    for (Py_ssize_t j = 0; j < got; j++) PyBuffer_Release(&parts[j]);
    PyMem_Free(parts);
    Py_XDECREF(seq);
    PyBuffer_Release(&lengths_b);
    PyBuffer_Release(&indptr_b);
    PyBuffer_Release(&passages_b);
    if (m < 0) return NULL;
    return Py_BuildValue("nL", m, (long long)max_run);
}

/* compact(indptr, passages, tf, m): after count() (which gave m), each run of one passage in a term's slots
 * made one posting, in place (writing never passes reading): passages[:m], its run's
 * length in tf (m values of 1, 2 or 4 bytes, unsigned), indptr moved to the postings. */
static PyObject *compact(PyObject *self, PyObject *args)
{
    Py_buffer indptr_b, passages_b, tf_b;
    Py_ssize_t m;
    if (!PyArg_ParseTuple(args, "w*w*w*n", &indptr_b, &passages_b, &tf_b, &m)) return NULL;
    int64_t *indptr = indptr_b.buf;
    int32_t *slots = passages_b.buf;
    Py_ssize_t n_terms = indptr_b.len / (Py_ssize_t)sizeof(int64_t) - 1, size = tf_b.itemsize;
    int ok = (size == 1 || size == 2 || size == 4) && n_terms >= 0 && tf_b.len >= m * size
             && indptr[n_terms] * (Py_ssize_t)sizeof(int32_t) <= passages_b.len;
    if (!ok) PyErr_SetString(PyExc_ValueError, "compact: tf must hold m values of 1, 2 or 4 bytes, after count()");
    else {
        uint8_t *tf1 = tf_b.buf;
        uint16_t *tf2 = tf_b.buf;
        uint32_t *tf4 = tf_b.buf;
        Py_BEGIN_ALLOW_THREADS
        int64_t out = 0;
        for (Py_ssize_t t = 0; t < n_terms; t++) {
            int64_t a = indptr[t], b = indptr[t + 1];
            indptr[t] = out;
            for (int64_t k = a, start = a; k < b; k++) {
                if (k + 1 == b || slots[k + 1] != slots[k]) {
                    int64_t run = k + 1 - start;
                    slots[out] = slots[k];
                    if (size == 1) tf1[out] = (uint8_t)run;
                    else if (size == 2) tf2[out] = (uint16_t)run;
                    else tf4[out] = (uint32_t)run;
                    out++;
                    start = k + 1;
                }
            }
        }
        indptr[n_terms] = out;
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&indptr_b);
    PyBuffer_Release(&passages_b);
    PyBuffer_Release(&tf_b);
    if (!ok) return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"count", count, METH_VARARGS,
     "count(tokens, lengths, n_terms, indptr, passages) -> (m, longest): the tokens (a list of int32 arrays,"
     " passage after passage, int32 lengths) sorted into each term's slots in passages (int32, as long as the"
     " tokens; term t's are passages[indptr[t]:indptr[t + 1]], indptr int64 of n_terms + 1),"
     " the postings m they make and the highest tf."},
    {"compact", compact, METH_VARARGS, "compact(indptr, passages, tf, m): the slots made postings, with their tf."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_counting", "Counting a build's postings.", -1, methods};

PyMODINIT_FUNC PyInit__counting(void) { return PyModule_Create(&module); }
