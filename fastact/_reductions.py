"""logsumexp, softmax, log_softmax (issue 3: being written)."""
__all__ = []
