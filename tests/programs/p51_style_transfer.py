"""Neural style transfer as the tutorial writes it, on a small fixed convolutional
feature extractor instead of a downloaded VGG: content and style images made from real
MNIST digits over a textured background (flat regions would leave max-pooling with
near-ties that each backend's rounding breaks its own way), a ``Normalization`` module,
``ContentLoss`` and ``StyleLoss`` modules that
store ``self.loss`` in ``forward`` and pass their input through, Gram matrices by
``torch.mm(features, features.t())``, the model assembled layer by layer into an
``nn.Sequential`` and trimmed after the last loss, the input image optimised directly
(``input_img.requires_grad_(True)``, ``model.requires_grad_(False)``) by
``optim.LBFGS([input_img])`` with a closure that clamps the image under ``no_grad``, and
forward hooks that collect the features of the final image."""
# data: mnist

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from _harness import fixed_init, mnist

digits, _ = mnist(2, offset=3000)
texture = np.random.default_rng(2).uniform(0.1, 0.3, (2, 3, 28, 28)).astype(np.float32)
texture = torch.from_numpy(texture)
images = torch.clamp(torch.from_numpy(digits) * 0.7 + texture, 0, 1)
content_img = F.interpolate(images[:1], size=(32, 32), mode="bilinear", align_corners=False)
style_img = images[1:2]
style_img = F.interpolate(style_img.transpose(2, 3), size=(32, 32), mode="nearest")
assert style_img.size() == content_img.size(), "style and content images must be the same size"
print(content_img.shape, style_img.shape)


class ContentLoss(nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target = target.detach()

    def forward(self, input):
        self.loss = F.mse_loss(input, self.target)
        return input


def gram_matrix(input):
    a, b, c, d = input.size()
    features = input.view(a * b, c * d)
    G = torch.mm(features, features.t())
    return G.div(a * b * c * d)


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super().__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, input):
        G = gram_matrix(input)
        self.loss = F.mse_loss(G, self.target)
        return input


cnn = fixed_init(nn.Sequential(
    nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(inplace=True),
    nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(inplace=True),
    nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
    nn.Conv2d(32, 32, 3, padding=1),
), seed=6).eval()
cnn_normalization_mean = torch.tensor([0.485, 0.456, 0.406])
cnn_normalization_std = torch.tensor([0.229, 0.224, 0.225])


class Normalization(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, img):
        return (img - self.mean) / self.std


content_layers_default = ["conv_4"]
style_layers_default = ["conv_1", "conv_2", "conv_3", "conv_4", "conv_5"]


def get_style_model_and_losses(cnn, normalization_mean, normalization_std, style_img,
                               content_img, content_layers=content_layers_default,
                               style_layers=style_layers_default):
    normalization = Normalization(normalization_mean, normalization_std)
    content_losses = []
    style_losses = []
    model = nn.Sequential(normalization)
    i = 0
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = f"conv_{i}"
        elif isinstance(layer, nn.ReLU):
            name = f"relu_{i}"
            layer = nn.ReLU(inplace=False)
        elif isinstance(layer, nn.MaxPool2d):
            name = f"pool_{i}"
        else:
            raise RuntimeError(f"Unrecognized layer: {layer.__class__.__name__}")
        model.add_module(name, layer)
        if name in content_layers:
            target = model(content_img).detach()
            content_loss = ContentLoss(target)
            model.add_module(f"content_loss_{i}", content_loss)
            content_losses.append(content_loss)
        if name in style_layers:
            target_feature = model(style_img).detach()
            style_loss = StyleLoss(target_feature)
            model.add_module(f"style_loss_{i}", style_loss)
            style_losses.append(style_loss)
    for i in range(len(model) - 1, -1, -1):
        if isinstance(model[i], ContentLoss) or isinstance(model[i], StyleLoss):
            break
    model = model[:(i + 1)]
    return model, style_losses, content_losses


input_img = content_img.clone()


def run_style_transfer(cnn, normalization_mean, normalization_std, content_img, style_img,
                       input_img, num_steps=12, style_weight=10000, content_weight=1):
    print("Building the style transfer model..")
    model, style_losses, content_losses = get_style_model_and_losses(
        cnn, normalization_mean, normalization_std, style_img, content_img)
    input_img.requires_grad_(True)
    model.eval()
    model.requires_grad_(False)
    optimizer = optim.LBFGS([input_img])
    print("Optimizing..")
    run = [0]
    while run[0] <= num_steps:
        def closure():
            with torch.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_img)
            style_score = 0
            content_score = 0
            for sl in style_losses:
                style_score += sl.loss
            for cl in content_losses:
                content_score += cl.loss
            style_score *= style_weight
            content_score *= content_weight
            loss = style_score + content_score
            loss.backward()
            run[0] += 1
            if run[0] % 4 == 0:
                print(f"run {run}:")
                print(f"Style Loss : {style_score.item():4f} "
                      f"Content Loss: {content_score.item():4f}")
            return style_score + content_score
        optimizer.step(closure)
    with torch.no_grad():
        input_img.clamp_(0, 1)
    return input_img, model


output, model = run_style_transfer(cnn, cnn_normalization_mean, cnn_normalization_std,
                                   content_img, style_img, input_img)
print(output.requires_grad, output.is_leaf, tuple(output.shape))
print(f"output mean {output.mean().item():.4f} min {output.min().item():.4f} "
      f"max {output.max().item():.4f}")

features = {}


def save_output(name):
    def hook(module, input, output):
        features[name] = output.detach()
    return hook


handles = [layer.register_forward_hook(save_output(name))
           for name, layer in model.named_children() if name.startswith("conv")]
with torch.no_grad():
    model(output)
for h in handles:
    h.remove()
for name, f in features.items():
    print(name, tuple(f.shape), f"gram trace {gram_matrix(f).trace().item():.5f}")
print(len(model), [name for name, _ in model.named_children()][-3:])
