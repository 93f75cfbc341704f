"""Gaussian-process regression as a Bayesian-methods course writes it: an RBF kernel from
``torch.cdist``, jitter added in place on the kernel's ``diagonal()`` (a view that writes
through), the negative log marginal likelihood from ``torch.linalg.cholesky``,
``torch.cholesky_solve`` and the log of the factor's diagonal, its hyperparameters
(log length scale, log signal and noise scales as ``nn.Parameter``) fitted with Adam, the
posterior mean and variance at test points (``solve_triangular``, ``cholesky_inverse``),
and the predictive density of held-out points from ``MultivariateNormal``."""

import math

import torch
from _harness import normal
from torch import nn

torch.manual_seed(0)
X = torch.linspace(-3, 3, 20).reshape(-1, 1)
y = torch.sin(1.5 * X).squeeze(-1) + 0.1 * torch.from_numpy(normal(20, seed=570))
X_test = torch.linspace(-4, 4, 7).reshape(-1, 1)


class ExactGP(nn.Module):
    def __init__(self):
        super().__init__()
        self.log_lengthscale = nn.Parameter(torch.tensor(0.3))
        self.log_outputscale = nn.Parameter(torch.tensor(0.0))
        self.log_noise = nn.Parameter(torch.tensor(-1.0))

    def kernel(self, a, b):
        sq = torch.cdist(a, b).pow(2)
        return self.log_outputscale.exp() * torch.exp(-0.5 * sq / self.log_lengthscale.exp() ** 2)

    def train_covariance(self, x):
        K = self.kernel(x, x)
        K.diagonal().add_(self.log_noise.exp() + 1e-4)  # noise and jitter, in place
        return K

    def nll(self, x, target):
        L = torch.linalg.cholesky(self.train_covariance(x))
        alpha = torch.cholesky_solve(target.unsqueeze(-1), L).squeeze(-1)
        n = x.shape[0]
        return 0.5 * target @ alpha + L.diagonal().log().sum() + 0.5 * n * math.log(2 * math.pi)

    def posterior(self, x, target, x_new):
        L = torch.linalg.cholesky(self.train_covariance(x))
        K_s = self.kernel(x, x_new)
        mean = K_s.T @ torch.cholesky_solve(target.unsqueeze(-1), L)
        v = torch.linalg.solve_triangular(L, K_s, upper=False)
        var = self.kernel(x_new, x_new).diagonal() - v.pow(2).sum(0)
        return mean.squeeze(-1), var


gp = ExactGP()
optimizer = torch.optim.Adam(gp.parameters(), lr=0.05)
for step in range(40):
    optimizer.zero_grad()
    loss = gp.nll(X, y)
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        print(f"step {step:2d} nll {loss.item():.4f}")
print({name: round(p.exp().item(), 4) for name, p in gp.named_parameters()})

with torch.no_grad():
    mean, var = gp.posterior(X, y, X_test)
    print("mean", mean)
    print("std ", var.clamp_min(0).sqrt())
    K = gp.train_covariance(X)
    precision = torch.cholesky_inverse(torch.linalg.cholesky(K))
    print("K @ K^-1 = I:", torch.allclose(K @ precision, torch.eye(20), atol=1e-3))
    predictive = torch.distributions.MultivariateNormal(mean, covariance_matrix=torch.diag(
        var.clamp_min(1e-6) + gp.log_noise.exp()))
    print(f"held-out log density {predictive.log_prob(torch.sin(1.5 * X_test).squeeze(-1)):.4f}")
