"""``torch.utils`` over fnnet: the data loading API."""

from fnnet.torch.utils import data

__all__ = ["data"]
