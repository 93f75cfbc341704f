"""The device mesh of data parallelism: all devices along one axis named ``data``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import AbstractMesh, Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def data_mesh(devices: Sequence[jax.Device] | int | None = None,
              axis_name: str = DATA_AXIS) -> Mesh:
    """A one-axis mesh over the devices that share the batch.

    Args:
        devices: the devices (default: ``jax.devices()``, every device of every
            process), or a count ``n`` for the first ``n`` of them.
        axis_name: the name of the mesh axis; collectives refer to it.

    Returns:
        ``Mesh(devices, (axis_name,))``.

    Raises:
        TypeError: ``devices`` is neither a count nor a list of jax devices, or a bad
            ``axis_name``.
        ValueError: an empty device list, one naming a device twice, or a count outside
            ``[1, jax.device_count()]``.

    PyTorch equivalent: the default process group of ``torch.distributed`` (one rank per
    device).
    """
    if not isinstance(axis_name, str) or not axis_name:
        raise TypeError(f"data_mesh: axis_name must be a non-empty str, got {axis_name!r}")
    devices = pick_devices(devices, jax.devices(), "data_mesh")
    return Mesh(np.asarray(devices), (axis_name,))


def pick_devices(devices: Any, available: Sequence[jax.Device], who: str) -> list[jax.Device]:
    """``devices`` checked: None (all of ``available``), a count ``n`` (the first ``n``
    of them) or a list of distinct jax devices.

    Raises:
        TypeError: neither a count nor a list of jax devices.
        ValueError: a count outside ``[1, len(available)]``, an empty list, or a list
            naming a device twice.
    """
    if devices is None:
        return list(available)
    if isinstance(devices, int) and not isinstance(devices, bool):
        if not 1 <= devices <= len(available):
            hint = ("; on the CPU, simulate more with XLA_FLAGS=--xla_force_host_platform_"
                    "device_count=N set before JAX starts"
                    if available[0].platform == "cpu" else "")
            raise ValueError(f"{who}: devices must be between 1 and the {len(available)} "
                             f"available devices, got {devices}{hint}")
        return list(available[:devices])
    if isinstance(devices, (str, bytes, bool)) or not hasattr(devices, "__iter__"):
        raise TypeError(f"{who}: devices must be a list of jax devices or a count, got "
                        f"{type(devices).__name__} {devices!r}")
    listed = list(np.asarray(devices, dtype=object).flat)
    if not listed:
        raise ValueError(f"{who}: devices must name at least one device, got an empty list")
    for device in listed:
        if not isinstance(device, jax.Device):
            raise TypeError(f"{who}: devices must be jax devices (jax.devices()), got "
                            f"{type(device).__name__} {device!r}")
    if len(set(listed)) != len(listed):
        raise ValueError(f"{who}: devices must name each device once, got {listed}")
    return listed


def axis_of(mesh: Mesh) -> str:
    """The single axis name of a data-parallel mesh.

    Raises:
        ValueError: the mesh has more than one axis.
    """
    if len(mesh.axis_names) != 1:
        raise ValueError(
            f"data parallelism needs a one-axis mesh, got axes {mesh.axis_names}; build "
            "it with fnnet.parallel.data_mesh()"
        )
    name: str = mesh.axis_names[0]
    return name


def check_mesh(caller: str, mesh: Any) -> None:
    """Raises a TypeError naming ``caller`` unless ``mesh`` is a JAX device mesh."""
    if not isinstance(mesh, Mesh | AbstractMesh):
        raise TypeError(f"{caller}: mesh must be a jax.sharding.Mesh (e.g. from "
                        f"fnnet.parallel.data_mesh()), got {type(mesh).__name__}")


def replicated(mesh: Mesh) -> NamedSharding:
    """The sharding of a value held whole by every device of ``mesh``.

    Raises:
        TypeError: ``mesh`` is not a ``jax.sharding.Mesh``.
    """
    check_mesh("replicated", mesh)
    return NamedSharding(mesh, PartitionSpec())


def batch_sharded(mesh: Mesh, leading: int = 0, *, who: str = "batch_sharded"
                  ) -> NamedSharding:
    """The sharding that splits axis ``leading`` (the batch) over the mesh's axis;
    ``who`` names the caller in the errors.

    Raises:
        TypeError: ``mesh`` is not a ``jax.sharding.Mesh``, or ``leading`` not an int.
        ValueError: ``leading`` is negative, or the mesh has more than one axis.
    """
    check_mesh(who, mesh)
    if isinstance(leading, bool) or not isinstance(leading, int):
        raise TypeError(f"{who}: leading must be an int (the batch axis), got {leading!r}")
    if leading < 0:
        raise ValueError(f"{who}: leading must be >= 0 (the batch axis), got {leading}")
    return NamedSharding(mesh, PartitionSpec(*([None] * leading), axis_of(mesh)))


def batch_size(batch: Any, *, axis: int = 0, what: str = "batch") -> int:
    """The size of the batch axis shared by the arrays of ``batch``.

    Raises:
        ValueError: no array has that axis, an array lacks it (a scalar in the batch:
            every array is split along the axis), or the arrays disagree on its size.
    """
    leaves = jax.tree_util.tree_leaves_with_path(batch)
    for path, leaf in leaves:
        if np.ndim(leaf) <= axis and len(leaves) > 1:
            raise ValueError(
                f"{what}: every array is split over the devices along axis {axis}, but "
                f"the one at {jax.tree_util.keystr(path) or 'the top'} has shape "
                f"{tuple(np.shape(leaf))}; pass per-example values with a batch axis, "
                f"and constants as arguments of the step's model or loss instead")
    sizes = {int(np.shape(leaf)[axis]) for _, leaf in leaves if np.ndim(leaf) > axis}
    if not sizes:
        raise ValueError(f"{what} has no array with a batch axis {axis}")
    if len(sizes) > 1:
        raise ValueError(f"{what}: the arrays disagree on the batch size (axis {axis}): "
                         f"{sorted(sizes)}")
    return sizes.pop()


def check_divisible(size: int, devices: int, *, what: str = "batch") -> None:
    """Raises a ValueError naming both numbers unless ``size`` splits evenly over
    ``devices``."""
    if size % devices:
        lower = size // devices * devices
        hint = f"{lower} or {lower + devices}" if lower else f"{devices}"
        raise ValueError(
            f"{what} size {size} is not divisible by the {devices} devices it is split "
            f"over; use a multiple of {devices} (e.g. {hint})"
        )
