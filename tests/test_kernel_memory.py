"""The CPU kernels hold no more memory in a training step than the portable forms.

XLA's ``memory_analysis()`` of a compiled gradient step (deterministic, nothing is run):
a ResNet-style stack of 3x3 convolutions, BatchNorm and ReLU whose weight gradients would
take 72 MB of im2col patches per layer at this batch. Patches held from the forward pass
to the backward (or recomputed there and moved back into the forward pass by XLA's CPU
scheduler) multiply the step's temporaries; the CPU forms must stay within a small margin
of the portable forms' (XLA's own convolution, what a GPU or TPU compiles).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from fnnet.nn import functional as F
from fnnet.nn.functional import kernels

BATCH, CHANNELS, SIZE, LAYERS = 32, 64, 32, 4
MB = 2**20


def _loss(params, x):
    for w, gamma, beta in params:
        x = F.conv2d(x, w, padding=1)
        x, _, _ = F.batch_norm(x, None, None, gamma, beta, training=True)
        x = F.relu(x)
    return jnp.mean(jnp.square(x))


def _temporaries(choice: str) -> float:
    params = [(jax.ShapeDtypeStruct((CHANNELS, CHANNELS, 3, 3), jnp.float32),
               jax.ShapeDtypeStruct((CHANNELS,), jnp.float32),
               jax.ShapeDtypeStruct((CHANNELS,), jnp.float32)) for _ in range(LAYERS)]
    x = jax.ShapeDtypeStruct((BATCH, CHANNELS, SIZE, SIZE), jnp.float32)
    with kernels.use(choice):
        compiled = jax.jit(jax.grad(_loss)).lower(params, x).compile()
    return compiled.memory_analysis().temp_size_in_bytes / MB


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="the CPU forms run on the CPU")
def test_cpu_kernels_step_memory_within_portable_forms():
    cpu, portable = _temporaries("platform"), _temporaries("portable")
    # One layer's patches (72 MB) held in addition would fail this; so would XLA
    # moving the recomputed patches into the forward pass.
    assert cpu <= portable * 1.05 + 1, (
        f"the CPU kernels' gradient step needs {cpu:.1f} MB of temporaries, the portable "
        f"forms' {portable:.1f} MB")
