/* fa_activations_f64.h -- (being written) */
