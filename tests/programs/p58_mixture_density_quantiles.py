"""Uncertainty for a two-branch regression, as a probabilistic-deep-learning post does it:
a mixture density network whose heads build ``torch.distributions.MixtureSameFamily``
from ``Categorical(logits=...)`` and ``Normal`` each forward, trained on its negative
``log_prob``, then read through the mixture's ``mean``, ``variance`` and ``cdf`` (the
probability of falling below a threshold); beside it a quantile regressor trained with the
pinball loss (``torch.max`` of two products) with SGD and Nesterov momentum, checked by
the share of targets under each quantile."""

import numpy as np
import torch
import torch.distributions as D
from _harness import fixed_init
from torch import nn

rng = np.random.default_rng(580)
x = np.sort(rng.uniform(-1, 1, 200)).astype(np.float32)
branch = np.where(rng.uniform(size=200) < 0.5, 0.8, -0.8)
y = (np.sin(3 * x) + branch + 0.1 * rng.standard_normal(200)).astype(np.float32)
X, Y = torch.from_numpy(x)[:, None], torch.from_numpy(y)
K = 3


class MixtureDensityNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh())
        self.pi = nn.Linear(32, K)
        self.mu = nn.Linear(32, K)
        self.log_sigma = nn.Linear(32, K)

    def forward(self, x):
        h = self.body(x)
        mixture = D.Categorical(logits=self.pi(h))
        components = D.Normal(self.mu(h), self.log_sigma(h).exp().clamp(min=1e-3))
        return D.MixtureSameFamily(mixture, components)


def fit(loss_fn, optimizer, what, steps=60):
    for step in range(steps):
        loss = loss_fn()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 15 == 0:
            print(f"step {step:2d} {what} {loss.item():.4f}")


mdn = fixed_init(MixtureDensityNet())
fit(lambda: -mdn(X).log_prob(Y).mean(), torch.optim.Adam(mdn.parameters(), lr=5e-3), "nll")

with torch.no_grad():
    predictive = mdn(torch.tensor([[-0.5], [0.0], [0.5]]))
    print("mean", predictive.mean)
    print("variance", predictive.variance)
    print("P(y < 0)", predictive.cdf(torch.zeros(3)))
    print("weights", predictive.mixture_distribution.probs)
    print(predictive.batch_shape, predictive.event_shape)

quantiles = torch.tensor([0.1, 0.5, 0.9])
regressor = fixed_init(nn.Sequential(nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 3)))


def pinball():
    error = Y[:, None] - regressor(X)
    return torch.max(quantiles * error, (quantiles - 1) * error).mean()


fit(pinball, torch.optim.SGD(regressor.parameters(), lr=0.05, momentum=0.9, nesterov=True),
    "pinball")
with torch.no_grad():
    print("share below each quantile", (Y[:, None] < regressor(X)).float().mean(0))
