/* fa_math_f32.h -- (being written) */
