"""``torch.distributed.rpc`` is not provided: importing it raises NotImplementedError."""

from fnnet.torch.distributed._unsupported import unsupported

raise unsupported("rpc")
