/* The build's numbering of word forms, compiled ahead of time with the package: see
 * citesearch/indexer/compiled.py, whose numba functions of the same names it replaces
 * (same arguments, same results: the same forms get the same ids in the same table).
 *
 * Built here, a build needs no numba: loading numba and its cached functions took about
 * 0.3 s of every large build, and a fresh install's first large build compiled them for
 * about 2.4 s. Without a C compiler at install time, compiled.py uses numba as before.
 *
 * scan(buf, bounds, starts, stops, wide, lengths) -> tokens found
 * number(buf, starts, stops, table, arena, ends, n_forms, out) -> forms now
 * rehash(table, arena, ends, n_forms)
 * Every buffer is checked before it is written: a call that would write past one raises
 * ValueError instead.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define EMPTY (-1)

/* The form data[a:a + n]'s key and hash: up to 8 bytes, the bytes themselves packed in an
 * integer (Fibonacci-hashed); longer, their FNV-1a hash for both. */
static inline uint64_t form_key(const uint8_t *data, int64_t a, int64_t n, uint64_t *hash)
{
    if (n <= 8) {
        uint64_t key = 0;
        for (int64_t j = 0; j < n; j++) key |= (uint64_t)data[a + j] << (8 * j);
        uint64_t h = key * UINT64_C(0x9E3779B97F4A7C15);
        *hash = h ^ (h >> 29);
        return key;
    }
    uint64_t h = UINT64_C(14695981039346656037);
    for (int64_t j = 0; j < n; j++) h = (h ^ data[a + j]) * UINT64_C(1099511628211);
    *hash = h;
    return h;
}

static inline int64_t meta_of(int64_t form, int64_t n) { return (form << 8) | (n < 255 ? n : 255); }

static int released(Py_buffer *b, int n)
{
    for (int i = 0; i < n; i++) PyBuffer_Release(&b[i]);
    return 0;
}

static PyObject *scan(PyObject *self, PyObject *args)
{
    Py_buffer b[6];
    memset(b, 0, sizeof b);
    if (!PyArg_ParseTuple(args, "y*y*w*w*w*w*", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5])) return NULL;
    const uint8_t *buf = b[0].buf;
    const int64_t *bounds = b[1].buf;
    int64_t *starts = b[2].buf, *stops = b[3].buf;
    uint8_t *wide = b[4].buf;
    int32_t *lengths = b[5].buf;
    Py_ssize_t n_bounds = b[1].len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t cap = b[2].len / (Py_ssize_t)sizeof(int64_t);
    if (b[3].len / (Py_ssize_t)sizeof(int64_t) < cap) cap = b[3].len / (Py_ssize_t)sizeof(int64_t);
    if (b[4].len < cap) cap = b[4].len;
    int bad = n_bounds < 1 || b[5].len / (Py_ssize_t)sizeof(int32_t) < n_bounds - 1;
    for (Py_ssize_t k = 0; !bad && k < n_bounds; k++)
        bad = bounds[k] < (k ? bounds[k - 1] : 0) || bounds[k] > b[0].len;
    if (bad) {
        released(b, 6);
        PyErr_SetString(PyExc_ValueError, "scan: the bounds must ascend within the buffer, one length per passage");
        return NULL;
    }
    int64_t t = 0;
    int overflow = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n_bounds - 1 && !overflow; k++) {
        int64_t first = t, run = bounds[k], end = bounds[k + 1];
        int high = 0;
        for (int64_t p = bounds[k]; p <= end; p++) {
            uint8_t c = p < end ? buf[p] : 0;
            if (c == 0) {
                if (p - run >= 2 || high) {
                    if (t == cap) {
                        overflow = 1;
                        break;
                    }
                    starts[t] = run;
                    stops[t] = p;
                    wide[t] = (uint8_t)high;
                    t++;
                }
                run = p + 1;
                high = 0;
            } else if (c >= 128) {
                high = 1;
            }
        }
        lengths[k] = (int32_t)(t - first);
    }
    Py_END_ALLOW_THREADS
    released(b, 6);
    if (overflow) {
        PyErr_SetString(PyExc_ValueError, "scan: more tokens than starts, stops and wide hold");
        return NULL;
    }
    return PyLong_FromLongLong(t);
}

static PyObject *number(PyObject *self, PyObject *args)
{
    Py_buffer b[7];
    Py_ssize_t n_forms;
    memset(b, 0, sizeof b);
    if (!PyArg_ParseTuple(args, "y*y*y*w*w*w*nw*", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &n_forms, &b[6]))
        return NULL;
    const uint8_t *buf = b[0].buf;
    const int64_t *starts = b[1].buf, *stops = b[2].buf;
    int64_t *table = b[3].buf, *ends = b[5].buf;
    uint8_t *arena = b[4].buf;
    int32_t *out = b[6].buf;
    Py_ssize_t m = b[1].len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t slots = b[3].len / (Py_ssize_t)(2 * sizeof(int64_t));
    Py_ssize_t n_ends = b[5].len / (Py_ssize_t)sizeof(int64_t);
    const char *problem = NULL;
    if (b[2].len < b[1].len || b[6].len / (Py_ssize_t)sizeof(int32_t) < m)
        problem = "number: one stop and one id a start";
    else if (slots < 1 || (slots & (slots - 1)))
        problem = "number: the table must have a power of two of slots";
    else if (n_forms < 0 || n_forms + 1 > n_ends)
        problem = "number: ends must hold n_forms + 1 offsets";
    for (Py_ssize_t t = 0; !problem && t < m; t++)
        if (starts[t] < 0 || stops[t] < starts[t] || stops[t] > b[0].len) problem = "number: a token outside the buffer";
    if (problem) {
        released(b, 7);
        PyErr_SetString(PyExc_ValueError, problem);
        return NULL;
    }
    int64_t mask = slots - 1, forms = n_forms, arena_len = b[4].len;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t t = 0; t < m && !problem; t++) {
        int64_t a = starts[t], n = stops[t] - a;
        uint64_t h, key = form_key(buf, a, n, &h);
        int64_t slot = (int64_t)(h & (uint64_t)mask);
        for (Py_ssize_t probes = 0;; probes++) {
            if (probes > mask) {
                problem = "number: the table is full";
                break;
            }
            int64_t meta = table[2 * slot + 1];
            if (meta == EMPTY) {
                int64_t start = ends[forms];
                if (forms + 2 > n_ends || start < 0 || start + n > arena_len) {
                    problem = "number: no room left in arena or ends";
                    break;
                }
                memcpy(arena + start, buf + a, (size_t)n);
                ends[forms + 1] = start + n;
                table[2 * slot] = (int64_t)key;
                table[2 * slot + 1] = meta_of(forms, n);
                out[t] = (int32_t)forms;
                forms++;
                break;
            }
            if ((meta & 255) == (n < 255 ? n : 255) && table[2 * slot] == (int64_t)key) {
                int64_t form = meta >> 8;
                if (n <= 8) {
                    out[t] = (int32_t)form;
                    break;
                }
                int64_t start = ends[form];
                if (ends[form + 1] - start == n && memcmp(arena + start, buf + a, (size_t)n) == 0) {
                    out[t] = (int32_t)form;
                    break;
                }
            }
            slot = (slot + 1) & mask;
        }
    }
    Py_END_ALLOW_THREADS
    released(b, 7);
    if (problem) {
        PyErr_SetString(PyExc_ValueError, problem);
        return NULL;
    }
    return PyLong_FromLongLong(forms);
}

static PyObject *rehash(PyObject *self, PyObject *args)
{
    Py_buffer b[3];
    Py_ssize_t n_forms;
    memset(b, 0, sizeof b);
    if (!PyArg_ParseTuple(args, "w*y*y*n", &b[0], &b[1], &b[2], &n_forms)) return NULL;
    int64_t *table = b[0].buf;
    const uint8_t *arena = b[1].buf;
    const int64_t *ends = b[2].buf;
    Py_ssize_t slots = b[0].len / (Py_ssize_t)(2 * sizeof(int64_t));
    const char *problem = NULL;
    if (slots < 1 || (slots & (slots - 1)) || n_forms < 0 || n_forms >= slots ||
        b[2].len / (Py_ssize_t)sizeof(int64_t) < n_forms + 1)
        problem = "rehash: a table of a power of two of slots, more than the forms, and their n_forms + 1 ends";
    for (Py_ssize_t f = 0; !problem && f < n_forms; f++)
        if (ends[f] < 0 || ends[f + 1] < ends[f] || ends[f + 1] > b[1].len) problem = "rehash: a form outside the arena";
    if (!problem) {
        int64_t mask = slots - 1;
        for (Py_ssize_t form = 0; form < n_forms; form++) {
            int64_t n = ends[form + 1] - ends[form];
            uint64_t h, key = form_key(arena, ends[form], n, &h);
            int64_t slot = (int64_t)(h & (uint64_t)mask);
            while (table[2 * slot + 1] != EMPTY) slot = (slot + 1) & mask;
            table[2 * slot] = (int64_t)key;
            table[2 * slot + 1] = meta_of(form, n);
        }
    }
    released(b, 3);
    if (problem) {
        PyErr_SetString(PyExc_ValueError, problem);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS, "scan(buf, bounds, starts, stops, wide, lengths) -> tokens found"},
    {"number", number, METH_VARARGS, "number(buf, starts, stops, table, arena, ends, n_forms, out) -> forms now"},
    {"rehash", rehash, METH_VARARGS, "rehash(table, arena, ends, n_forms): forms 0 ... n_forms - 1 into the table"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_numbering", "The build's compiled numbering of word forms.",
                                    -1, methods};

PyMODINIT_FUNC PyInit__numbering(void) { return PyModule_Create(&module); }
