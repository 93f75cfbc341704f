"""A physics-informed neural network for the 1-D Poisson problem ``u'' = -pi^2 sin(pi x)``
on [0, 1] with ``u(0) = u(1) = 0`` (solution ``sin(pi x)``), as scientific machine learning
courses set it up: collocation points that require grad, the derivatives of the network's
output with respect to its input from ``torch.autograd.grad(..., create_graph=True)``
taken twice, a loss of the PDE residual plus the boundary terms, Adam first and then an
L-BFGS finish with a strong-Wolfe line search through a closure, and the error against the
exact solution."""

import math

import torch
from _harness import fixed_init
from torch import nn

collocation = torch.linspace(0, 1, 24).unsqueeze(1).requires_grad_(True)
boundary = torch.tensor([[0.0], [1.0]])

model = fixed_init(nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                                 nn.Linear(16, 1)), seed=5)


def pde_loss():
    u = model(collocation)
    du = torch.autograd.grad(u, collocation, torch.ones_like(u), create_graph=True)[0]
    d2u = torch.autograd.grad(du, collocation, torch.ones_like(du), create_graph=True)[0]
    residual = d2u + math.pi ** 2 * torch.sin(math.pi * collocation)
    return residual.pow(2).mean(), model(boundary).pow(2).mean()


adam = torch.optim.Adam(model.parameters(), lr=0.01)
for step in range(30):
    interior, edge = pde_loss()
    loss = interior + 10 * edge
    adam.zero_grad()
    loss.backward()
    adam.step()
    if step % 10 == 9:
        print(f"adam {step}: residual {interior.item():.5f} boundary {edge.item():.6f}")

lbfgs = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=10, history_size=10,
                          line_search_fn="strong_wolfe")


def closure():
    lbfgs.zero_grad()
    interior, edge = pde_loss()
    loss = interior + 10 * edge
    loss.backward()
    return loss


for step in range(2):
    loss = lbfgs.step(closure)
    print(f"lbfgs {step}: loss {loss.item():.6f}")

test = torch.linspace(0, 1, 11).unsqueeze(1)
with torch.no_grad():
    error = (model(test) - torch.sin(math.pi * test)).abs()
print(f"max error {error.max().item():.4f}", lbfgs.state_dict()["state"][0]["func_evals"])
