/* The row loops of the C consumer (rows_loops.c), called by rows_module.c. */
#ifndef ROWS_H
#define ROWS_H
#include <stddef.h>

enum rows_op { ROWS_SIGMOID, ROWS_LEAKY_RELU, ROWS_SOFTMAX, ROWS_LOGSUMEXP };

/* y[i] = op(x[i]) for each row i of a C-contiguous (rows, n) array, one fastact call
 * per row; LOGSUMEXP writes one value per row.  Needs no GIL. */
void rows_run_f32(enum rows_op op, const float *x, float *y, ptrdiff_t rows, ptrdiff_t n, double param);
void rows_run_f64(enum rows_op op, const double *x, double *y, ptrdiff_t rows, ptrdiff_t n, double param);
#endif
