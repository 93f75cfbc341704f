"""Looking inside a trained CNN and shrinking it, as an interpretability and compression
course does: a forward hook that stores the last convolution's activations and a
``register_full_backward_hook`` that stores their gradients, the Grad-CAM map (channel
weights from the pooled gradients, a ReLU, upsampled with ``F.interpolate``), a saliency
map from the input's ``grad``, then ``torch.nn.utils.prune``: L1 unstructured pruning of
one layer (its ``weight_orig`` and ``weight_mask``), global unstructured pruning across
layers, fine-tuning with the masks in place, and ``prune.remove`` to make it permanent.
Images of a bright square on noise come from numpy; the label says which half it is in."""

import numpy as np
import torch
import torch.nn.functional as F
import torch.nn.utils.prune as prune
from _harness import fixed_init
from torch import nn

rng = np.random.default_rng(78)
n, size = 40, 10
images = rng.normal(0, 0.2, (n, 1, size, size)).astype(np.float32)
labels = np.zeros(n, np.int64)
for i in range(n):
    top, left = rng.integers(0, size - 3, 2)
    images[i, 0, top:top + 3, left:left + 3] += 1.5
    labels[i] = int(left + 1.5 >= size / 2)
x, y = torch.from_numpy(images), torch.from_numpy(labels)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 8, 3, padding=1)
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(h, (1, 2)).flatten(1))


model = fixed_init(Net(), seed=14)
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)


def train(steps, tag):
    for _ in range(steps):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    print(f"{tag}: loss {loss.item():.4f} acc {acc:.3f}")


train(25, "trained")

stored = {}
forward_handle = model.conv2.register_forward_hook(
    lambda module, inputs, output: stored.__setitem__("act", output))
backward_handle = model.conv2.register_full_backward_hook(
    lambda module, grad_in, grad_out: stored.__setitem__("grad", grad_out[0]))
image = x[:2].clone().requires_grad_(True)
scores = model(image)
scores.gather(1, y[:2, None]).sum().backward()
forward_handle.remove()
backward_handle.remove()
weights = stored["grad"].mean(dim=(2, 3), keepdim=True)
cam = F.relu((weights * stored["act"]).sum(1, keepdim=True)).detach()
cam = F.interpolate(cam, size=(size, size), mode="bilinear", align_corners=False)
cam = cam / cam.amax(dim=(2, 3), keepdim=True).clamp(min=1e-8)
saliency = image.grad.abs().amax(dim=1)
print("cam peak", [divmod(i, size) for i in cam.flatten(1).argmax(1).tolist()],
      "saliency peak", [divmod(i, size) for i in saliency.flatten(1).argmax(1).tolist()])
print(cam[0, 0, ::3, ::3])

prune.l1_unstructured(model.conv1, name="weight", amount=0.3)
print(sorted(n for n, _ in model.conv1.named_parameters()),
      sorted(n for n, _ in model.conv1.named_buffers()),
      int((model.conv1.weight == 0).sum()), prune.is_pruned(model))
prune.global_unstructured([(model.conv2, "weight"), (model.fc, "weight")],
                          pruning_method=prune.L1Unstructured, amount=0.5)
zeros = [int((m.weight == 0).sum()) for m in (model.conv2, model.fc)]
print("global zeros", zeros, sum(zeros), model.conv2.weight.numel() + model.fc.weight.numel())
train(5, "fine-tuned with masks")
for module in (model.conv1, model.conv2, model.fc):
    prune.remove(module, "weight")
print(sorted(n for n, _ in model.conv1.named_parameters()), prune.is_pruned(model),
      round((model.conv2.weight == 0).float().mean().item(), 4))
