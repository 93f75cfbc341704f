"""A PyTorch-style training script over fnnet.torch, written as a typed user would.

CI type-checks it with the package (``mypy fnnet tests/typecheck``, strict): the names a
script reaches for must be exported, and what they return must keep its type
(``Net().to(device)`` is still a ``Net``). Running it trains a small model for two
steps on random data.
"""

from __future__ import annotations

from typing import assert_type

import fnnet.torch as torch
import fnnet.torch.distributed as dist
import fnnet.torch.nn.functional as F
from fnnet.torch import nn, optim
from fnnet.torch.optim.lr_scheduler import StepLR
from fnnet.torch.utils.data import DataLoader, RandomSampler, TensorDataset


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden: torch.Tensor = F.relu(self.fc1(x))
        out: torch.Tensor = self.fc2(hidden)
        return out


def main() -> float:
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x = torch.randn(16, 4, dtype=torch.float32)
    y = torch.randint(0, 3, (16,))
    assert_type(x, torch.Tensor)
    data = TensorDataset(x, y)
    loader = DataLoader(data, batch_size=8, sampler=RandomSampler(data))
    model = Net().to(device)
    assert_type(model, Net)
    assert_type(model.train(), Net)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    loss = torch.zeros(())
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), targets)
        assert_type(loss, torch.Tensor)
        loss.backward()
        optimizer.step()
        scheduler.step()
    with torch.no_grad():
        model.eval()
        correct = (model(x).argmax(1) == y).sum()
    state = model.state_dict()
    assert_type(state["fc1.weight"], torch.Tensor)
    assert dist.is_available() or not dist.is_initialized()
    del correct
    return float(loss.item())


if __name__ == "__main__":
    print(f"final loss {main():.4f}")
