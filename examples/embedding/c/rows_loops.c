/*
 * The second file of a two-file module: it calls fastact through the table that
 * rows_module.c imported.  Same FASTACT_API_UNIQUE_SYMBOL in both files, and
 * FASTACT_NO_IMPORT here (NumPy's PY_ARRAY_UNIQUE_SYMBOL / NO_IMPORT_ARRAY).
 */
#define FASTACT_API_UNIQUE_SYMBOL fastact_rows_c_api
#define FASTACT_NO_IMPORT
#include "fastact.h"
#include "rows.h"

#define ROWS_RUN(T, t)                                                                       \
void rows_run_##t(enum rows_op op, const T *x, T *y, ptrdiff_t rows, ptrdiff_t n, double param) \
{                                                                                            \
    for (ptrdiff_t i = 0; i < rows; i++) {                                                   \
        const T *row = x + i * n;                                                            \
        switch (op) {                                                                        \
        case ROWS_SIGMOID:    fa_sigmoid_##t(row, y + i * n, n); break;                      \
        case ROWS_LEAKY_RELU: fa_leaky_relu_##t(row, y + i * n, n, param); break;            \
        case ROWS_SOFTMAX:    fa_softmax_##t(row, y + i * n, 1, n); break;                   \
        case ROWS_LOGSUMEXP:  fa_logsumexp_##t(row, y + i, 1, n); break;                     \
        }                                                                                    \
    }                                                                                        \
}
ROWS_RUN(float, f32)
ROWS_RUN(double, f64)
