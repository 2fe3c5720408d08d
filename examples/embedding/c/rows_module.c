/*
 * fastact_rows_c: fastact's kernels called from a plain C extension, one row at a
 * time, without the GIL.  No link step: import_fastact() fetches fastact's function
 * table from the capsule fastact.kernels._C_API when this module is imported.
 *
 * Arrays go through the buffer protocol (no NumPy headers needed): 2-D, C-contiguous,
 * float32 or float64, `out` writable with x's shape (1-D, one entry per row, for
 * logsumexp_rows).
 */
#define PY_SSIZE_T_CLEAN
#define FASTACT_API_UNIQUE_SYMBOL fastact_rows_c_api   /* shared with rows_loops.c */
#include "fastact.h"
#include "rows.h"

static PyObject *run(enum rows_op op, PyObject *args)
{
    PyObject *xo, *outo;
    double param = 0.0;
    if (!PyArg_ParseTuple(args, op == ROWS_LEAKY_RELU ? "OOd" : "OO", &xo, &outo, &param))
        return NULL;
    Py_buffer x, out;
    if (PyObject_GetBuffer(xo, &x, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    if (PyObject_GetBuffer(outo, &out, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&x);
        return NULL;
    }
    const int f32 = strcmp(x.format, "f") == 0, f64 = strcmp(x.format, "d") == 0;
    const int out_ndim = op == ROWS_LOGSUMEXP ? 1 : 2;
    PyObject *result = NULL;
    if (!(f32 || f64) || strcmp(out.format, x.format) != 0)
        PyErr_SetString(PyExc_TypeError, "x and out must both be float32 or both float64");
    else if (x.ndim != 2 || out.ndim != out_ndim || out.shape[0] != x.shape[0]
             || (out_ndim == 2 && out.shape[1] != x.shape[1]))
        PyErr_SetString(PyExc_ValueError, "x must be 2-D and out of shape x.shape "
                                          "(logsumexp_rows: (x.shape[0],))");
    else {
        const ptrdiff_t rows = x.shape[0], n = x.shape[1];
        Py_BEGIN_ALLOW_THREADS
        if (f32)
            rows_run_f32(op, (const float *)x.buf, (float *)out.buf, rows, n, param);
        else
            rows_run_f64(op, (const double *)x.buf, (double *)out.buf, rows, n, param);
        Py_END_ALLOW_THREADS
        Py_INCREF(Py_None);
        result = Py_None;
    }
    PyBuffer_Release(&out);
    PyBuffer_Release(&x);
    return result;
}

static PyObject *sigmoid_rows(PyObject *m, PyObject *a) { return run(ROWS_SIGMOID, a); }
static PyObject *leaky_relu_rows(PyObject *m, PyObject *a) { return run(ROWS_LEAKY_RELU, a); }
static PyObject *softmax_rows(PyObject *m, PyObject *a) { return run(ROWS_SOFTMAX, a); }
static PyObject *logsumexp_rows(PyObject *m, PyObject *a) { return run(ROWS_LOGSUMEXP, a); }
static PyObject *isa_in_use(PyObject *m, PyObject *unused) { return PyUnicode_FromString(fa_isa_in_use()); }

static PyMethodDef methods[] = {
    {"sigmoid_rows", sigmoid_rows, METH_VARARGS, "sigmoid_rows(x, out): out[i] = sigmoid(x[i])"},
    {"leaky_relu_rows", leaky_relu_rows, METH_VARARGS,
     "leaky_relu_rows(x, out, negative_slope): out[i] = leaky_relu(x[i], negative_slope)"},
    {"softmax_rows", softmax_rows, METH_VARARGS, "softmax_rows(x, out): out[i] = softmax(x[i])"},
    {"logsumexp_rows", logsumexp_rows, METH_VARARGS, "logsumexp_rows(x, out): out[i] = logsumexp(x[i])"},
    {"isa_in_use", isa_in_use, METH_NOARGS, "the kernel variant fastact runs"},
    {NULL, NULL, 0, NULL},
};

static int exec_module(PyObject *m)
{
    return import_fastact();   /* 0, or -1 with ImportError set */
}

static PyModuleDef_Slot slots[] = {{Py_mod_exec, exec_module}, {0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "fastact_rows_c", "fastact kernels called from C, row by row", 0,
    methods, slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_fastact_rows_c(void) { return PyModuleDef_Init(&module); }
