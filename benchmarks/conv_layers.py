"""Each convolution of LeNet-5 and ResNet-18 alone: fnnet, XLA's convolution, PyTorch.

Times the forward pass and the gradients a training step needs (the weight's, and the
input's for every layer but the first) of each distinct convolution layer of LeNet-5
(batch 64, 32x32) and of ResNet-18 with the CIFAR stem (batch 128, 32x32), for
``fnnet.nn.functional.conv2d`` (the CPU formulation it chooses), ``lax.conv_general_dilated``
(XLA's own convolution and its transpose rules) and PyTorch eager (2 threads), in the
same rounds. The totals weight each layer by how often the network holds it: they are
what the convolutions alone cost a step, a floor under the whole step of each framework.

    python benchmarks/conv_layers.py [--models lenet,resnet18] [--steps 6]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from harness import machine, time_steps, versions  # noqa: E402

import fnnet  # noqa: E402
from fnnet.nn import functional as F  # noqa: E402


class Layer(NamedTuple):
    name: str
    x_shape: tuple[int, int, int, int]
    out_channels: int
    kernel: int
    stride: int
    padding: int
    count: int          # how many such layers the network holds
    input_grad: bool    # whether training needs the input's gradient


LAYERS = {
    "lenet": [
        Layer("conv1 1->6 5x5, 32x32", (64, 1, 32, 32), 6, 5, 1, 0, 1, False),
        Layer("conv2 6->16 5x5, 14x14", (64, 6, 14, 14), 16, 5, 1, 0, 1, True),
    ],
    "resnet18": [
        Layer("stem 3->64 3x3, 32x32", (128, 3, 32, 32), 64, 3, 1, 1, 1, False),
        Layer("64->64 3x3, 32x32", (128, 64, 32, 32), 64, 3, 1, 1, 4, True),
        Layer("64->128 3x3 /2", (128, 64, 32, 32), 128, 3, 2, 1, 1, True),
        Layer("64->128 1x1 /2", (128, 64, 32, 32), 128, 1, 2, 0, 1, True),
        Layer("128->128 3x3, 16x16", (128, 128, 16, 16), 128, 3, 1, 1, 3, True),
        Layer("128->256 3x3 /2", (128, 128, 16, 16), 256, 3, 2, 1, 1, True),
        Layer("128->256 1x1 /2", (128, 128, 16, 16), 256, 1, 2, 0, 1, True),
        Layer("256->256 3x3, 8x8", (128, 256, 8, 8), 256, 3, 1, 1, 3, True),
        Layer("256->512 3x3 /2", (128, 256, 8, 8), 512, 3, 2, 1, 1, True),
        Layer("256->512 1x1 /2", (128, 256, 8, 8), 512, 1, 2, 0, 1, True),
        Layer("512->512 3x3, 4x4", (128, 512, 4, 4), 512, 3, 1, 1, 3, True),
    ],
}


def _operands(layer: Layer, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, c, h, w = layer.x_shape
    x = rng.standard_normal(layer.x_shape, dtype=np.float32)
    weight = rng.standard_normal((layer.out_channels, c, layer.kernel, layer.kernel),
                                 dtype=np.float32) / float(np.sqrt(c * layer.kernel ** 2))
    out = (h + 2 * layer.padding - layer.kernel) // layer.stride + 1
    dy = rng.standard_normal((n, layer.out_channels, out, out), dtype=np.float32)
    return x, weight, dy


def jax_case(layer: Layer, conv):
    """``conv(x, w)``'s forward and the gradients training needs, as one jitted call."""
    x, weight, dy = (jnp.asarray(a) for a in _operands(layer))
    argnums = (0, 1) if layer.input_grad else (1,)
    run = jax.jit(jax.grad(lambda a, b: jnp.vdot(conv(a, b), dy), argnums=argnums))
    return lambda i: run(x, weight)


def fnnet_conv(layer: Layer):
    return lambda x, w: F.conv2d(x, w, stride=layer.stride, padding=layer.padding)


def xla_conv(layer: Layer):
    pads = ((layer.padding, layer.padding),) * 2
    return lambda x, w: lax.conv_general_dilated(
        x, w, (layer.stride,) * 2, pads, dimension_numbers=("NCHW", "OIHW", "NCHW"))


def torch_case(torch, layer: Layer):
    x, weight, dy = (torch.from_numpy(a) for a in _operands(layer))
    x.requires_grad_(layer.input_grad)
    weight.requires_grad_(True)

    def step(i):
        x.grad = weight.grad = None
        y = torch.nn.functional.conv2d(x, weight, stride=layer.stride, padding=layer.padding)
        y.backward(dy)
        return weight.grad

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="lenet,resnet18")
    parser.add_argument("--steps", type=int, default=6, help="timed calls per layer "
                        "and implementation (ResNet-18); LeNet-5 runs 20x as many")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    print(f"fnnet {fnnet.__version__}; {versions()}; {machine()}")
    names = ("fnnet conv2d", "XLA conv", "PyTorch")
    for model in args.models.split(","):
        steps = args.steps * (20 if model == "lenet" else 1)
        print(f"\n### {model}: forward + the gradients a training step needs, ms\n")
        print("| layer | count | " + " | ".join(names) + " | PyTorch / fnnet |")
        print("|---|---:|---:|---:|---:|---:|")
        totals = dict.fromkeys(names, 0.0)
        for layer in LAYERS[model]:
            rows = time_steps({
                names[0]: (jax_case(layer, fnnet_conv(layer)), jax.block_until_ready),
                names[1]: (jax_case(layer, xla_conv(layer)), jax.block_until_ready),
                names[2]: (torch_case(torch, layer), lambda r: r),
            }, warmup=2, steps=steps, rounds=min(steps, 5))
            ms = {r.name: r.median_ms for r in rows}
            for name in names:
                totals[name] += layer.count * ms[name]
            print(f"| {layer.name} | {layer.count} | "
                  + " | ".join(f"{ms[n]:.2f}" for n in names)
                  + f" | {ms['PyTorch'] / ms['fnnet conv2d']:.2f}x |", flush=True)
        print("| **all convolutions of a step** | | "
              + " | ".join(f"**{totals[n]:.1f}**" for n in names)
              + f" | **{totals['PyTorch'] / totals['fnnet conv2d']:.2f}x** |")


if __name__ == "__main__":
    main()
