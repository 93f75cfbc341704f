"""A digit classifier on real MNIST images as an introductory course trains one: a
``Dataset`` subclass that normalises with the usual mean and standard deviation,
``random_split`` into training and validation sets under a seeded ``torch.Generator``,
``DataLoader(shuffle=True, num_workers=0)`` driven by its own seeded generator, a small
CNN with dropout switched off by ``eval()``, per-epoch training loss and validation
accuracy, the best weights kept by ``copy.deepcopy(state_dict())``, and a confusion
matrix built with ``bincount`` with per-class precision and recall."""
# data: mnist

import copy

import torch
import torch.nn.functional as F
from _harness import fixed_init, mnist
from torch import nn
from torch.utils.data import DataLoader, Dataset, random_split

images, digits = mnist(600, offset=1000)


class Digits(Dataset):
    def __init__(self, images, targets, mean=0.1307, std=0.3081):
        self.images = (torch.from_numpy(images) - mean) / std
        self.targets = torch.from_numpy(targets)

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return self.images[index], self.targets[index]


dataset = Digits(images, digits)
train_set, val_set = random_split(dataset, [480, 120], generator=torch.Generator().manual_seed(42))
print(len(train_set), len(val_set), train_set.indices[:8])
train_loader = DataLoader(train_set, batch_size=32, shuffle=True, num_workers=0,
                          generator=torch.Generator().manual_seed(0))
val_loader = DataLoader(val_set, batch_size=60, num_workers=0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5)
        self.conv2 = nn.Conv2d(8, 16, 5)
        self.dropout = nn.Dropout(0.0)
        self.fc1 = nn.Linear(16 * 4 * 4, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.dropout(torch.flatten(x, 1))
        return self.fc2(F.relu(self.fc1(x)))


model = fixed_init(Net(), seed=12)
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
best_accuracy, best_state = 0.0, None
for epoch in range(3):
    model.train()
    running, seen = 0.0, 0
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        running += loss.item() * len(y)
        seen += len(y)
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in val_loader:
            correct += (model(x).argmax(1) == y).sum().item()
    accuracy = correct / len(val_set)
    if accuracy > best_accuracy:
        best_accuracy, best_state = accuracy, copy.deepcopy(model.state_dict())
    print(f"epoch {epoch}: loss {running / seen:.4f} val accuracy {accuracy:.3f}")

model.load_state_dict(best_state)
model.eval()
predictions, targets = [], []
with torch.no_grad():
    for x, y in val_loader:
        predictions.append(model(x).argmax(1))
        targets.append(y)
pred, true = torch.cat(predictions), torch.cat(targets)
confusion = torch.bincount(true * 10 + pred, minlength=100).reshape(10, 10)
print(confusion)
precision = confusion.diag() / confusion.sum(0).clamp(min=1)
recall = confusion.diag() / confusion.sum(1).clamp(min=1)
print("best", best_accuracy, "precision", precision, "recall", recall)
