"""A small CNN (Conv2d, BatchNorm2d, MaxPool2d) on 1x12x12 images through a DataLoader."""

import torch
import torch.nn.functional as F
from _harness import fixed_init, labels, normal
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

images = torch.from_numpy(normal(40, 1, 12, 12, seed=3))
targets = torch.from_numpy(labels(40, 3, seed=4))
loader = DataLoader(TensorDataset(images, targets), batch_size=16, shuffle=False)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1, bias=False)  # BatchNorm follows
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 2 * 2, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc(x)


net = fixed_init(Net())
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
for epoch in range(3):
    running_loss = 0.0
    for inputs, labels_ in loader:
        optimizer.zero_grad()
        loss = criterion(net(inputs), labels_)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    print(f"[{epoch + 1}] loss: {running_loss / len(loader):.5f}")
print("Finished Training")
