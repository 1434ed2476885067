"""torch.distributions.Categorical: the distribution a language model or a seq2seq decoder samples
its next token from, and the log-probabilities REINFORCE-style training differentiates.

    dist = ts.distributions.Categorical(logits=decoder_logits)   # [..., K]
    token = dist.sample()                                          # [...] int64, no gradient
    loss = -(dist.log_prob(token) * reward).mean()                 # gradient into the logits

As torch's: exactly one of probs (non-negative, normalised over the last dimension) or logits
(normalised by logsumexp); .probs and .logits are the normalised forms; batch_shape is the shape
without the last dimension, event_shape is (); sample(sample_shape) draws from tinygrad_seq's
generator (ts.manual_seed), so the draws are reproducible but not torch's; log_prob and entropy
carry gradients."""
import numpy as np

from tinygrad_seq import functional as F
from tinygrad_seq.tensor import Size, Tensor

from . import constraints
from .distribution import Distribution
from .utils import _sample_shape

__all__ = ["Categorical"]


def _as_tensor(x, name):
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"Categorical: {name} must be a tensor of numbers, got {type(x).__name__}")
    return Tensor(arr.astype(np.float32) if arr.dtype.kind != "f" else arr)


class Categorical(Distribution):
    """torch.distributions.Categorical(probs=None, logits=None, validate_args=None)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: give exactly one of probs or logits")
        validate = self._validate_args if validate_args is None else bool(validate_args)
        if probs is not None:
            probs = _as_tensor(probs, "probs")
            if probs.ndim < 1:
                raise ValueError("Categorical: probs must have at least one dimension (the categories), got a 0-d tensor")
            values = probs.numpy()
            if validate and (not np.isfinite(values).all() or (values < 0).any()
                             or (values.sum(-1) <= 0).any()):
                raise ValueError("Categorical: probs must be finite and non-negative with a positive sum "
                                 f"over the last dimension (shape {tuple(probs.shape)})")
            self.probs = probs / probs.sum(-1, keepdim=True)
            eps = float(np.finfo(self.probs.dtype).eps)   # torch's probs_to_logits clamps to [eps, 1 - eps]
            self.logits = self.probs.clamp(min=eps, max=1 - eps).log()
            self._param = "probs"
        else:
            logits = _as_tensor(logits, "logits")
            if logits.ndim < 1:
                raise ValueError("Categorical: logits must have at least one dimension (the categories), got a 0-d tensor")
            with np.errstate(invalid="ignore"):   # inf - inf is the nan the check below reports
                self.logits = logits - logits.logsumexp(-1, keepdim=True)
            # torch checks the normalised logits: nan, +inf, or a row all -inf each give nan there
            if validate and np.isnan(self.logits.numpy()).any():
                raise ValueError("Categorical: logits must not contain nan or +inf, nor a row that is all -inf "
                                 f"(their normalised logits are nan; shape {tuple(logits.shape)})")
            self.probs = F.softmax(logits, -1)
            self._param = "logits"
        self._num_events = self.probs.shape[-1]
        # the checks above are the arg_constraints' (with messages that name the problem)
        super().__init__(Size(self.probs.shape[:-1]), Size(()), validate_args=False)
        self._validate_args = validate

    @property
    def param_shape(self):
        return Size(self.probs.shape)

    @property
    def mean(self):
        return Tensor(np.full(tuple(self.batch_shape), np.nan, self.probs.dtype))

    @property
    def variance(self):
        return self.mean

    @property
    def mode(self):
        return self.probs.detach().argmax(-1)

    def sample(self, sample_shape=()):
        """Category indices of shape sample_shape + batch_shape (int64, no gradient), as torch's:
        multinomial(probs as [batch, K], prod(sample_shape), replacement=True), transposed."""
        from tinygrad_seq.creation import multinomial
        sample_shape = tuple(_sample_shape(sample_shape))
        count = int(np.prod(sample_shape))
        probs_2d = self.probs.detach().reshape(-1, self._num_events)
        drawn = multinomial(probs_2d, count, True).numpy().T if count else np.zeros((0, len(probs_2d)), np.int64)
        shape = sample_shape + tuple(self.batch_shape)
        return Tensor(np.ascontiguousarray(drawn).reshape(shape), device=self.probs.device)

    def log_prob(self, value):
        """log P(value): value (integers in 0..K-1) broadcast against batch_shape."""
        value = value if isinstance(value, Tensor) else Tensor(np.asarray(value))
        v = value.numpy()
        if self._validate_args and (v.dtype.kind == "f" and (v != np.round(v)).any()
                                    or (v < 0).any() or (v >= self._num_events).any()):
            raise ValueError(f"Categorical.log_prob: values must be integers in 0..{self._num_events - 1}, "
                             f"got {v.min()}..{v.max()}")
        index = value.long().unsqueeze(-1)
        shape = np.broadcast_shapes(tuple(index.shape), tuple(self.logits.shape)[:-1] + (1,))
        logits = self.logits.expand(*shape[:-1], self._num_events)
        return logits.gather(-1, index.expand(*shape)).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=float(np.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        """torch's constraints.integer_interval(0, K - 1)."""
        return constraints.integer_interval(0, self._num_events - 1)

    def expand(self, batch_shape, _instance=None):
        """The same distribution broadcast to batch_shape (torch's Categorical.expand): an instance
        of type(self), so subclasses keep their class; one with its own __init__ must define expand."""
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = Size(tuple(batch_shape))
        shape = tuple(batch_shape) + (self._num_events,)
        new.probs = self.probs.expand(*shape)
        new.logits = self.logits.expand(*shape)
        new._param = self._param
        new._num_events = self._num_events
        Distribution.__init__(new, batch_shape, Size(()), validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        raise NotImplementedError("Categorical has no reparameterized sampler (has_rsample is False), as torch's")

    def cdf(self, value):
        raise NotImplementedError("Categorical has no cdf, as torch's")

    def enumerate_support(self, expand=True):
        values = Tensor(np.arange(self._num_events, dtype=np.int64).reshape((-1,) + (1,) * len(self.batch_shape)))
        return values.expand(self._num_events, *self.batch_shape) if expand else values

    def __repr__(self):
        param = self.probs if self._param == "probs" else self.logits
        return f"Categorical({self._param}: {param.size()})"
