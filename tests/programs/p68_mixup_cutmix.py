"""Regularising an image classifier with mixup and CutMix, as a course on training tricks
shows them: a Beta-distributed mixing weight (drawn by numpy), a shuffled partner batch
from ``torch.randperm`` under ``torch.manual_seed``, mixup as a blend of images and a loss
mixed from two label-smoothed ``F.cross_entropy`` terms, CutMix pasting a box with slice
assignment and mixing one-hot targets into class probabilities (``cross_entropy`` with
probability targets), and evaluation with the plain loss and accuracy. Images of stripes
come from numpy."""

import numpy as np
import torch
import torch.nn.functional as F
from _harness import fixed_init
from torch import nn

rng = np.random.default_rng(68)
n, classes, size = 48, 3, 8
y_np = np.arange(n) % classes
base = np.zeros((classes, size, size), np.float32)
base[0, :, ::2] = 1
base[1, ::2, :] = 1
base[2] = np.eye(size)
images = torch.from_numpy(base[y_np][:, None] + rng.normal(0, 0.4, (n, 1, size, size))
                          .astype(np.float32))
labels = torch.from_numpy(y_np.astype(np.int64))
train_x, train_y, val_x, val_y = images[:36], labels[:36], images[36:], labels[36:]

model = fixed_init(nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(),
                                 nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, classes)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9, nesterov=True)
mix_rng = np.random.default_rng(5)
torch.manual_seed(0)


def mixup(x, y, alpha=0.4):
    lam = float(mix_rng.beta(alpha, alpha))
    index = torch.randperm(x.size(0))
    return lam * x + (1 - lam) * x[index], y, y[index], lam


def cutmix(x, y, alpha=1.0):
    lam = float(mix_rng.beta(alpha, alpha))
    index = torch.randperm(x.size(0))
    cut = int(size * np.sqrt(1 - lam))
    top, left = (int(v) for v in mix_rng.integers(0, size - cut + 1, 2))
    x = x.clone()
    x[:, :, top:top + cut, left:left + cut] = x[index, :, top:top + cut, left:left + cut]
    lam = 1 - cut * cut / (size * size)
    soft = lam * F.one_hot(y, classes).float() + (1 - lam) * F.one_hot(y[index], classes).float()
    return x, soft, lam


for epoch in range(6):
    model.train()
    total = 0.0
    for i in range(0, 36, 18):
        x, y = train_x[i:i + 18], train_y[i:i + 18]
        if epoch % 2 == 0:
            x, y_a, y_b, lam = mixup(x, y)
            out = model(x)
            loss = (lam * F.cross_entropy(out, y_a, label_smoothing=0.1)
                    + (1 - lam) * F.cross_entropy(out, y_b, label_smoothing=0.1))
        else:
            x, soft, lam = cutmix(x, y)
            loss = F.cross_entropy(model(x), soft, label_smoothing=0.1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    model.eval()
    with torch.no_grad():
        out = model(val_x)
        val_loss = F.cross_entropy(out, val_y)
        acc = (out.argmax(1) == val_y).sum().item() / len(val_y)
    kind = "mixup" if epoch % 2 == 0 else "cutmix"
    print(f"epoch {epoch} ({kind}, lam {lam:.3f}): train {total / 2:.4f} "
          f"val {val_loss.item():.4f} acc {acc:.3f}")

with torch.no_grad():
    probs = F.softmax(model(val_x[:3]), dim=1)
print(probs, F.nll_loss(probs.log(), val_y[:3], reduction="none"))
