"""The random draws of a seeded fit, made without changing any global random state.

scikit-learn never seeds a global generator from a call: a seeded estimator draws from
generators of its own. torch lets augmentation, mixing and batch shuffling draw from a
``torch.Generator`` passed to them, and those draws do. Weight initialisation and dropout
draw from torch's global generators and take none; those draws run inside
``torch.random.fork_rng``, with the global generators set to the fit's own stream and the
caller's states given back when the block ends.

Every epoch's draws are seeded from ``(random_state, epoch)``, so they depend on the
epoch's number alone: a fit resumed from a checkpoint at epoch ``k`` draws what an
uninterrupted one draws from epoch ``k + 1`` on, and ``partial_fit`` and ``warm_start``
fits go on to new draws, with nothing but the history to carry between calls.
"""

import contextlib
import threading

import numpy as np
import torch

# torch's global generators belong to the whole process: two threads must not swap them under
# each other (one's fork_rng would give back the other's seeded state, not the caller's)
_GLOBAL_GENERATORS = threading.RLock()


def _seeds(random_state, epoch, n):
    """``n`` independent 64-bit seeds for ``epoch`` of a fit seeded with ``random_state``."""
    entropy = [int(random_state) % 2**64, int(epoch)]  # SeedSequence takes non-negative integers
    return [int(s) for s in np.random.SeedSequence(entropy).generate_state(n, dtype=np.uint64)]


class SeededDraws:
    """The generators of one seeded fit, on ``device``.

    Parameters
    ----------
    random_state : int
        The estimator's seed.
    device : str, torch.device or None
        Where the training batches are (None: where skorch leaves them, the CPU).

    Attributes
    ----------
    shuffle : torch.Generator
        For the order of the training batches (the ``DataLoader``'s ``generator``), on the CPU.
    augment : torch.Generator
        For augmentation, mixup and CutMix, on ``device``.
    """

    def __init__(self, random_state, device):
        self.random_state = random_state
        self.device = torch.device("cpu" if device is None else device)
        if self.device.type == "cuda" and self.device.index is None:
            self.device = torch.device("cuda", torch.cuda.current_device())
        self.shuffle = torch.Generator()
        self.augment = torch.Generator(device=self.device)
        self._global_seed = None
        self._global_states = None
        self.start_epoch(0)

    def start_epoch(self, epoch):
        """Seed every generator for ``epoch`` (0: the weight initialisation before the first)."""
        shuffle, augment, global_ = _seeds(self.random_state, epoch, 3)
        self.shuffle.manual_seed(shuffle)
        self.augment.manual_seed(augment)
        self._global_seed, self._global_states = global_, None

    @contextlib.contextmanager
    def global_generators(self):
        """Run the block with torch's global generators (the CPU's, and the GPU's of ``device``) on
        this fit's stream, then give the caller's states back.

        The stream goes on from one block to the next, until :meth:`start_epoch` seeds it again.
        """
        cuda = self.device.type == "cuda"
        devices = [self.device.index] if cuda else []
        with _GLOBAL_GENERATORS, torch.random.fork_rng(devices=devices, device_type="cuda"):
            if self._global_states is None:
                torch.default_generator.manual_seed(self._global_seed)
                if cuda:
                    torch.cuda.default_generators[self.device.index].manual_seed(self._global_seed)
            else:
                torch.set_rng_state(self._global_states[0])
                if cuda:
                    torch.cuda.set_rng_state(self._global_states[1], self.device)
            try:
                yield
            finally:
                self._global_states = (
                    torch.get_rng_state(),
                    torch.cuda.get_rng_state(self.device) if cuda else None,
                )
