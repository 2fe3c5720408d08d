/* fa_math_f64.h -- (being written) */
