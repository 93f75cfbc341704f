"""PyTorch checkpoints in and out of fnnet: model weights and optimizer state.

fnnet's parameter trees carry PyTorch's names and layouts, so a checkpoint converts by
renaming alone; nothing is transposed and the values are copied bit for bit::

    params, state = fnnet.interop.from_torch_state_dict(ResNet18(), "resnet18.pth")
    torch_model.load_state_dict(
        fnnet.interop.to_torch_state_dict(params, state, net, tensors=True))

Optimizer state converts between fnnet.optim's SGD/Adam state and the dict
``torch.optim.Optimizer.state_dict()`` returns (:func:`to_torch_optimizer_state`,
:func:`from_torch_optimizer_state`). PyTorch itself is imported only to write
``.pt``/``.pth`` files, to read them where it is installed (fnnet reads them without it
otherwise: :mod:`fnnet.interop.torch_file`) or when torch tensors are asked for.

:func:`to_nnx` and :func:`from_nnx` convert fnnet's MLP, LeNet-5 and ResNet to Flax NNX
modules and back (flax is imported only when they are called).
"""

from fnnet.interop.checkpoint import read_state_dict, save_state_dict
from fnnet.interop.nnx import from_nnx, to_nnx
from fnnet.interop.optimizer import from_torch_optimizer_state, to_torch_optimizer_state
from fnnet.interop.state_dict import from_torch_state_dict, to_torch_state_dict

__all__ = [
    "from_nnx",
    "from_torch_optimizer_state",
    "from_torch_state_dict",
    "read_state_dict",
    "save_state_dict",
    "to_nnx",
    "to_torch_optimizer_state",
    "to_torch_state_dict",
]
