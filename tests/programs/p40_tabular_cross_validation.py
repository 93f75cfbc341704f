"""Tabular regression as a course teaches it: features standardised with
mean/std(dim=0, keepdim=True), k-fold cross-validation with Subset, an L1 penalty on the
weights (zero-initialised biases: |x|'s gradient at 0), the closed-form least-squares
solution against gradient descent, and a classifier's metrics by hand (thresholds,
bincount confusion matrix, bucketize into bins)."""

import numpy as np
import torch
from _harness import fixed_init, normal
from torch import nn
from torch.utils.data import DataLoader, Subset, TensorDataset

values = normal(48, 4, seed=400) * np.array([1, 10, 100, 0.1], dtype=np.float32) + 5
X = torch.from_numpy(values).float()
y = X @ torch.tensor([[1.0], [-0.2], [0.01], [5.0]]) + 0.5
mean, std = X.mean(dim=0, keepdim=True), X.std(dim=0, keepdim=True)
Xs = (X - mean) / std
print("std:", X.std(dim=0, unbiased=False), Xs.mean(0).abs().max().item() < 1e-5)
dataset = TensorDataset(Xs, y)

folds = torch.arange(len(dataset)).chunk(2)
scores = []
for k in range(2):
    train_idx = torch.cat([folds[j] for j in range(2) if j != k]).tolist()
    model = fixed_init(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)), seed=k)
    with torch.no_grad():
        for layer in (model[0], model[2]):
            layer.bias.zero_()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    loader = DataLoader(Subset(dataset, train_idx), batch_size=12)
    for _epoch in range(3):
        for xb, yb in loader:
            l1 = sum(p.abs().sum() for p in model.parameters())
            loss = nn.functional.mse_loss(model(xb), yb) + 1e-3 * l1
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        vx, vy = dataset[folds[k].tolist()]
        scores.append(nn.functional.mse_loss(model(vx), vy).item())
    print(f"fold {k}: {scores[-1]:.4f}")
print(f"cv mse {np.mean(scores):.4f}")

design = torch.cat([torch.ones(len(X), 1), Xs], dim=1)
closed = torch.linalg.lstsq(design, y).solution
w = torch.zeros(5, 1, requires_grad=True)
optimizer = torch.optim.SGD([w], lr=0.1)
for _step in range(150):
    loss = ((design @ w - y) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print("closed form:", closed.squeeze(), "gd gap:", (w.detach() - closed).abs().max().item() < 1e-2)

score = torch.sigmoid(Xs[:, 3] * 2 - 0.5)
target = (y.squeeze() > y.median()).long()
pred = (score >= 0.5).long()
confusion = torch.bincount(target * 2 + pred, minlength=4).view(2, 2)
tp = ((pred == 1) & (target == 1)).sum().item()
print("confusion:", confusion.tolist(), f"precision {tp / max((pred == 1).sum().item(), 1):.4f}")
bins = torch.tensor([0.25, 0.5, 0.75])
print("bins:", torch.bincount(torch.bucketize(score, bins), minlength=4),
      torch.histc(score, bins=4, min=0, max=1), torch.quantile(score, torch.tensor([0.1, 0.9])))
