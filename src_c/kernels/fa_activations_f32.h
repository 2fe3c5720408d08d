/* fa_activations_f32.h -- (being written) */
