"""Higher-order gradients: a second derivative, a Hessian-vector product and a
gradient penalty added to a training loss (create_graph=True)."""

import torch
from _harness import fixed_init, normal
from torch import nn

x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
y = (x ** 3).sum()
(dy_dx,) = torch.autograd.grad(y, x, create_graph=True)
(d2y,) = torch.autograd.grad(dy_dx.sum(), x)
print("dy/dx:", dy_dx.detach(), "d2y/dx2:", d2y)

w = torch.tensor([1.0, -2.0], requires_grad=True)
f = (w[0] ** 2) * w[1] + w[1] ** 3
(g,) = torch.autograd.grad(f, w, create_graph=True)
v = torch.tensor([1.0, 0.5])
(hvp,) = torch.autograd.grad((g * v).sum(), w)
print("Hessian-vector product:", hvp)

X = torch.from_numpy(normal(16, 4, seed=27)).requires_grad_()
Y = torch.from_numpy(normal(16, 1, seed=28))
model = fixed_init(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
for step in range(8):
    opt.zero_grad()
    out = model(X)
    loss = nn.functional.mse_loss(out, Y)
    (grad_x,) = torch.autograd.grad(out.sum(), X, create_graph=True)
    penalty = grad_x.pow(2).sum(dim=1).mean()
    (loss + 0.1 * penalty).backward()
    opt.step()
    print(step, round(loss.item(), 6), round(penalty.item(), 6))
