"""``add_hparams``' discrete domains: the values TensorBoard's HPARAMS tab offers to
filter each hyperparameter by, added to tensorboardX's experiment summary as PyTorch's
writer adds them."""

from __future__ import annotations

from typing import Any


def check_domains(domains: Any, hparam_dict: dict[str, Any]) -> dict[str, list[Any]]:
    """``hparam_domain_discrete`` once valid: name -> a list of values of that
    hyperparameter's type (PyTorch's errors otherwise).

    Raises:
        TypeError: not a dict, or a domain that is not a list of values of the type of
            the hyperparameter it names.
    """
    domains = domains or {}
    if not isinstance(domains, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing "
                        "logged.")
    for name, values in domains.items():
        if name not in hparam_dict or not isinstance(values, list) or not all(
                isinstance(v, type(hparam_dict[name])) for v in values):
            raise TypeError(f"parameter: hparam_domain_discrete[{name}] should be a list of "
                            f"same type as hparam_dict[{name}].")
    return domains


def with_domains(experiment: Any, domains: dict[str, list[Any]]) -> Any:
    """tensorboardX's experiment ``Summary`` with each hyperparameter of ``domains``
    given its discrete domain (strings, or numbers for numbers and bools)."""
    if not domains:
        return experiment
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

    value = experiment.value[0]
    data = HParamsPluginData.FromString(value.metadata.plugin_data.content)
    for info in data.experiment.hparam_infos:
        for choice in domains.get(info.name, ()):
            entry = info.domain_discrete.values.add()
            if isinstance(choice, str):
                entry.string_value = choice
            else:  # a number, or a bool, which PyTorch stores as the number 0 or 1
                entry.number_value = float(choice)
    value.metadata.plugin_data.content = data.SerializeToString()
    return experiment
