"""The XLA options of fnnet.torch's compiled programs.

Those of fnnet's training steps (per backend, :class:`fnnet.core.step.BackendOptions`),
and half-precision values rounded to their dtype after every op, as PyTorch's kernels
round them: by default XLA may keep a float16 or bfloat16 intermediate of a fused
computation in float32 ("excess precision"), so ``x.sqrt().float()`` of a bfloat16 ``x``
gave float32's square root where PyTorch gives the bfloat16 one. float32 programs are
unaffected.
"""

from __future__ import annotations

from typing import Any

from fnnet.core.step import BackendOptions

#: the options every program of fnnet.torch is compiled with
XLA_OPTIONS: Any = BackendOptions({"xla_allow_excess_precision": False})
