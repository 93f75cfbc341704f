"""An imbalanced tabular classifier as practitioners write it: a Dataset returning one
row's tensors (categorical codes, numbers, a 0-dim label) that the loader stacks, one
nn.Embedding per categorical column joined with torch.cat, BatchNorm1d on the numbers,
class weights from torch.bincount feeding a WeightedRandomSampler over the rows, and
BCEWithLogitsLoss(pos_weight=...) from the class counts. Data from numpy."""

import numpy as np
import torch
from _harness import fixed_init, normal
from torch import nn
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler

rng = np.random.default_rng(3)
cats = torch.from_numpy(rng.integers(0, [4, 6], size=(50, 2)).astype(np.int64))
nums = torch.from_numpy(normal(50, 3))
y = torch.from_numpy((rng.random(50) < 0.2).astype(np.float32))


class TabDS(Dataset):
    def __len__(self):
        return len(y)

    def __getitem__(self, i):
        return cats[i], nums[i], y[i]


class TabNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embs = nn.ModuleList([nn.Embedding(4, 3), nn.Embedding(6, 3)])
        self.bn = nn.BatchNorm1d(3)
        self.mlp = nn.Sequential(nn.Linear(9, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, c, x):
        e = torch.cat([emb(c[:, i]) for i, emb in enumerate(self.embs)], dim=1)
        return self.mlp(torch.cat([e, self.bn(x)], dim=1)).squeeze(-1)


model = fixed_init(TabNet())
counts = torch.bincount(y.long())
sample_weights = (1.0 / counts.float())[y.long()]
print(counts.tolist(), sample_weights[:5])
sampler = WeightedRandomSampler(sample_weights, num_samples=50, replacement=True)
balanced = DataLoader(TabDS(), batch_size=10, sampler=sampler)
print(sum(len(batch[2]) for batch in balanced), len(balanced))  # the draws differ by PRNG

pos_weight = counts[0] / counts[1]
criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
loader = DataLoader(TabDS(), batch_size=10)
for epoch in range(3):
    total = 0.0
    for c, x, t in loader:
        loss = criterion(model(c, x), t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(t)
    print(epoch, tuple(t.shape), round(total / len(y), 4))

model.eval()
with torch.no_grad():
    p = torch.sigmoid(model(cats, nums))
print(p.shape, round(p.mean().item(), 4), ((p > 0.5).float() == y).float().mean().item())
print(pos_weight, pos_weight.dtype)
