"""Constraining weights with parametrizations, as the parametrizations tutorial and
blog posts on weight normalisation do it: a ``Symmetric`` module registered with
``nn.utils.parametrize.register_parametrization`` (the weight is computed from
``parametrizations.weight.original`` on each access), a positive-definite one built on top
of it (two parametrizations chained), ``parametrize.cached()`` around a forward pass,
``nn.utils.parametrizations.weight_norm`` on a linear layer (``original0``/``original1``
as g and v), the older ``nn.utils.weight_norm`` hook (``weight_g``/``weight_v``),
an orthogonal weight as the matrix exponential of a skew-symmetric one and one by
``nn.utils.parametrizations.orthogonal`` (the Cayley map), state dict keys,
training all of them with Adam, and ``remove_parametrizations`` leaving a plain weight."""

import torch
import torch.nn as nn
import torch.nn.utils.parametrize as parametrize
from _harness import fixed_init, normal
from torch.nn.utils import parametrizations


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class Skew(nn.Module):
    def forward(self, X):
        A = X.triu(1)
        return A - A.T


class MatrixExponential(nn.Module):
    def forward(self, X):
        return torch.matrix_exp(X)


class Positive(nn.Module):
    def forward(self, X):
        return X @ X.T + 1e-3 * torch.eye(X.size(0))


layer = fixed_init(nn.Linear(4, 4), seed=1)
parametrize.register_parametrization(layer, "weight", Symmetric())
A = layer.weight
print(torch.allclose(A, A.T))
print(parametrize.is_parametrized(layer), parametrize.is_parametrized(layer, "bias"))
print(layer.parametrizations.weight.original.shape)
print(sorted(layer.state_dict().keys()))

spd = fixed_init(nn.Linear(3, 3, bias=False), seed=2)
parametrize.register_parametrization(spd, "weight", Symmetric())
parametrize.register_parametrization(spd, "weight", Positive())
print(len(spd.parametrizations.weight), torch.linalg.eigvalsh(spd.weight).min().item() > 0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(6, 8)
        self.sym = nn.Linear(8, 8)
        self.wn = nn.Linear(8, 8)
        self.out = nn.Linear(8, 1)

    def forward(self, x):
        x = torch.tanh(self.inp(x))
        x = torch.tanh(self.sym(x))
        x = torch.relu(self.wn(x))
        return self.out(x)


net = fixed_init(Net(), seed=3)
parametrize.register_parametrization(net.sym, "weight", Symmetric())
net.wn = parametrizations.weight_norm(net.wn, name="weight", dim=0)
print([n for n, _ in net.named_parameters()])
g = net.wn.parametrizations.weight.original0
v = net.wn.parametrizations.weight.original1
print(g.shape, v.shape, torch.allclose(g.squeeze(), v.norm(dim=1)))

X = torch.from_numpy(normal(64, 6, seed=4))
y = torch.from_numpy(normal(64, 1, seed=5))
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
for step in range(60):
    with parametrize.cached():
        pred = net(X)
        loss = nn.functional.mse_loss(pred, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 15 == 0:
        print(f"step {step} loss {loss.item():.5f}")
W = net.sym.weight
print("still symmetric", torch.allclose(W, W.T), "norm of g",
      net.wn.parametrizations.weight.original0.norm().item())

old = fixed_init(nn.Linear(5, 3), seed=6)
old = nn.utils.weight_norm(old, name="weight")
print(sorted(n for n, _ in old.named_parameters()), old.weight_g.shape)
xo = torch.from_numpy(normal(10, 5, seed=7))
opt2 = torch.optim.SGD(old.parameters(), lr=0.1)
for _ in range(20):
    loss = (old(xo) ** 2).mean()
    opt2.zero_grad()
    loss.backward()
    opt2.step()
print(f"weight-norm hook loss {loss.item():.5f}")
old = nn.utils.remove_weight_norm(old)
print(sorted(n for n, _ in old.named_parameters()))

orth = fixed_init(nn.Linear(5, 5), seed=8)
parametrize.register_parametrization(orth, "weight", Skew())
parametrize.register_parametrization(orth, "weight", MatrixExponential())
Q = orth.weight
print("orthogonal", torch.allclose(Q @ Q.T, torch.eye(5), atol=1e-5), Q.det().item())

rnn_cell = fixed_init(nn.Linear(6, 6), seed=9)
rnn_cell = parametrizations.orthogonal(rnn_cell, orthogonal_map="cayley")
print(sorted(rnn_cell.state_dict().keys()))
h = torch.from_numpy(normal(3, 6, seed=10))
opt3 = torch.optim.SGD(rnn_cell.parameters(), lr=0.05)
for _ in range(10):
    loss = ((torch.tanh(rnn_cell(h)) - 0.5) ** 2).mean()
    opt3.zero_grad()
    loss.backward()
    opt3.step()
Q = rnn_cell.weight
orthogonal = torch.allclose(Q.T @ Q, torch.eye(6), atol=1e-5)
print(f"cayley loss {loss.item():.5f}", "orthogonal", orthogonal)

parametrize.remove_parametrizations(net.sym, "weight", leave_parametrized=True)
print(parametrize.is_parametrized(net.sym), type(net.sym.weight).__name__)
print(sorted(net.state_dict().keys()))
