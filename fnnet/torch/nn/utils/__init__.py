"""``torch.nn.utils``: gradient clipping (``clip_grad``), the parameters as one vector
(``convert_parameters``), ``rnn``'s packed sequences, weight and spectral norm (the hooks
of ``weight_norm`` and ``spectral_norm``, and ``parametrizations``), ``parametrize``,
``prune``, ``fusion``, ``stateless``, ``memory_format`` and ``init``'s ``skip_init``.

As in PyTorch, ``torch.nn.utils.weight_norm`` (and ``spectral_norm``) is the function, and
``import torch.nn.utils.weight_norm`` imports the module of that name.
"""

from __future__ import annotations

from typing import Any

from fnnet.torch.nn.utils import clip_grad as clip_grad
from fnnet.torch.nn.utils import convert_parameters as convert_parameters
from fnnet.torch.nn.utils import fusion as fusion
from fnnet.torch.nn.utils import init as init
from fnnet.torch.nn.utils import memory_format as memory_format
from fnnet.torch.nn.utils import parametrizations as parametrizations
from fnnet.torch.nn.utils import parametrize as parametrize
from fnnet.torch.nn.utils import prune as prune
from fnnet.torch.nn.utils import rnn as rnn
from fnnet.torch.nn.utils import stateless as stateless
from fnnet.torch.nn.utils.clip_grad import clip_grad_norm as clip_grad_norm
from fnnet.torch.nn.utils.clip_grad import clip_grad_norm_ as clip_grad_norm_
from fnnet.torch.nn.utils.clip_grad import clip_grad_value_ as clip_grad_value_
from fnnet.torch.nn.utils.clip_grad import clip_grads_with_norm_ as clip_grads_with_norm_
from fnnet.torch.nn.utils.clip_grad import get_total_norm as get_total_norm
from fnnet.torch.nn.utils.convert_parameters import (
    parameters_to_vector as parameters_to_vector,
)
from fnnet.torch.nn.utils.convert_parameters import (
    vector_to_parameters as vector_to_parameters,
)
from fnnet.torch.nn.utils.fusion import fuse_conv_bn_eval as fuse_conv_bn_eval
from fnnet.torch.nn.utils.fusion import fuse_conv_bn_weights as fuse_conv_bn_weights
from fnnet.torch.nn.utils.fusion import fuse_linear_bn_eval as fuse_linear_bn_eval
from fnnet.torch.nn.utils.fusion import fuse_linear_bn_weights as fuse_linear_bn_weights
from fnnet.torch.nn.utils.init import skip_init as skip_init
from fnnet.torch.nn.utils.memory_format import (
    convert_conv2d_weight_memory_format as convert_conv2d_weight_memory_format,
)
from fnnet.torch.nn.utils.memory_format import (
    convert_conv3d_weight_memory_format as convert_conv3d_weight_memory_format,
)
from fnnet.torch.nn.utils.spectral_norm import remove_spectral_norm as remove_spectral_norm
from fnnet.torch.nn.utils.spectral_norm import spectral_norm as spectral_norm
from fnnet.torch.nn.utils.weight_norm import remove_weight_norm as remove_weight_norm
from fnnet.torch.nn.utils.weight_norm import weight_norm as weight_norm


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from fnnet.torch.tensor import Unsupported

    raise Unsupported(  # also an AttributeError: hasattr() is False
        f"fnnet.torch does not support torch.nn.utils.{name}; transform the parameters "
        f"with fnnet's functional API (pure functions of the parameter tree)")
