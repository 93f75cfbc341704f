"""A custom Dataset with a DataLoader whose last batch is short."""

import numpy as np
import torch
from _harness import fixed_init
from torch import nn
from torch.utils.data import DataLoader, Dataset


class SquaresDataset(Dataset):
    def __init__(self, n):
        self.x = np.linspace(-1, 1, n, dtype=np.float32)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        x = self.x[idx]
        return torch.tensor([x]), torch.tensor([x * x])


dataset = SquaresDataset(50)
print("len:", len(dataset), "item:", dataset[3][0].item(), dataset[3][1].item())
loader = DataLoader(dataset, batch_size=16, shuffle=False)
print("batches:", len(loader), [tuple(b[0].shape) for b in loader])
model = fixed_init(nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, 1)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(5):
    total = 0.0
    for xb, yb in loader:
        loss = nn.functional.mse_loss(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
    print(f"epoch {epoch}: {total / len(dataset):.6f}")
