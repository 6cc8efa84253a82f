"""Where a network runs and what it draws from: the device, and a seeded fit's own generators.

No call changes global state: ``device`` stays as given (``device_`` is the device chosen), and a
seeded fit draws from generators of its own (:class:`fersk.training._random.SeededDraws`), leaving
the global generators of torch, numpy and Python as they were.
"""

import contextlib
import threading

import torch

from ..._device import resolve_device
from ...training import SeededDraws


def _device_name(device):
    """skorch's choice of device as a name: it gives the CPU it falls back to as a ``torch.device``."""
    return str(device) if isinstance(device, torch.device) else device


class _DeterministicCudnn:
    """With ``seeded``, cuDNN's deterministic algorithms while the block runs, then the caller's
    settings back: the same ``random_state`` then trains the same network on a GPU too
    (cuDNN's fastest convolution gradients sum in a varying order).

    torch keeps these flags for the whole process, and offers no per-thread or per-call
    setting. Seeded fits running at once in several threads share one switch: the first to
    begin keeps the caller's settings, and the last to end gives them back (a lock and a
    count), so that no fit gives back settings while another still trains, nor gives back
    another's. While a seeded fit trains, every other fit in the process trains with the
    deterministic algorithms too.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._users = 0
        self._saved = None

    @contextlib.contextmanager
    def __call__(self, seeded):
        if not seeded:
            yield
            return
        cudnn = torch.backends.cudnn
        with self._lock:
            if self._users == 0:
                self._saved = cudnn.deterministic, cudnn.benchmark
                cudnn.deterministic, cudnn.benchmark = True, False
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    cudnn.deterministic, cudnn.benchmark = self._saved
                    self._saved = None


_deterministic_cudnn = _DeterministicCudnn()


class RuntimeMixin:
    """The device a network is built, moved and loaded on, and the generators a seeded fit draws from.

    skorch reads the device from ``self.device``; fersk keeps there what the user gave and the
    device chosen in ``device_``, and hands skorch ``device_`` only while it builds or loads.
    """

    @contextlib.contextmanager
    def _device_for_skorch(self):
        """skorch reads the device to build, move and load the network on from ``self.device``:
        while the block runs, it holds ``device_`` (the device chosen), then what the user gave
        again. Where skorch changes it (a GPU's weights loaded on a machine without one, with
        skorch's warning), ``device_`` takes the change.

        Only the methods that build or load the network run in the block (``initialize``,
        ``set_params`` of a built network, ``load_params``), never training or prediction, which
        read ``device_`` themselves: a fitted network may predict in several threads at once.
        """
        given = self.__dict__.get("device")
        self.__dict__["device"] = self.__dict__.get("device_") or resolve_device(given)
        try:
            yield
        finally:
            if self.initialized_:
                self.device_ = _device_name(self.__dict__["device"])
            self.__dict__["device"] = given

    def __setstate__(self, state):
        # skorch maps the stored tensors to state["device"], and falls back to the CPU (with its
        # DeviceWarning) where that device is missing. They are on device_ (a network fitted on a
        # GPU: "cuda"); an unfitted estimator, as joblib and Dask ship it to their workers, has
        # none, and "auto" is no device torch knows
        given = state.get("device")
        state["device"] = state.get("device_") or resolve_device(given)
        super().__setstate__(state)
        if "device_" in state or state.get("initialized_"):
            self.device_ = _device_name(self.__dict__["device"])  # where skorch put the network
        if given == "auto" or given is None:
            # what the user gave stays; a device given by name follows skorch: a missing one is
            # replaced by the one used, with skorch's warning
            self.device = given

    def load_params(self, *args, **kwargs):
        """skorch's ``load_params``, onto the network's device ``device_``."""
        with self._device_for_skorch():
            return super().load_params(*args, **kwargs)

    def _initial_weights(self):
        """A block that builds the network: with a ``random_state``, its initial weights are drawn
        from a stream seeded by it (torch's layers draw them from its global generators and take no
        other), and the global generators are given back after."""
        if self.random_state is None:
            return contextlib.nullcontext()
        return SeededDraws(self.random_state, self.device_).global_generators()

    @contextlib.contextmanager
    def _seeded_training(self):
        """The block trains; with a ``random_state``, on the fit's own generators (``_draws_``, seeded
        again at each epoch from ``(random_state, epoch)``, see :meth:`run_single_epoch`) and with
        cuDNN's deterministic algorithms, leaving torch's global generators as they were."""
        seeded = self.random_state is not None
        if seeded:
            self._draws_ = SeededDraws(self.random_state, self.device_)
        try:
            with _deterministic_cudnn(seeded):
                yield
        finally:
            self.__dict__.pop("_draws_", None)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # a seeded fit's draws in epoch k come from (random_state, k) alone: a resumed fit, a
        # partial_fit or a warm start go on where the history says, with no state to carry
        draws = self.__dict__.get("_draws_")
        if training and draws is not None:
            draws.start_epoch(len(self.history))
        return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
