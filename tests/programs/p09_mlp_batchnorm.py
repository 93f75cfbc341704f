"""A multi-layer perceptron with BatchNorm1d, trained with SGD and momentum."""

import torch
from _harness import fixed_init, labels, normal
from torch import nn

X = torch.from_numpy(normal(64, 20, seed=1))
y = torch.from_numpy(labels(64, 4, seed=2))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 32), nn.BatchNorm1d(32), nn.ReLU(),
                                 nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 4))

    def forward(self, x):
        return self.net(x)


model = fixed_init(MLP())
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
for epoch in range(4):
    for i in range(0, 64, 16):
        xb, yb = X[i:i + 16], y[i:i + 16]
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch} loss {loss.item():.6f}")
model.eval()
with torch.no_grad():
    acc = (model(X).argmax(1) == y).float().mean().item()
print(f"train accuracy {acc:.4f}")
print("running mean:", model.net[1].running_mean[:4])
