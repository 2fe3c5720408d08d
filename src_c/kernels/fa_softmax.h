/* fa_softmax.h -- (being written) */
