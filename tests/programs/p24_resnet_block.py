"""Residual blocks with BatchNorm and a 1x1 projection shortcut, evaluated after training."""

import torch
import torch.nn.functional as F
from _harness import fixed_init, labels, normal
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class TinyResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.layer1 = BasicBlock(4, 4)
        self.layer2 = BasicBlock(4, 8, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.5)  # eval-only here: its masks come from another PRNG
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(self.dropout(torch.flatten(self.pool(x), 1)))


X = torch.from_numpy(normal(8, 3, 8, 8, seed=25))
y = torch.from_numpy(labels(8, 3, seed=26))
net = fixed_init(TinyResNet())
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
net.dropout.p = 0.0  # training without dropout: both backends see the same network
for step in range(6):
    opt.zero_grad()
    loss = F.cross_entropy(net(X), y)
    loss.backward()
    opt.step()
    print(step, round(loss.item(), 5))
net.dropout.p = 0.5
net.eval()
with torch.no_grad():
    print("eval logits:", net(X)[:2])
print(sum(p.numel() for p in net.parameters()), "parameters")
