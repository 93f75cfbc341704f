"""The optimizers a course compares, each from the same start, and step(closure)."""

import torch
from _harness import fixed_init, normal
from torch import nn

X = torch.from_numpy(normal(24, 3, seed=20))
Y = torch.from_numpy(normal(24, 1, seed=21))
# tolerance: 1e-4 (float32 step sizes against PyTorch's float64 scalars, 20 steps)
configs = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("Adadelta", dict(lr=1.0)),
    ("Adamax", dict(lr=0.02)),
    ("NAdam", dict(lr=0.02)),
    ("RAdam", dict(lr=0.02)),
]


def train(name, kwargs):
    model = fixed_init(nn.Linear(3, 1))
    opt = getattr(torch.optim, name)(model.parameters(), **kwargs)

    def closure():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X), Y)
        loss.backward()
        return loss

    for _ in range(20):
        loss = opt.step(closure)
    print(f"{name:8s} {loss.item():.6f}")
    return model


models = {name: train(name, kwargs) for name, kwargs in configs}
best = min(models, key=lambda n: nn.functional.mse_loss(models[n](X), Y).item())
print("best:", best)
sgd_model = models["SGD"]
