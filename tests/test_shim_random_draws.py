"""fnnet.torch's random draws are made flat and reshaped (a smaller program to compile):
the values must be those of a draw of the tensor's own shape from the same key."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fnnet.torch as ft
from fnnet.torch import _random

SHAPE = (3, 2, 4, 5)


def _next_key(seed):
    """The key the next draw after ``manual_seed(seed)`` takes."""
    ft.manual_seed(seed)
    return _random.state.split()


DRAWS = {
    "randn": (lambda: ft.randn(*SHAPE),
              lambda key: jax.random.normal(key, SHAPE)),
    "rand": (lambda: ft.rand(*SHAPE),
             lambda key: jax.random.uniform(key, SHAPE)),
    "nn.init.normal_": (lambda: ft.nn.init.normal_(ft.empty(*SHAPE), 0.5, 2.0),
                        lambda key: 0.5 + 2.0 * jax.random.normal(key, SHAPE)),
    "nn.init.uniform_": (lambda: ft.nn.init.uniform_(ft.empty(*SHAPE), -0.3, 0.7),
                         lambda key: jax.random.uniform(key, SHAPE, minval=-0.3, maxval=0.7)),
    "Tensor.normal_": (lambda: ft.empty(*SHAPE).normal_(1.0, 3.0),
                       lambda key: 1.0 + 3.0 * jax.random.normal(key, SHAPE)),
    "Tensor.uniform_": (lambda: ft.empty(*SHAPE).uniform_(2.0, 5.0),
                        lambda key: jax.random.uniform(key, SHAPE, minval=2.0, maxval=5.0)),
    "Tensor.bernoulli_": (lambda: ft.empty(*SHAPE).bernoulli_(0.3),
                          lambda key: jax.random.bernoulli(key, 0.3, SHAPE)),
    "torch.bernoulli": (
        lambda: ft.bernoulli(ft.full(SHAPE, 0.25)),
        lambda key: jax.random.bernoulli(key, jnp.full(SHAPE, 0.25), SHAPE)),
    "torch.normal": (lambda: ft.normal(0.0, 1.0, size=SHAPE),
                     lambda key: jax.random.normal(key, SHAPE)),
}


@pytest.mark.parametrize("name", list(DRAWS))
def test_a_draw_equals_the_draw_of_its_shape(name):
    draw, shaped = DRAWS[name]
    expected = np.asarray(shaped(_next_key(7)), np.float32)
    ft.manual_seed(7)
    got = draw().numpy()
    assert got.shape == SHAPE
    np.testing.assert_array_equal(got, expected)
