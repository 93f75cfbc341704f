"""ResNet-18/34: torchvision's names, shapes and initialisation; parity with PyTorch.

torchvision is not needed: the PyTorch reference below is torchvision's BasicBlock
ResNet written out with its parameter names.
"""

from __future__ import annotations

import dataclasses
import math
import pathlib

import jax
import numpy as np
import pytest
from helpers import assert_close

from fnnet import nn
from fnnet.compare import compare, verdict
from fnnet.compare.runner import load_module
from fnnet.interop import from_torch_state_dict, to_torch_state_dict
from fnnet.models import ResNet, ResNet18, ResNet34

pytestmark = pytest.mark.torch

# ResNet-18's logits come out of 20 layers: float32 rounding in different orders leaves
# about 1e-5 relative; 1e-4 is the agreed bound for the model.
LOGIT_TOL = 1e-4
EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def torch_resnet(torch, layers=(2, 2, 2, 2), num_classes=10, stem="cifar"):
    """torchvision's ResNet (BasicBlock) with its names, in plain PyTorch."""
    tnn = torch.nn

    class BasicBlock(tnn.Module):
        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU(inplace=True)
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + identity)

    class TorchResNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.inplanes = 64
            if stem == "imagenet":
                self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
            else:
                self.conv1 = tnn.Conv2d(3, 64, 3, 1, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(64)
            self.relu = tnn.ReLU(inplace=True)
            self.maxpool = (tnn.MaxPool2d(3, 2, 1) if stem == "imagenet"
                            else tnn.Identity())
            self.layer1 = self._make_layer(64, layers[0])
            self.layer2 = self._make_layer(128, layers[1], 2)
            self.layer3 = self._make_layer(256, layers[2], 2)
            self.layer4 = self._make_layer(512, layers[3], 2)
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(512, num_classes)
            for m in self.modules():
                if isinstance(m, tnn.Conv2d):
                    tnn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

        def _make_layer(self, planes, blocks, stride=1):
            downsample = None
            if stride != 1 or self.inplanes != planes:
                downsample = tnn.Sequential(
                    tnn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                    tnn.BatchNorm2d(planes))
            stage = [BasicBlock(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes
            stage += [BasicBlock(planes, planes) for _ in range(1, blocks)]
            return tnn.Sequential(*stage)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return TorchResNet()


def _shapes(tree_dict):
    return {k: tuple(v.shape) for k, v in tree_dict.items()}


@pytest.mark.parametrize("make,layers", [(ResNet18, (2, 2, 2, 2)), (ResNet34, (3, 4, 6, 3))])
@pytest.mark.parametrize("stem", ["imagenet", "cifar"])
def test_names_order_and_shapes_match_torchvision(torch, make, layers, stem):
    net = make(num_classes=10, stem=stem)
    params, state = jax.eval_shape(net.init, jax.random.key(0))
    ours = nn.state_dict(params, state, net)
    reference = torch_resnet(torch, layers, 10, stem).state_dict()
    assert list(ours) == list(reference)
    assert _shapes(ours) == _shapes(reference)


def test_resnet18_has_torchvisions_parameter_count():
    params, _ = jax.eval_shape(ResNet18().init, jax.random.key(0))
    # torchvision.models.resnet18(): 11,689,512 parameters.
    assert sum(math.prod(p.shape) for p in jax.tree.leaves(params)) == 11_689_512


def test_initialisation_is_torchvisions(key):
    net = ResNet((1, 1, 1, 1), num_classes=10, stem="cifar")  # ResNet-18's init, half the size
    params, state = net.init(key)
    flat = nn.state_dict(params, state, net)
    for name in ("conv1.weight", "layer3.0.conv2.weight", "layer4.0.downsample.0.weight"):
        w = np.asarray(flat[name])
        fan_out = w.shape[0] * w.shape[2] * w.shape[3]
        assert abs(w.mean()) < 0.05 * np.sqrt(2 / fan_out), name
        assert w.std() == pytest.approx(np.sqrt(2 / fan_out), rel=0.05), name
    for name, value in flat.items():
        if name.endswith(("bn1.weight", "bn2.weight", "downsample.1.weight", "running_var")):
            np.testing.assert_array_equal(value, 1.0, err_msg=name)
        if name.endswith(("bn1.bias", "bn2.bias", "running_mean", "num_batches_tracked")):
            np.testing.assert_array_equal(value, 0, err_msg=name)
    bound = 1 / np.sqrt(512)  # Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    fc = np.asarray(flat["fc.weight"])
    assert np.abs(fc).max() <= bound and np.abs(fc).max() > 0.9 * bound


def test_zero_init_residual_zeroes_the_last_bn_of_each_block(key):
    params, _ = ResNet((1, 1, 1, 1), 2, zero_init_residual=True).init(key)
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        assert float(abs(params[stage]["0"]["bn2"]["weight"]).max()) == 0.0
        assert float(params[stage]["0"]["bn1"]["weight"].min()) == 1.0


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"stem must be one of \('imagenet', 'cifar'\), "
                                         r"got 'mnist'"):
        ResNet18(stem="mnist")
    with pytest.raises(ValueError, match=r"layers must be 4 positive ints .*got \(2, 2\)"):
        ResNet((2, 2))
    with pytest.raises(ValueError, match="num_classes must be a positive int, got 0"):
        ResNet18(num_classes=0)


@pytest.fixture(scope="module")
def loaded(torch):
    """A PyTorch ResNet-18 (cifar stem) and the same weights loaded into fnnet."""
    torch.manual_seed(0)
    reference = torch_resnet(torch)
    net = ResNet18(num_classes=10, stem="cifar")
    params, state = from_torch_state_dict(net, reference.state_dict())
    return reference, net, params, state


def _batch(seed, n=8, size=32):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, 3, size, size)).astype(np.float32),
            rng.integers(0, 10, n).astype(np.int64))


@pytest.mark.parametrize("train", [False, True])
def test_logits_match_torch_from_loaded_weights(torch, loaded, train):
    reference, net, params, state = loaded
    x, _ = _batch(1)
    model = torch_resnet(torch)
    model.load_state_dict(reference.state_dict())
    model.train(train)
    with torch.no_grad():
        expected = model(torch.from_numpy(x))
    logits, new_state = jax.jit(lambda p, s, v: net.apply(p, s, v, train=train))(
        params, state, x)
    assert_close(logits, expected, rtol=LOGIT_TOL, atol=LOGIT_TOL, what=f"train={train}")
    # In training mode the running statistics move exactly as PyTorch's.
    ours = to_torch_state_dict(params, new_state, net)
    for name, value in model.state_dict().items():
        assert_close(ours[name], value, rtol=LOGIT_TOL, atol=1e-6, what=name)


def test_imagenet_stem_logits_match_torch(torch, key):
    torch.manual_seed(1)
    model = torch_resnet(torch, stem="imagenet").eval()
    net = ResNet18(num_classes=10)
    params, state = from_torch_state_dict(net, model.state_dict())
    # 32x32 is the smallest input that leaves layer4 a 1x1 map after the stem's stride-2
    # convolution and max-pool: every layer still computes.
    x, _ = _batch(2, n=2, size=32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x))
    logits = jax.jit(lambda p, s, v: net.apply(p, s, v)[0])(params, state, x)
    assert_close(logits, expected, rtol=LOGIT_TOL, atol=LOGIT_TOL)


@pytest.mark.slow
def test_twenty_sgd_steps_from_torch_weights_agree_in_all_three_versions(torch, loaded):
    """SGD with momentum and weight decay, 20 steps of batch 4 from the hand-written
    PyTorch model's weights, run by the resnet_cifar10 example as PyTorch, fnnet and
    fnnet.torch on the same batches: parameters and BatchNorm statistics agree to 1e-3.
    Batch 4 rather than 8 halves the arithmetic of the three runs; the claim is the
    agreement over 20 steps, and BatchNorm still averages 4 x 32 x 32 values per channel
    (the worst difference is a third to a half of the tolerance at batch 4, depending on
    the CPU's kernels, in BatchNorm's running variances near 1).

    A ResNet's float32 gradients carry rounding noise of a few percent in the early
    layers (a ReLU whose input rounds to the other side of zero switches its gradient
    off), in PyTorch as much as here: PyTorch in float32 and in float64 drift apart as
    fast as fnnet and PyTorch do, in proportion to the learning rate and faster with
    augmentation (runs of equal values at padded borders). At lr 1e-4 without
    augmentation PyTorch's own float32/float64 gap after 20 steps of batch 8 is about
    3e-4; at lr 3e-4 with augmentation it is 1.5e-2.
    """
    reference = loaded[0]
    config = dataclasses.replace(
        load_module(EXAMPLES, "resnet_cifar10", "config").CONFIGS["sgd_momentum"],
        synthetic=True, batch_size=4, epochs=2, steps_per_epoch=10, n_train=80, n_test=8,
        lr=1e-4, crop_padding=0, rotation=0.0)
    initial = {k: v.numpy().copy() for k, v in reference.state_dict().items()}
    comparison = compare("resnet_cifar10", "sgd_momentum", config, root=EXAMPLES,
                         initial_state_dict=initial)
    ref = comparison.results["torch"]
    assert len(ref["losses"]) == 20
    for version in ("fnnet", "shim"):
        result = comparison.results[version]
        np.testing.assert_allclose(result["losses"][:3], ref["losses"][:3], rtol=1e-5)
        np.testing.assert_allclose(result["epoch_losses"], ref["epoch_losses"], rtol=1e-3)
        assert sorted(result["params"]) == sorted(ref["params"])
        for name, value in ref["params"].items():
            assert_close(result["params"][name], value, rtol=1e-3, atol=1e-3,
                         what=f"{version} {name}")
    assert verdict(comparison) == "agree"
    # Not vacuous: the weights moved beyond the tolerance, the statistics far beyond it.
    def moved(names):
        return max(np.abs(ref["params"][n] - initial[n]).max() for n in names)

    assert moved([n for n in initial if n.endswith("weight") and "bn" not in n]) > 1.5e-3
    assert moved([n for n in initial if n.endswith("running_var")]) > 5e-2
