"""fnnet.torchvision: the datasets, transforms, models and utils of torchvision as the
PyTorch tutorials use them, over fnnet.torch. torchvision itself is not installed, so
the expected values are computed by hand from torchvision's documented behaviour (and
fnnet.data's readers for the files)."""

from __future__ import annotations

import os
import pickle
import warnings

import numpy as np
import pytest
from PIL import Image

import fnnet.torch as ft
from fnnet.data import load_mnist_idx
from fnnet.torchvision import datasets, models, transforms, utils
from fnnet.torchvision.transforms import functional as TF


@pytest.fixture(scope="module")
def mnist_root(mnist_dir, tmp_path_factory):
    """A torchvision layout (``<root>/MNIST/raw``) of links to the real MNIST test set."""
    root = tmp_path_factory.mktemp("tv")
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        os.symlink(mnist_dir / name, raw / name)
    return root


def test_mnist_items_are_fnnet_data_arrays_scaled(mnist_root, mnist_dir):
    test_set = datasets.MNIST(str(mnist_root), train=False, download=True,
                              transform=transforms.ToTensor())
    images, labels = load_mnist_idx(mnist_dir, split="test")
    assert len(test_set) == 10_000
    assert test_set.data.dtype == ft.uint8 and tuple(test_set.data.shape) == (10_000, 28, 28)
    assert test_set.targets.dtype == ft.int64
    np.testing.assert_array_equal(test_set.targets.numpy(), labels)
    for i in (0, 1234, 9999):
        image, label = test_set[i]
        assert isinstance(image, ft.Tensor) and image.dtype == ft.float32
        assert tuple(image.shape) == (1, 28, 28) and label == labels[i]
        np.testing.assert_array_equal(image.numpy(), images[i].astype(np.float32) / 255)
    raw = datasets.MNIST(mnist_root, train=False)  # a Path root, no transform
    image, label = raw[0]
    assert isinstance(image, Image.Image) and image.mode == "L" and type(label) is int
    raw.transform, raw.target_transform = transforms.PILToTensor(), lambda y: y + 10
    image, label = raw[0]  # set afterwards, as torchvision reads them at each item
    assert image.dtype == ft.uint8 and label == labels[0] + 10
    assert raw.class_to_idx["3 - three"] == 3
    assert repr(test_set) == (
        f"Dataset MNIST\n    Number of datapoints: 10000\n    Root location: {mnist_root}\n"
        "    Split: Test\n    StandardTransform\nTransform: ToTensor()")


def test_mnist_normalized_batches_train_an_fnnet_model(mnist_root):
    mean, std = 0.1307, 0.3081
    test_set = datasets.MNIST(mnist_root, train=False, transform=transforms.Compose([
        transforms.ToTensor(), transforms.Normalize((mean,), (std,))]))
    test_set.data, test_set.targets = test_set.data[:256], test_set.targets[:256]
    loader = ft.utils.data.DataLoader(test_set, batch_size=64, shuffle=True)
    model = ft.nn.Sequential(ft.nn.Flatten(), ft.nn.Linear(784, 10))
    optimizer = ft.optim.SGD(model.parameters(), lr=0.1)
    batches = 0
    for x, y in loader:
        assert tuple(x.shape) == (64, 1, 28, 28) and y.dtype == ft.int64
        loss = ft.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        batches += 1
    assert batches == 4 and np.isfinite(loss.item())
    first = test_set[0][0].numpy()
    expected = (test_set.data[0].numpy().astype(np.float32) / 255 - mean) / std
    np.testing.assert_allclose(first[0], expected, rtol=1e-6)


@pytest.mark.torch
def test_mnist_reads_older_torchvisions_processed_files(torch, tmp_path):
    processed = tmp_path / "MNIST" / "processed"
    processed.mkdir(parents=True)
    data = torch.arange(2 * 28 * 28).reshape(2, 28, 28).to(torch.uint8)
    torch.save((data, torch.tensor([3, 1])), processed / "test.pt")
    test_set = datasets.MNIST(tmp_path, train=False)
    np.testing.assert_array_equal(test_set.data.numpy(), data.numpy())
    assert test_set.targets.tolist() == [3, 1] and test_set[1][1] == 1


def test_missing_files_name_the_files_folder_and_source(tmp_path):
    with pytest.raises(RuntimeError, match=r"Dataset not found: MNIST needs "
                       r"train-images-idx3-ubyte\.gz .* in .*MNIST/raw\. download=True was "
                       r"given, but fnnet\.torchvision does not download: get the files from "
                       r"https://ossci-datasets"):
        datasets.MNIST(tmp_path, download=True)
    with pytest.raises(RuntimeError, match=r"FashionMNIST needs t10k-images.*FashionMNIST/raw"):
        datasets.FashionMNIST(tmp_path, train=False)
    with pytest.raises(RuntimeError, match=r"CIFAR10 needs test_batch in .*cifar-10-batches-py"
                       r".*cifar-10-python\.tar\.gz"):
        datasets.CIFAR10(tmp_path, train=False)


def _cifar_batch(path, n, labels_key, num_classes, seed):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, num_classes, n)]
    with open(path, "wb") as f:
        pickle.dump({b"data": data, labels_key: labels}, f, protocol=2)
    return data.reshape(n, 3, 32, 32).transpose(0, 2, 3, 1), labels


def test_cifar10_and_cifar100_read_torchvisions_layout(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    parts = [_cifar_batch(folder / f"data_batch_{i}", 3, b"labels", 10, i) for i in range(1, 6)]
    train = datasets.CIFAR10(tmp_path, train=True, transform=transforms.ToTensor())
    assert len(train) == 15 and train.data.shape == (15, 32, 32, 3)
    assert train.targets == [t for p in parts for t in p[1]]
    assert train.classes[0] == "airplane" and train.class_to_idx["truck"] == 9
    image, label = train[4]
    np.testing.assert_array_equal(image.numpy(),
                                  parts[1][0][1].transpose(2, 0, 1).astype(np.float32) / 255)
    assert label == parts[1][1][1]
    assert isinstance(datasets.CIFAR10(tmp_path)[0][0], Image.Image)

    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    images, labels = _cifar_batch(folder / "test", 4, b"fine_labels", 100, 7)
    test = datasets.CIFAR100(tmp_path, train=False)
    assert len(test.classes) == 100 and test.classes[-1] == "worm"
    np.testing.assert_array_equal(np.asarray(test[3][0]), images[3])
    assert test.targets == labels


def test_svhn_reads_its_matlab_files(tmp_path):
    from scipy import io

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (32, 32, 3, 4), dtype=np.uint8)
    io.savemat(tmp_path / "test_32x32.mat", {"X": images, "y": np.array([[10], [1], [9], [10]])})
    test = datasets.SVHN(tmp_path, split="test")
    assert len(test) == 4 and test.labels.tolist() == [0, 1, 9, 0]
    image, label = test[2]
    np.testing.assert_array_equal(np.asarray(image), images[:, :, :, 2])
    assert label == 9
    with pytest.raises(ValueError, match="Unknown value 'val' for argument split. Valid values "
                                         "are {'train', 'test', 'extra'}."):
        datasets.SVHN(tmp_path, split="val")
    with pytest.raises(RuntimeError, match="SVHN needs train_32x32.mat in"):
        datasets.SVHN(tmp_path)


def test_image_folder_reads_class_folders(tmp_path):
    rng = np.random.default_rng(0)
    pixels = {}
    for cls in ("dog", "cat"):
        (tmp_path / cls).mkdir()
        for i in range(2):
            array = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
            Image.fromarray(array).save(tmp_path / cls / f"{i}.png")
            pixels[(cls, i)] = array
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    folder = datasets.ImageFolder(tmp_path, transform=transforms.ToTensor())
    assert folder.classes == ["cat", "dog"] and folder.class_to_idx == {"cat": 0, "dog": 1}
    assert [os.path.basename(p) for p, _ in folder.samples] == ["0.png", "1.png"] * 2
    assert folder.targets == [0, 0, 1, 1] and folder.imgs == folder.samples
    image, label = folder[2]
    assert label == 1
    np.testing.assert_array_equal(image.numpy(),
                                  pixels[("dog", 0)].transpose(2, 0, 1).astype(np.float32) / 255)
    (tmp_path / "bird").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes bird. "
                                                "Supported extensions are: .jpg, .jpeg"):
        datasets.ImageFolder(tmp_path)
    empty = tmp_path / "bird"
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder in"):
        datasets.ImageFolder(empty)


def test_to_tensor_normalize_and_back_by_hand():
    array = np.array([[0, 51], [102, 255]], dtype=np.uint8)
    tensor = transforms.ToTensor()(Image.fromarray(array))
    np.testing.assert_array_equal(tensor.numpy(), (array / np.float32(255))[None])
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    np.testing.assert_array_equal(TF.to_tensor(rgb).numpy(),
                                  rgb.transpose(2, 0, 1).astype(np.float32) / 255)
    assert TF.pil_to_tensor(Image.fromarray(rgb)).dtype == ft.uint8
    normalized = transforms.Normalize((0.5,), (0.25,))(tensor)
    np.testing.assert_allclose(normalized.numpy(), (tensor.numpy() - 0.5) / 0.25)
    back = np.asarray(transforms.ToPILImage()(tensor))
    np.testing.assert_array_equal(back, array)  # times 255, truncated
    converted = transforms.ConvertImageDtype(ft.float32)(ft.tensor([[[0, 255]]],
                                                                   dtype=ft.uint8))
    np.testing.assert_array_equal(converted.numpy(), [[[0.0, 1.0]]])


@pytest.mark.parametrize("call, error, message", [
    (lambda: transforms.Normalize((0.5,), (0.5,))(np.zeros((1, 2, 2))), TypeError,
     "img should be Tensor Image. Got <class 'numpy.ndarray'>"),
    (lambda: transforms.Normalize((0.5,), (0.5,))(ft.zeros(1, 2, 2, dtype=ft.uint8)),
     TypeError, "Input tensor should be a float tensor. Got torch.uint8."),
    (lambda: transforms.Normalize((0.5,), (0.0,))(ft.zeros(1, 2, 2)), ValueError,
     "std evaluated to zero after conversion to torch.float32, leading to division by zero."),
    (lambda: transforms.Normalize((0.5,) * 3, (0.5,) * 3)(ft.zeros(1, 2, 2)), RuntimeError,
     "output with shape [1, 2, 2] doesn't match the broadcast shape [3, 2, 2]"),
    (lambda: transforms.Normalize((0.5,), (0.5,))(ft.zeros(2, 2)), ValueError,
     "Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
     "torch.Size([2, 2])"),
    (lambda: transforms.ToTensor()([1, 2]), TypeError,
     "pic should be PIL Image or ndarray. Got <class 'list'>"),
    (lambda: transforms.Pad(1, padding_mode="wrap"), ValueError,
     "Padding mode should be either constant, edge, reflect or symmetric"),
    (lambda: transforms.Pad((1, 2, 3)), ValueError,
     "Padding must be an int or a 1, 2, or 4 element tuple, not a 3 element tuple"),
    (lambda: transforms.RandomCrop(5)(ft.zeros(1, 3, 3)), ValueError,
     "Required crop size (5, 5) is larger than input image size (3, 3)"),
    (lambda: transforms.RandomRotation(-3), ValueError,
     "If degrees is a single number, it must be positive."),
    (lambda: transforms.RandomRotation((1, 2, 3)), ValueError,
     "degrees should be a sequence of length 2."),
    (lambda: transforms.Lambda(3), TypeError, "Argument lambd should be callable, got 'int'"),
    (lambda: transforms.Grayscale(2)(ft.zeros(3, 2, 2)), ValueError,
     "num_output_channels should be either 1 or 3"),
])
def test_bad_arguments_raise_torchvisions_errors(call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert str(raised.value) == message


def test_geometry_by_hand():
    x = ft.from_numpy(np.arange(12, dtype=np.float32).reshape(1, 3, 4))
    np.testing.assert_array_equal(TF.hflip(x).numpy()[0, 0], [3, 2, 1, 0])
    np.testing.assert_array_equal(TF.vflip(x).numpy()[0, :, 0], [8, 4, 0])
    # top = round(0.5) = 0: torchvision rounds half to even
    np.testing.assert_array_equal(transforms.CenterCrop(2)(x).numpy()[0], [[1, 2], [5, 6]])
    row = ft.tensor([[[1.0, 2.0, 3.0, 4.0]]])
    for mode, expected in [("constant", [0, 0, 1, 2, 3, 4, 0, 0]),
                           ("edge", [1, 1, 1, 2, 3, 4, 4, 4]),
                           ("reflect", [3, 2, 1, 2, 3, 4, 3, 2]),
                           ("symmetric", [2, 1, 1, 2, 3, 4, 4, 3])]:
        padded = transforms.Pad((2, 0), padding_mode=mode)(row)
        np.testing.assert_array_equal(padded.numpy()[0, 0], expected)
    image = Image.fromarray(np.full((2, 2, 3), 9, dtype=np.uint8))
    padded = np.asarray(transforms.Pad(1, fill=(1, 2, 3))(image))
    assert padded.shape == (4, 4, 3) and tuple(padded[0, 0]) == (1, 2, 3)
    assert tuple(padded[1, 1]) == (9, 9, 9)
    assert transforms.Resize(8)(Image.new("L", (20, 10))).size == (16, 8)
    assert tuple(transforms.Resize((5, 7))(ft.zeros(3, 10, 10)).shape) == (3, 5, 7)
    assert tuple(transforms.RandomCrop(4, pad_if_needed=True)(ft.zeros(1, 2, 3)).shape) == \
        (1, 4, 4)
    assert transforms.RandomResizedCrop(6)(Image.new("RGB", (30, 20))).size == (6, 6)
    gray = transforms.Grayscale()(ft.tensor([[[1.0]], [[0.5]], [[0.0]]]))
    np.testing.assert_allclose(gray.numpy(), [[[0.2989 + 0.587 * 0.5]]], rtol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("mode, torch_mode", [("bilinear", "bilinear"), ("bicubic", "bicubic"),
                                              ("nearest", "nearest"),
                                              ("nearest-exact", "nearest-exact")])
def test_tensor_resize_is_torchvisions_interpolate(torch, mode, torch_mode):
    # torchvision resizes a tensor with F.interpolate(antialias=True) for (bi)linear and
    # bicubic, and plain F.interpolate for the nearest modes
    x = np.random.default_rng(0).random((2, 3, 37, 23)).astype(np.float32)
    for size in [(16, 10), (60, 40)]:
        ours = TF.resize(ft.from_numpy(x), list(size),
                         interpolation=transforms.InterpolationMode(mode)).numpy()
        antialias = {"antialias": True} if "nearest" not in mode else {}
        expected = torch.nn.functional.interpolate(torch.from_numpy(x), size=size,
                                                   mode=torch_mode, **antialias).numpy()
        np.testing.assert_allclose(ours, expected, atol=1e-5)


@pytest.mark.torch
def test_gaussian_blur_is_torchvisions_reflect_padded_convolution(torch):
    x = np.random.default_rng(0).random((3, 9, 12)).astype(np.float32)
    sizes, sigmas = (5, 3), (0.7, 1.3)

    def kernel(size, sigma):  # torchvision's _get_gaussian_kernel1d
        t = torch.linspace(-(size - 1) * 0.5, (size - 1) * 0.5, size)
        pdf = torch.exp(-0.5 * (t / sigma) ** 2)
        return pdf / pdf.sum()

    weight = torch.outer(kernel(sizes[1], sigmas[1]), kernel(sizes[0], sigmas[0]))
    padded = torch.nn.functional.pad(torch.from_numpy(x)[None], [2, 2, 1, 1], mode="reflect")
    expected = torch.nn.functional.conv2d(padded, weight.expand(3, 1, 3, 5), groups=3)[0]
    ours = TF.gaussian_blur(ft.from_numpy(x), list(sizes), list(sigmas))
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="Kernel size value should be an odd and positive"):
        transforms.GaussianBlur(4)


def test_affine_by_hand():
    pixels = np.random.default_rng(0).integers(0, 256, (9, 12), dtype=np.uint8)
    image = Image.fromarray(pixels)
    moved = np.asarray(TF.affine(image, 0.0, [2, 1], 1.0, 0.0))  # 2 right, 1 down
    np.testing.assert_array_equal(moved[1:, 2:], pixels[:-1, :-2])
    assert moved[0].sum() == 0 and moved[:, :2].sum() == 0
    tensor = TF.affine(ft.from_numpy(pixels[None].astype(np.float32)), 0.0, [2, 1], 1.0, 0.0)
    np.testing.assert_array_equal(tensor.numpy()[0], moved)
    # affine's angle is clockwise, rotate's counter-clockwise (torchvision's conventions)
    np.testing.assert_array_equal(np.asarray(TF.affine(image, 30.0, [0, 0], 1.0, 0.0)),
                                  np.asarray(TF.rotate(image, -30.0)))
    assert repr(transforms.RandomAffine(10, translate=(0.1, 0.1), shear=5)) == \
        "RandomAffine(degrees=[-10.0, 10.0], translate=(0.1, 0.1), shear=[-5.0, 5.0])"
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        transforms.RandomAffine(0, translate=(2, 0))


def test_random_transforms_are_reproducible_under_manual_seed():
    augment = transforms.Compose([transforms.RandomCrop(24, padding=4),
                                  transforms.RandomHorizontalFlip(),
                                  transforms.RandomRotation(15),
                                  transforms.RandomAffine(5, translate=(0.1, 0.1)),
                                  transforms.ColorJitter(0.3, 0.3, 0.3, 0.1),
                                  transforms.GaussianBlur(3),
                                  transforms.ToTensor()])
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (28, 28, 3),
                                                              dtype=np.uint8))

    def epoch():
        ft.manual_seed(3)
        return np.stack([augment(image).numpy() for _ in range(6)])

    first, second = epoch(), epoch()
    np.testing.assert_array_equal(first, second)
    assert not all(np.array_equal(first[0], f) for f in first[1:])  # the draws vary
    ft.manual_seed(4)
    assert not np.array_equal(np.stack([augment(image).numpy() for _ in range(6)]), first)


def test_random_erasing_blanks_one_rectangle_and_v2_pipeline():
    ft.manual_seed(1)
    erased = transforms.RandomErasing(p=1.0, value=(0.0, 2.0))(ft.ones(2, 10, 12)).numpy()
    rows, cols = np.nonzero(erased[0] == 0)
    assert rows.size and (erased[1] == 2).sum() == rows.size
    height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert rows.size == height * width  # one solid rectangle
    assert transforms.RandomErasing(p=0.0)(ft.ones(1, 2, 2)).numpy().tolist() == \
        [[[1.0, 1.0], [1.0, 1.0]]]
    from fnnet.torchvision.transforms import v2

    pipeline = v2.Compose([v2.ToImage(), v2.ToDtype(ft.float32, scale=True),
                           v2.Normalize([0.5], [0.5])])
    pixels = np.array([[0, 255]], dtype=np.uint8)
    np.testing.assert_array_equal(pipeline(Image.fromarray(pixels)).numpy(), [[[-1.0, 1.0]]])
    assert v2.ToImage()(Image.fromarray(pixels)).dtype == ft.uint8
    with pytest.raises(NotImplementedError, match="transforms.v2.MixUp"):
        v2.MixUp  # noqa: B018


def test_reprs_are_torchvisions():
    assert repr(transforms.Compose([transforms.Resize(32), transforms.CenterCrop(28)])) == (
        "Compose(\n    Resize(size=32, interpolation=bilinear, max_size=None, antialias=True)"
        "\n    CenterCrop(size=(28, 28))\n)")
    assert repr(transforms.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"
    assert repr(transforms.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(transforms.RandomResizedCrop(224)) == (
        "RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), ratio=(0.75, 1.3333), "
        "interpolation=bilinear, antialias=True)")
    assert repr(transforms.RandomRotation(10)) == (
        "RandomRotation(degrees=[-10.0, 10.0], interpolation=nearest, expand=False, fill=0)")
    assert repr(transforms.ColorJitter(brightness=0.2)) == (
        "ColorJitter(brightness=[0.8, 1.2], contrast=None, saturation=None, hue=None)")


def test_unsupported_names_raise_not_implemented():
    with pytest.raises(NotImplementedError, match="torchvision.transforms.AutoAugment"):
        transforms.AutoAugment  # noqa: B018
    with pytest.raises(ImportError, match="torchvision.datasets.ImageNet"):
        from fnnet.torchvision.datasets import ImageNet  # noqa: F401
    with pytest.raises(NotImplementedError, match="torchvision.models.vgg16"):
        models.vgg16()


def test_models_by_name():
    assert models.list_models() == ["resnet101", "resnet152", "resnet18", "resnet34",
                                    "resnet50"]
    assert models.get_weight("ResNet50_Weights.IMAGENET1K_V2") is \
        models.ResNet50_Weights.DEFAULT
    assert models.get_model_weights("resnet18") is models.ResNet18_Weights
    assert models.ResNet101_Weights.DEFAULT.url.endswith("resnet101-cd907fc2.pth")
    with pytest.raises(NotImplementedError, match="torchvision.models.vit_b_16"):
        models.get_model("vit_b_16")


@pytest.fixture(scope="module")
def resnet18():
    return models.resnet18(num_classes=10)


def test_resnet18_state_dict_is_torchvisions_and_fnnet_models(resnet18):
    import jax

    from fnnet.models import ResNet18

    params, state = jax.eval_shape(ResNet18(num_classes=10).init, jax.random.key(0))

    def shapes(tree, prefix=""):
        for key, value in tree.items():
            if isinstance(value, dict):
                yield from shapes(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}", tuple(value.shape)

    ours = {k: tuple(v.shape) for k, v in resnet18.state_dict().items()}
    assert ours == dict(shapes(params)) | dict(shapes(state))
    # names and shapes torchvision's documentation and checkpoints use
    assert ours["conv1.weight"] == (64, 3, 7, 7)
    assert ours["layer2.0.downsample.0.weight"] == (128, 64, 1, 1)
    assert ours["layer4.1.bn2.running_var"] == (512,)
    assert ours["fc.weight"] == (10, 512) and len(ours) == 122


@pytest.mark.slow
def test_resnet18_computes_what_fnnet_models_computes(resnet18):
    from fnnet.interop import from_torch_state_dict
    from fnnet.models import ResNet18

    functional = ResNet18(num_classes=10)
    params, state = from_torch_state_dict(
        functional, {k: v.numpy() for k, v in resnet18.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    expected, _ = functional.apply(params, state, x, train=False)
    resnet18.eval()
    np.testing.assert_allclose(resnet18(ft.from_numpy(x)).detach().numpy(), expected,
                               rtol=1e-4, atol=1e-5)


def test_pretrained_weights_come_from_torchvisions_cache(resnet18, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"ResNet18_Weights.IMAGENET1K_V1 is not in "
                       r"torchvision's download cache .* download https://download\.pytorch"
                       r"\.org/models/resnet18-f37072fd\.pth into"):
        models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but "
                                         "got 10 instead."):
        models.resnet18(weights="DEFAULT", num_classes=10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="download cache"):
            models.resnet18(pretrained=True)
    assert "The parameter 'pretrained' is deprecated since 0.13" in str(caught[0].message)
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    weights = {k: ft.from_numpy(np.full(tuple(v.shape), 0.5, np.float32))
               for k, v in resnet18.state_dict().items() if v.is_floating_point()}
    weights["fc.weight"] = ft.from_numpy(np.zeros((1000, 512), np.float32))
    weights["fc.bias"] = ft.from_numpy(np.zeros(1000, np.float32))
    ft.save(weights, cache / "resnet18-f37072fd.pth")
    state = models.ResNet18_Weights.IMAGENET1K_V1.get_state_dict()
    assert float(state["layer1.0.conv1.weight"][0, 0, 0, 0]) == 0.5
    assert tuple(state["fc.weight"].shape) == (1000, 512)


def test_make_grid_and_save_image(tmp_path):
    images = ft.from_numpy(np.arange(5 * 4, dtype=np.float32).reshape(5, 1, 2, 2) / 20)
    grid = utils.make_grid(images, nrow=2, padding=1, pad_value=1.0)
    assert tuple(grid.shape) == (3, 3 * 3 + 1, 2 * 3 + 1)
    array = grid.numpy()
    np.testing.assert_array_equal(array[0, 1:3, 4:6], images.numpy()[1, 0])
    assert array[0, 0, 0] == 1.0 and array[0, 7:9, 4:6].tolist() == [[1.0, 1.0]] * 2
    assert utils.make_grid(ft.zeros(2, 3, 2, 2, dtype=ft.uint8), pad_value=9).dtype == ft.uint8
    utils.save_image(images, tmp_path / "grid.png", nrow=5)
    saved = np.asarray(Image.open(tmp_path / "grid.png"))
    assert saved.shape == (2 + 4, 2 + 5 * 4, 3)  # the default padding is 2
    assert saved[2, 2, 0] == 0 and saved[3, 3, 0] == int(3 / 20 * 255 + 0.5)


TUTORIAL = '''
import torch
import torch.nn.functional as F
import torchvision
from torchvision import datasets, transforms
from torch.utils.data import DataLoader

transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
test_set = datasets.MNIST(ROOT, train=False, download=True, transform=transform)
test_set.data, test_set.targets = test_set.data[:128], test_set.targets[:128]
loader = DataLoader(test_set, batch_size=64)
model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
for images, labels in loader:
    loss = F.cross_entropy(model(images), labels)
print(torchvision.models.resnet18.__module__, len(test_set), tuple(images.shape))
'''


@pytest.mark.slow
def test_run_maps_torchvision_for_the_fnnet_backend(mnist_root, tmp_path):
    import json
    import subprocess
    import sys

    program = tmp_path / "tutorial.py"
    program.write_text(f"ROOT = {str(mnist_root)!r}\n{TUTORIAL}")
    runner = os.path.join(os.path.dirname(__file__), "programs", "_run.py")
    out = str(tmp_path / "fnnet.npz")
    subprocess.run([sys.executable, runner, "fnnet", out, str(program)], check=True,
                   timeout=300)
    result = json.loads(open(out + ".json").read())
    assert result["errors"] == {}
    assert result["printed"]["tutorial"] == \
        "fnnet.torchvision.models.resnet 128 (64, 1, 28, 28)\n"


@pytest.mark.parametrize("image_size", [(3, 4, 5), (1, 28, 28)], ids=["rgb-small", "grey"])
def test_fake_data_items_are_torchvisions(torch, image_size):
    # FakeData drew its images and labels from numpy's generator: a pipeline tried on
    # it trained on other images than under torchvision
    def torchvisions(index, offset=3):  # torchvision's FakeData.__getitem__, by hand
        torch.manual_seed(index + offset)
        image = torch.randn(*image_size)
        target = torch.randint(0, 7, size=(1,), dtype=torch.long)[0]
        pixels = image.mul(255).byte().permute(1, 2, 0).numpy()
        return (pixels[:, :, 0] if image_size[0] == 1 else pixels), int(target)

    ft.manual_seed(11)
    before = ft.rand(1).item()
    ft.manual_seed(11)
    data = datasets.FakeData(size=4, image_size=image_size, num_classes=7, random_offset=3)
    for index in range(4):
        image, target = data[index]
        pixels, expected = torchvisions(index)
        np.testing.assert_array_equal(np.asarray(image), pixels)
        assert target == expected
    assert ft.rand(1).item() == before  # the global generator is left as it was
