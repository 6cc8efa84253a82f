"""OpenMP on one thread for the calling thread alone: torch's process-wide count never changes."""

import contextlib
import functools


@functools.cache
def _openmp():
    """threadpoolctl's handle on the OpenMP runtimes this process has loaded, torch's among them."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="openmp")


@contextlib.contextmanager
def one_openmp_thread():
    """The calling thread's torch operations on one thread while the block runs; nothing else changes.

    The setting changed is OpenMP's for the calling thread alone (``omp_set_num_threads``,
    through threadpoolctl), put back by the same thread: torch's process-wide count
    (``torch.set_num_threads``) is never touched, so threads doing this at once cannot leave
    each other, or threads started later, on one thread. torch sets a thread's OpenMP count
    itself at its first call in that thread, hence ``torch.get_num_threads()`` first.
    """
    import torch

    torch.get_num_threads()
    with _openmp().limit(limits=1):
        yield
