/*
 * losses/fa_one_hot.h -- one-hot encoding (included once per ISA by fa_isa_body.h).
 *
 * fa_k_one_hot_<T>(labels, out, count, inner, C): count slices of out, each (C, inner)
 * C-contiguous, are cleared and get 1 at [label, i] for each of the slice's inner labels
 * (inner == 1: rows of C, the axis=-1 layout).  The labels were checked to lie in [0, C) by
 * the runner (losses/fa_loss_run.h) before any call: nothing is written for bad input.
 * Memory-bound: a memset and one store per label.
 */
#ifndef FA_ONE_HOT_H
#define FA_ONE_HOT_H

#define FA__ONE_HOT_KERNEL(T, S)                                                           \
static void fa_k_one_hot_##T(const int64_t *labels, S *out, ptrdiff_t count, ptrdiff_t inner, \
                             ptrdiff_t num_classes)                                        \
{                                                                                          \
    const ptrdiff_t slice = num_classes * inner;                                           \
    memset(out, 0, (size_t)(count * slice) * sizeof(S));                                   \
    for (ptrdiff_t o = 0; o < count; o++)                                                  \
        for (ptrdiff_t i = 0; i < inner; i++)                                              \
            out[o * slice + (ptrdiff_t)labels[o * inner + i] * inner + i] = (S)1;          \
}
FA__ONE_HOT_KERNEL(f32, float)
FA__ONE_HOT_KERNEL(f64, double)

#endif /* FA_ONE_HOT_H */
