"""The XLA options of fnnet.torch's compiled programs.

Those of fnnet's training steps (per backend, :data:`fnnet.core.step.XLA_OPTIONS`), and
half-precision values rounded to their dtype after every op, as PyTorch's kernels round
them: by default XLA may keep a float16 or bfloat16 intermediate of a fused computation
in float32 ("excess precision"), so ``x.sqrt().float()`` of a bfloat16 ``x`` gave
float32's square root where PyTorch gives the bfloat16 one. float32 programs are
unaffected.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from fnnet.core.step import XLA_OPTIONS as STEP_OPTIONS

#: what fnnet.torch adds to the training steps' options
ROUNDING = {"xla_allow_excess_precision": False}


class _ShimOptions(Mapping[str, Any]):
    """:data:`STEP_OPTIONS` (looked up when ``jax.jit`` reads them) and :data:`ROUNDING`."""

    def _options(self) -> dict[str, Any]:
        return {**STEP_OPTIONS, **ROUNDING}

    def __getitem__(self, name: str) -> Any:
        return self._options()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._options())

    def __len__(self) -> int:
        return len(self._options())


#: the options every program of fnnet.torch is compiled with
XLA_OPTIONS: Any = _ShimOptions()
