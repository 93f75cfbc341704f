"""An nn.Module subclass whose forward uses plain Python control flow."""

import math

import torch
from _harness import fixed_init


class Polynomial3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(0.1))
        self.b = torch.nn.Parameter(torch.tensor(-0.2))
        self.c = torch.nn.Parameter(torch.tensor(0.3))
        self.d = torch.nn.Parameter(torch.tensor(-0.05))
        self.e = torch.nn.Parameter(torch.tensor(0.01))

    def forward(self, x, degree):
        y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
        for exp in range(4, degree + 1):
            y = y + self.e * x ** exp
        return y

    def string(self):
        return f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2"


x = torch.linspace(-math.pi, math.pi, 100)
y = torch.sin(x)
model = Polynomial3()
print(sum(p.numel() for p in model.parameters()), [n for n, _ in model.named_parameters()])
criterion = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
for t in range(60):
    degree = 4 if t % 2 else 5  # two structures, alternating
    loss = criterion(model(x, degree), y)
    if t % 10 == 9:
        print(t, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(model.string())
fixed_init(model)
print("reset:", model.a.item())
