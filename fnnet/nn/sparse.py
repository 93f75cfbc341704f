"""The embedding table."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from fnnet.nn import init as initializers
from fnnet.nn.functional.sequence import embedding
from fnnet.nn.module import Module
from fnnet.typing import Array, Params, PRNGKey, State


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``.

    Args:
        num_embeddings: rows of the table.
        embedding_dim: size of each vector.
        padding_idx: a row initialised to zeros whose gradient is always zero.

    Parameters: ``weight [num_embeddings, embedding_dim]`` from ``N(0, 1)``, as PyTorch.

    PyTorch equivalent: ``torch.nn.Embedding`` (without ``max_norm`` or ``sparse``).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: int | None = None) -> None:
        for name, value in (("num_embeddings", num_embeddings),
                            ("embedding_dim", embedding_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Embedding: {name} must be a positive int, got {value!r}")
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, int):
                raise TypeError(f"Embedding: padding_idx must be an int or None, got "
                                f"{padding_idx!r}")
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx

    def init(self, key: PRNGKey) -> tuple[Params, State]:
        weight = initializers.normal(key, (self.num_embeddings, self.embedding_dim))
        if self.padding_idx is not None:
            weight = weight.at[self.padding_idx].set(0.0)
        return {"weight": weight}, {}

    # One input array: Module.apply's *args are for composites' forward.
    def apply(self, params: Params, state: State, x: Array, *, train: bool = False,  # type: ignore[override]
              key: PRNGKey | None = None) -> tuple[Array, State]:
        """``x: [*] integer -> [*, embedding_dim]``."""
        del train, key
        if not isinstance(x, jax.core.Tracer):
            self._check_range(x)
        return embedding(x, params["weight"], self.padding_idx), state

    def _check_range(self, x: Any) -> None:
        """PyTorch's IndexError for an index outside ``[0, num_embeddings)``, naming the
        first one (concrete indices only: under jit it gives a row of NaN)."""
        indices = np.asarray(x)
        if not np.issubdtype(indices.dtype, np.integer) or not indices.size:
            return  # embedding() names a non-integer dtype
        bad = (indices < 0) | (indices >= self.num_embeddings)
        if bad.any():
            first = np.unravel_index(int(np.argmax(bad)), indices.shape)
            where = "" if not first else (
                f" at index {first[0] if len(first) == 1 else tuple(map(int, first))}")
            raise IndexError(f"{self!r}: index out of range in self: indices must lie in "
                             f"[0, {self.num_embeddings}), got {int(indices[first])}{where}")

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s if self.padding_idx is None else s + f", padding_idx={self.padding_idx}"
