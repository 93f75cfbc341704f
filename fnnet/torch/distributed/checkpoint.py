"""``torch.distributed.checkpoint`` is not provided: importing it raises NotImplementedError."""

from fnnet.torch.distributed._unsupported import unsupported

raise unsupported("checkpoint")
