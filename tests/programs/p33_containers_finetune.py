"""A model built from nn.Sequential(OrderedDict), nn.ModuleList and nn.ModuleDict,
printed and walked with named_parameters/named_modules/children, then fine-tuned:
a frozen backbone (requires_grad = False, a filtered optimizer), then add_param_group
to unfreeze it with its own lr."""

from collections import OrderedDict

import torch
from _harness import fixed_init, labels, normal
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(OrderedDict([
            ("fc1", nn.Linear(6, 8)), ("act1", nn.ReLU()), ("fc2", nn.Linear(8, 8))]))
        self.blocks = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])
        self.heads = nn.ModuleDict({"cls": nn.Linear(8, 3), "reg": nn.Linear(8, 1)})
        self.acts = nn.ModuleDict([["relu", nn.ReLU()], ["tanh", nn.Tanh()]])

    def forward(self, x, act="relu"):
        x = self.backbone(x)
        for block in self.blocks:
            x = x + self.acts[act](block(x))
        return self.heads["cls"](x), self.heads["reg"](x).squeeze(-1)


model = fixed_init(Net())
print(model)
print("backbone.fc1:", model.backbone.fc1, "| first two:", model.backbone[:2])
for name, p in model.named_parameters():
    print(f"{name:20s} {tuple(p.shape)}")
print([name for name, _ in model.named_modules()][:6])
print("children:", [type(c).__name__ for c in model.children()])

x = torch.from_numpy(normal(20, 6, seed=340))
y = torch.from_numpy(labels(20, 3, seed=341))
r = torch.from_numpy(normal(20, seed=342))


def loss_of(act):
    logits, reg = model(x, act)
    return nn.functional.cross_entropy(logits, y) + 0.5 * nn.functional.mse_loss(reg, r)


for p in model.backbone.parameters():
    p.requires_grad = False
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print("trainable:", trainable, "of", sum(p.numel() for p in model.parameters()))
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.05)
before = model.backbone.fc1.weight.clone()
for step in range(2):
    loss = loss_of("relu" if step % 2 == 0 else "tanh")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print("heads", step, round(loss.item(), 6), model.backbone.fc1.weight.grad is None)
print("backbone unchanged:", torch.equal(before, model.backbone.fc1.weight))
model.backbone.requires_grad_(True)
optimizer.add_param_group({"params": model.backbone.parameters(), "lr": 0.01})
print("groups:", [(len(g["params"]), g["lr"]) for g in optimizer.param_groups])
for step in range(2):
    loss = loss_of("relu")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print("all", step, round(loss.item(), 6))
