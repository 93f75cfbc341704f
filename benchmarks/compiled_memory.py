"""Peak memory of the compiled ResNet-18 training step, fnnet against Flax NNX.

The suite's ``resnet18`` workload (CIFAR stem, 3x32x32, batch 128, SGD with momentum
0.9 and weight decay 5e-4) compiled, not run, by each implementation; XLA's
``memory_analysis()`` of the compiled step gives the bytes of its arguments, outputs
and temporaries (activations kept for the backward, workspace) and how much of the
output reuses donated arguments. Both steps donate the training state. fnnet's step is
compiled with its platform kernels (on the CPU: the matrix-product convolutions) and
with the portable ones (XLA's convolution, what a GPU or TPU runs).

    python benchmarks/compiled_memory.py [--batch 128]
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import jax
import jax.numpy as jnp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from suite import fnnet_model, fnnet_optimizer, nnx_model  # noqa: E402

MB = 2**20


def fnnet_compiled(batch: int, kernels: str):
    from fnnet import losses
    from fnnet.nn.functional import kernels as kernel_layer
    from fnnet.train import create_train_state, make_train_step

    model, optimizer = fnnet_model("resnet18"), fnnet_optimizer("sgd_wd")
    state = create_train_state(model, optimizer, jax.random.key(0))
    step = make_train_step(model, optimizer, losses.cross_entropy)
    x = jax.ShapeDtypeStruct((batch, 3, 32, 32), jnp.float32)
    y = jax.ShapeDtypeStruct((batch,), jnp.int32)
    with kernel_layer.use(kernels):
        return step.lower(state, (x, y)).compile()


def nnx_compiled(batch: int):
    import optax
    from flax import nnx

    model = nnx_model("resnet18")
    tx = optax.chain(optax.add_decayed_weights(5e-4), optax.sgd(0.1, momentum=0.9))
    optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
    model.train()
    graphdef, state = nnx.split((model, optimizer))

    def train_step(state, x, y):
        model, optimizer = nnx.merge(graphdef, state)

        def loss_fn(model):
            logits = model(x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss, nnx.split((model, optimizer))[1]

    x = jax.ShapeDtypeStruct((batch, 32, 32, 3), jnp.float32)
    y = jax.ShapeDtypeStruct((batch,), jnp.int32)
    return jax.jit(train_step, donate_argnums=(0,)).lower(state, x, y).compile()


def figures(compiled) -> dict[str, float]:
    stats = compiled.memory_analysis()
    arguments = stats.argument_size_in_bytes
    outputs = stats.output_size_in_bytes
    aliased = stats.alias_size_in_bytes
    temps = stats.temp_size_in_bytes
    return {"arguments MB": arguments / MB, "outputs MB": outputs / MB,
            "aliased MB": aliased / MB, "temporaries MB": temps / MB,
            "peak MB": (arguments + outputs - aliased + temps) / MB}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    rows = {f"fnnet ({jax.default_backend()} kernels)": fnnet_compiled(args.batch, "platform"),
            "fnnet (portable kernels)": fnnet_compiled(args.batch, "portable"),
            "Flax NNX": nnx_compiled(args.batch)}
    header = None
    print(f"ResNet-18 training step, batch {args.batch}, {jax.devices()[0].device_kind}, "
          f"jax {jax.__version__}")
    for name, compiled in rows.items():
        row = figures(compiled)
        if header is None:
            header = "| step | " + " | ".join(row) + " |"
            print(header)
            print("|" + "---|" * (len(row) + 1))
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in row.values()) + " |")


if __name__ == "__main__":
    main()
