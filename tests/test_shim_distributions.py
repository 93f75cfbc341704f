"""fnnet.torch.distributions against torch.distributions: densities, entropies, moments
and KL divergences from the same parameters, their gradients, and draws whose statistics
are the distribution's (the numbers themselves differ: another PRNG)."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(0)
LOC = RNG.standard_normal((3, 4)).astype(np.float32)
SCALE = RNG.uniform(0.5, 2.0, (3, 4)).astype(np.float32)
PROBS = RNG.uniform(0.05, 0.95, (3, 4)).astype(np.float32)
LOGITS = RNG.standard_normal((3, 5)).astype(np.float32)
VALUES = RNG.standard_normal((3, 4)).astype(np.float32)


def _make(t, kind, second=False):
    D = t.distributions
    shift = 0.3 if second else 0.0
    if kind == "Normal":
        return D.Normal(t.tensor(LOC + shift, requires_grad=True),
                        t.tensor(SCALE * (1 + shift), requires_grad=True))
    if kind == "Uniform":
        return D.Uniform(t.tensor(LOC - 2 - shift), t.tensor(LOC + 2 + shift))
    if kind == "Bernoulli":
        return D.Bernoulli(probs=t.tensor(np.clip(PROBS + shift / 2, 0.01, 0.99)))
    if kind == "Bernoulli logits":
        return D.Bernoulli(logits=t.tensor(LOGITS[:, :4] + shift, requires_grad=True))
    if second:
        return D.Categorical(probs=t.tensor(np.abs(LOGITS) + 0.1))
    return D.Categorical(logits=t.tensor(LOGITS, requires_grad=True))


def _value(t, kind):
    if kind == "Normal":
        return t.tensor(VALUES)
    if kind == "Uniform":  # inside the support, which PyTorch checks
        return t.tensor(LOC + np.tanh(VALUES).astype(np.float32))
    if kind.startswith("Bernoulli"):
        return t.tensor((VALUES > 0).astype(np.float32))
    return t.tensor(np.array([0, 4, 2]))


KINDS = ["Normal", "Uniform", "Bernoulli", "Bernoulli logits", "Categorical"]


@pytest.mark.parametrize("kind", KINDS)
def test_densities_entropies_and_kl_as_pytorch(torch, kind):
    results = []
    for t in (torch, ft):
        p, q = _make(t, kind), _make(t, kind, second=True)
        values = {"log_prob": p.log_prob(_value(t, kind)), "entropy": p.entropy(),
                  "kl": t.distributions.kl_divergence(p, q)}
        if kind != "Categorical":
            values.update(mean=p.mean, variance=p.variance, stddev=p.stddev)
        if kind in ("Normal", "Uniform"):
            values["cdf"] = p.cdf(_value(t, kind))
            values["icdf"] = p.icdf(t.tensor(PROBS))
        results.append({k: v.detach().numpy() for k, v in values.items()})
        assert tuple(p.batch_shape) == ((3,) if kind == "Categorical" else (3, 4))
    for name, expected in results[0].items():
        np.testing.assert_allclose(results[1][name], expected, rtol=1e-5, atol=1e-6,
                                   err_msg=name)


@pytest.mark.parametrize("kind", ["Normal", "Bernoulli logits", "Categorical"])
def test_gradients_of_log_prob_and_kl_as_pytorch(torch, kind):
    grads = []
    for t in (torch, ft):
        D = t.distributions
        if kind == "Normal":
            leaves = [t.tensor(LOC, requires_grad=True), t.tensor(SCALE, requires_grad=True)]
            p = D.Normal(*leaves)
        elif kind == "Categorical":
            leaves = [t.tensor(LOGITS, requires_grad=True)]
            p = D.Categorical(logits=leaves[0])
        else:
            leaves = [t.tensor(LOGITS[:, :4], requires_grad=True)]
            p = D.Bernoulli(logits=leaves[0])
        q = _make(t, kind, second=True)
        loss = p.log_prob(_value(t, kind)).sum() + D.kl_divergence(p, q).sum()
        loss.backward()
        grads.append([leaf.grad.numpy() for leaf in leaves])
    for mine, expected in zip(grads[1], grads[0], strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-4, atol=1e-6)


def test_rsample_is_differentiable_and_sample_is_not():
    loc = ft.zeros(2, requires_grad=True)
    scale = ft.ones(2, requires_grad=True)
    normal = ft.distributions.Normal(loc, scale)
    z = normal.rsample((4000,))
    assert tuple(z.shape) == (4000, 2) and z.requires_grad
    z.mean().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [0.5, 0.5], rtol=1e-6)
    assert not normal.sample((3,)).requires_grad
    np.testing.assert_allclose(z.detach().numpy().mean(0), [0, 0], atol=0.06)
    np.testing.assert_allclose(z.detach().numpy().std(0), [1, 1], atol=0.06)


def test_draws_follow_the_distributions():
    probs = np.array([0.1, 0.6, 0.3], np.float32)
    draws = ft.distributions.Categorical(probs=ft.tensor(probs)).sample((20000,)).numpy()
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 20000, probs, atol=0.015)
    coins = ft.distributions.Bernoulli(probs=ft.tensor([0.2, 0.7])).sample((20000,)).numpy()
    np.testing.assert_allclose(coins.mean(0), [0.2, 0.7], atol=0.015)
    spread = ft.distributions.Uniform(-1.0, 3.0).sample((20000,)).numpy()
    assert spread.min() >= -1 and spread.max() < 3 and abs(spread.mean() - 1) < 0.05


CONCENTRATION = RNG.uniform(0.3, 3.0, (3, 2)).astype(np.float32)


def _concentrated(t, kind, leaf, second=False):
    """Gamma, Beta or Dirichlet with ``leaf`` (``[3, 2]``) as its concentrations."""
    D, shift = t.distributions, (0.5 if second else 0.0)
    if kind == "Gamma":
        return D.Gamma(leaf + shift, t.tensor([1.5, 0.5]))
    if kind == "Beta":
        return D.Beta(leaf[:, 0] + shift, leaf[:, 1])
    return D.Dirichlet(leaf + shift)


_ONE_FAMILY = {
    "Laplace": (lambda D, t, a, b: D.Laplace(a, b), lambda t: t.tensor(VALUES)),
    "Exponential": (lambda D, t, a, b: D.Exponential(b),
                    lambda t: t.tensor(np.abs(VALUES))),
    "Poisson": (lambda D, t, a, b: D.Poisson(b * 3),
                lambda t: t.tensor(np.round(np.abs(VALUES) * 3))),
    "LogNormal": (lambda D, t, a, b: D.LogNormal(a, b), lambda t: t.tensor(np.exp(VALUES))),
    "StudentT": (lambda D, t, a, b: D.StudentT(b * 2, a, b + 1), lambda t: t.tensor(VALUES)),
}


@pytest.mark.parametrize("kind", list(_ONE_FAMILY))
def test_one_family_distributions_as_pytorch(torch, kind):
    make, value = _ONE_FAMILY[kind]
    results, draws = [], []
    for t in (torch, ft):
        a = t.tensor(LOC, requires_grad=True)
        b = t.tensor(SCALE, requires_grad=True)
        d = make(t.distributions, t, a, b)
        values = {"log_prob": d.log_prob(value(t)), "mean": d.mean, "mode": d.mode,
                  "variance": d.variance, "stddev": d.stddev}
        if kind != "Poisson":
            values["entropy"] = d.entropy()
        if kind in ("Laplace", "Exponential", "LogNormal"):
            values["cdf"] = d.cdf(value(t))
            values["icdf"] = d.icdf(t.tensor(PROBS))
        values["log_prob"].sum().backward()
        values["grad"] = b.grad
        results.append({k: v.detach().numpy() for k, v in values.items()})
        draws.append(tuple(d.sample((2,)).shape))
        assert d.has_rsample == (kind != "Poisson")
    assert repr(make(ft.distributions, ft, 0.0, 1.0)) == repr(make(torch.distributions, torch,
                                                                   0.0, 1.0))
    assert draws[1] == draws[0] == (2, 3, 4)
    for name, expected in results[0].items():
        np.testing.assert_allclose(results[1][name], expected, rtol=2e-5, atol=1e-5,
                                   err_msg=name)


def test_one_family_draws_follow_the_distributions():
    D = ft.distributions
    n = 40000
    for d, mean, var in [(D.Laplace(1.0, 2.0), 1.0, 8.0), (D.Exponential(2.0), 0.5, 0.25),
                         (D.Poisson(3.0), 3.0, 3.0), (D.LogNormal(0.0, 0.5), 1.1331, 0.3646),
                         (D.StudentT(5.0, 1.0, 2.0), 1.0, 20 / 3)]:
        drawn = d.sample((n,)).numpy()
        np.testing.assert_allclose([drawn.mean(), drawn.var()], [mean, var], rtol=0.08,
                                   atol=0.03, err_msg=repr(d))
    rate = ft.tensor(2.0, requires_grad=True)
    D.Exponential(rate).rsample((100,)).mean().backward()  # d(1/rate)/d rate = -1/4
    assert abs(rate.grad.item() + 0.25) < 0.08


@pytest.mark.parametrize("kind", ["Gamma", "Beta", "Dirichlet"])
def test_concentration_distributions_as_pytorch(torch, kind):
    # mixup's Beta, a Dirichlet prior: densities, moments, KL and their gradients
    results = []
    for t in (torch, ft):
        leaf = t.tensor(CONCENTRATION, requires_grad=True)
        p, q = _concentrated(t, kind, leaf), _concentrated(t, kind, leaf.detach(), True)
        value = t.tensor([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]])
        log_prob = p.log_prob(value[:, 0] if kind == "Beta" else value)
        kl = t.distributions.kl_divergence(p, q)
        (log_prob.sum() + kl.sum() + p.entropy().sum()).backward()
        results.append({"log_prob": log_prob, "kl": kl, "entropy": p.entropy(),
                        "mean": p.mean, "variance": p.variance, "mode": p.mode,
                        "grad": leaf.grad, "repr": repr(p),
                        "shapes": (tuple(p.batch_shape), tuple(p.event_shape),
                                   tuple(p.rsample((4,)).shape), tuple(p.sample().shape))})
    for name, expected in results[0].items():
        if name in ("repr", "shapes"):
            assert results[1][name] == expected
        else:
            np.testing.assert_allclose(results[1][name].detach().numpy(),
                                       expected.detach().numpy(), rtol=2e-5, atol=2e-6,
                                       err_msg=name)


def test_concentration_draws_and_their_gradients():
    # Beta(2, 3) has mean 0.4; d mean / d concentration1 = 3 / 25
    a = ft.tensor(2.0, requires_grad=True)
    draws = ft.distributions.Beta(a, ft.tensor(3.0)).rsample((40000,))
    assert draws.requires_grad and 0 < draws.min().item() and draws.max().item() < 1
    draws.mean().backward()
    assert abs(draws.mean().item() - 0.4) < 0.01 and abs(a.grad.item() - 0.12) < 0.01
    gammas = ft.distributions.Gamma(ft.tensor([2.0, 0.5]), 2.0).sample((40000,)).numpy()
    np.testing.assert_allclose(gammas.mean(0), [1.0, 0.25], rtol=0.03)
    mixes = ft.distributions.Dirichlet(ft.tensor([1.0, 2.0, 5.0])).sample((5,)).numpy()
    np.testing.assert_allclose(mixes.sum(-1), np.ones(5), rtol=1e-6)


@pytest.fixture
def torch_validates(torch):
    """PyTorch's default argument validation, which importing torch.compile's machinery
    (another test's ``torch.compile``) turns off for the whole process."""
    previous = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(True)
    yield torch
    torch.distributions.Distribution.set_default_validate_args(previous)


def test_bad_parameters_are_refused_as_pytorch(torch_validates):
    torch = torch_validates
    for t in (torch, ft):
        D = t.distributions
        with pytest.raises(ValueError, match="Expected parameter scale .* to satisfy the "
                           "constraint GreaterThan"):
            D.Normal(0.0, -1.0)
        with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, "
                           "but not both"):
            D.Bernoulli(probs=t.tensor([0.5]), logits=t.tensor([0.0]))
        with pytest.raises(ValueError, match="Expected parameter scale"):
            D.Normal(t.zeros(2), t.tensor([1.0, -1.0]), validate_args=True)
    for bad in (lambda D, t: D.Normal(0.0, -1.0), lambda D, t: D.Uniform(1.0, 0.0),
                lambda D, t: D.Gamma(1.0, 0.0), lambda D, t: D.Beta(-1.0, 1.0),
                lambda D, t: D.Dirichlet(t.tensor([[0.5, 1.0], [-1.0, 1.0]]),
                                         validate_args=True),
                lambda D, t: D.Dirichlet(t.tensor(1.0)),
                # tensors made from data are checked by default, as PyTorch checks them
                lambda D, t: D.Normal(t.zeros(2), t.tensor([1.0, -1.0])),
                lambda D, t: D.Normal(t.zeros(2), t.from_numpy(np.array([1.0, -2.0],
                                                                        np.float32))),
                lambda D, t: D.Gamma(t.tensor([1.0]), t.tensor([0.0])),
                lambda D, t: D.Bernoulli(probs=t.tensor([0.5, 1.5])),
                lambda D, t: D.Laplace(0.0, -1.0), lambda D, t: D.Exponential(0.0),
                lambda D, t: D.Poisson(t.tensor([-1.0])), lambda D, t: D.LogNormal(0.0, -1.0),
                lambda D, t: D.StudentT(-1.0), lambda D, t: D.StudentT(2.0, 0.0, 0.0),
                lambda D, t: D.Binomial(t.tensor([3.0, -1.0]), t.tensor([0.2, 0.1])),
                lambda D, t: D.Binomial(3, t.tensor([1.2])),
                lambda D, t: D.NegativeBinomial(3.0, t.tensor([1.0])),
                lambda D, t: D.Weibull(t.tensor([1.0]), t.tensor([-1.0])),
                lambda D, t: D.Pareto(t.tensor([-1.0]), t.tensor([-1.0])),
                lambda D, t: D.HalfCauchy(t.tensor([-1.0])),
                lambda D, t: D.InverseGamma(t.tensor([-1.0]), t.tensor([1.0])),
                lambda D, t: D.RelaxedBernoulli(t.tensor(1.0), t.tensor([1.3])),
                lambda D, t: D.Kumaraswamy(t.tensor([-1.5]), t.tensor([2.0])),
                lambda D, t: D.FisherSnedecor(t.tensor([1.5]), t.tensor([-2.0])),
                lambda D, t: D.LowRankMultivariateNormal(t.zeros(3), t.zeros(2, 1),
                                                         t.ones(3)),
                lambda D, t: D.LowRankMultivariateNormal(t.zeros(2, 3), t.zeros(4, 3, 1),
                                                         t.ones(3)),
                lambda D, t: D.LowRankMultivariateNormal(t.zeros(3), t.zeros(3, 1),
                                                         t.tensor([1.0, -1.0, 1.0])),
                lambda D, t: D.ContinuousBernoulli(t.tensor([1.2]), validate_args=False),
                lambda D, t: D.MultivariateNormal(
                    t.zeros(2), covariance_matrix=t.tensor([[1.0, 2.0], [2.0, 1.0]])),
                lambda D, t: D.MultivariateNormal(
                    t.zeros(2), covariance_matrix=t.tensor([[1.0, 0.5], [0.4, 1.0]])),
                lambda D, t: D.MultivariateNormal(
                    t.zeros(2), precision_matrix=t.tensor([[1.0, 2.0], [2.0, 1.0]])),
                lambda D, t: D.MultivariateNormal(
                    t.zeros(2), scale_tril=t.tensor([[1.0, 0.0], [2.0, -1.0]])),
                lambda D, t: D.MultivariateNormal(
                    t.zeros(2), scale_tril=t.tensor([[1.0, 3.0], [2.0, 1.0]]))):
        messages = []
        for t in (torch, ft):
            with pytest.raises(ValueError) as caught:
                bad(t.distributions, t)
            messages.append(str(caught.value))
        assert messages[1] == messages[0]
    # one the step computes is not read (that would wait for the device) unless asked
    ft.distributions.Normal(ft.zeros(2), ft.ones(2) - 2)
    with pytest.raises(ValueError, match="Expected parameter scale"):
        ft.distributions.Normal(ft.zeros(2), ft.ones(2) - 2, validate_args=True)
    ft.distributions.Normal(ft.zeros(1), ft.tensor([-1.0]), validate_args=False)
    with pytest.raises(NotImplementedError, match="torch.distributions.Wishart"):
        ft.distributions.Wishart  # noqa: B018
    with pytest.raises(NotImplementedError, match="between Normal and Uniform"):
        ft.distributions.kl_divergence(ft.distributions.Normal(0.0, 1.0),
                                       ft.distributions.Uniform(0.0, 1.0))


_BAD_VALUES = {
    "categorical": lambda D, t: D.Categorical(probs=t.tensor([0.3, 0.7])).log_prob(
        t.tensor(3)),
    "categorical logits": lambda D, t: D.Categorical(logits=t.tensor([0.3, 0.7])).log_prob(
        t.tensor([-1, 0])),
    "bernoulli": lambda D, t: D.Bernoulli(probs=t.tensor(0.3)).log_prob(t.tensor(0.5)),
    "normal nan": lambda D, t: D.Normal(0.0, 1.0).log_prob(t.tensor(float("nan"))),
    "normal number": lambda D, t: D.Normal(0.0, 1.0).log_prob(1.0),
    "normal shape": lambda D, t: D.Normal(t.zeros(3), 1.0).log_prob(t.zeros(2)),
    "normal cdf": lambda D, t: D.Normal(0.0, 1.0).cdf(t.tensor([float("nan")])),
    "uniform": lambda D, t: D.Uniform(0.0, 1.0).log_prob(t.tensor(2.0)),
    "gamma": lambda D, t: D.Gamma(1.0, 1.0).log_prob(t.tensor(-2.0)),
    "beta": lambda D, t: D.Beta(1.0, 1.0).log_prob(t.tensor(2.0)),
    "dirichlet": lambda D, t: D.Dirichlet(t.tensor([1.0, 1.0])).log_prob(
        t.tensor([0.5, 0.6])),
    "multivariate normal": lambda D, t: D.MultivariateNormal(t.zeros(2), t.eye(2)).log_prob(
        t.tensor([float("nan"), 0.0])),
    "multivariate normal event": lambda D, t: D.MultivariateNormal(
        t.zeros(2), t.eye(2)).log_prob(t.zeros(3)),
    "laplace": lambda D, t: D.Laplace(0.0, 1.0).log_prob(t.tensor(float("nan"))),
    "poisson": lambda D, t: D.Poisson(t.tensor([2.0])).log_prob(t.tensor([1.5])),
    "exponential": lambda D, t: D.Exponential(2.0).log_prob(t.tensor(-1.0)),
    "exponential cdf": lambda D, t: D.Exponential(2.0).cdf(t.tensor(-1.0)),
    "log normal": lambda D, t: D.LogNormal(0.0, 1.0).log_prob(t.tensor([-1.0, 1.0])),
    "student t": lambda D, t: D.StudentT(3.0).log_prob(t.tensor(float("nan"))),
    "binomial": lambda D, t: D.Binomial(3, t.tensor([0.2])).log_prob(t.tensor([4.0])),
    "multinomial": lambda D, t: D.Multinomial(3, t.tensor([0.2, 0.8])).log_prob(
        t.tensor([1.0, 3.0])),
    "negative binomial": lambda D, t: D.NegativeBinomial(2.0, t.tensor([0.5])).log_prob(
        t.tensor([1.5])),
    "pareto": lambda D, t: D.Pareto(t.tensor([1.0]), t.tensor([1.0])).log_prob(
        t.tensor([0.5])),
    "half cauchy": lambda D, t: D.HalfCauchy(t.tensor([1.0])).log_prob(t.tensor([-0.5])),
    "weibull": lambda D, t: D.Weibull(t.tensor([1.0]), t.tensor([1.0])).log_prob(
        t.tensor([-1.2])),
    "relaxed bernoulli": lambda D, t: D.RelaxedBernoulli(t.tensor(1.0), t.tensor([0.5])
                                                         ).log_prob(t.tensor([1.2])),
    "relaxed one hot": lambda D, t: D.RelaxedOneHotCategorical(
        t.tensor(1.0), t.tensor([0.5, 0.5])).log_prob(t.tensor([0.2, 0.9])),
}


@pytest.mark.parametrize("name", list(_BAD_VALUES))
def test_a_value_outside_the_support_is_refused_as_pytorch(torch_validates, name):
    # PyTorch validates log_prob's value by default; fnnet where the host holds the value
    messages = []
    for t in (torch_validates, ft):
        with pytest.raises(ValueError) as caught:
            _BAD_VALUES[name](t.distributions, t)
        messages.append(str(caught.value))
    assert messages[1] == messages[0]


def test_a_computed_value_is_checked_only_when_asked():
    D = ft.distributions
    computed = ft.tensor([1.0]) * float("nan")  # reading it would wait for the device
    assert np.isnan(D.Normal(0.0, 1.0).log_prob(computed).item())
    with pytest.raises(ValueError, match=r"support \(Real\(\)\)"):
        D.Normal(0.0, 1.0, validate_args=True).log_prob(computed)
    assert D.Bernoulli(0.3, validate_args=False).log_prob(ft.tensor(0.5)).shape == ()


def test_categorical_log_prob_broadcasts_value_and_batch_as_pytorch(torch):
    # REINFORCE: probs [1, 2] from a batch of one state, a 0-d sampled action
    for probs, value in [([[0.2, 0.8]], 1), ([[0.2, 0.8]], [1, 0, 1]),
                         ([[0.2, 0.8], [0.5, 0.5], [0.1, 0.9]], [[1], [0]]),
                         ([[0.2, 0.8], [0.5, 0.5], [0.1, 0.9]], [1, 0, 1])]:
        ours = ft.distributions.Categorical(probs=ft.tensor(probs)).log_prob(ft.tensor(value))
        theirs = torch.distributions.Categorical(probs=torch.tensor(probs)).log_prob(
            torch.tensor(value))
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dims", [1, 2])
def test_independent_sums_its_event_dims_as_pytorch(torch, dims):
    # a VAE's diagonal Gaussian posterior against its prior: log_prob, entropy, KL and
    # their gradients, and the shapes
    results = []
    for t in (torch, ft):
        D = t.distributions
        loc = t.tensor(LOC, requires_grad=True)
        posterior = D.Independent(D.Normal(loc, t.tensor(SCALE)), dims)
        prior = D.Independent(D.Normal(t.zeros(3, 4), t.ones(3, 4)), dims)
        log_prob = posterior.log_prob(t.tensor(VALUES))
        kl = D.kl_divergence(posterior, prior)
        (log_prob.sum() + kl.sum()).backward()
        results.append({"log_prob": log_prob.detach().numpy(), "kl": kl.detach().numpy(),
                        "entropy": posterior.entropy().detach().numpy(),
                        "grad": loc.grad.numpy(),
                        "shapes": (tuple(posterior.batch_shape), tuple(posterior.event_shape),
                                   tuple(posterior.rsample((2,)).shape))})
    assert results[1].pop("shapes") == results[0].pop("shapes")
    for name, expected in results[0].items():
        np.testing.assert_allclose(results[1][name], expected, rtol=1e-5, atol=1e-6,
                                   err_msg=name)
    for t in (torch, ft):
        with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
            t.distributions.Independent(t.distributions.Normal(t.zeros(3), t.ones(3)), 2)


@pytest.mark.parametrize("given", ["covariance_matrix", "scale_tril", "precision_matrix"])
def test_multivariate_normal_as_pytorch(torch, given):
    # a full-covariance Gaussian (a GMM's component, a policy): densities, entropy, KL
    # to a prior, moments and the gradients through each parameterisation
    a = RNG.standard_normal((3, 3)).astype(np.float32)
    cov, loc_value = a @ a.T + np.eye(3, dtype=np.float32), LOC[:2, :3]
    results = []
    for t in (torch, ft):
        D = t.distributions
        loc, matrix = t.tensor(loc_value, requires_grad=True), t.tensor(cov, requires_grad=True)
        made = {"covariance_matrix": matrix, "scale_tril": t.linalg.cholesky(matrix),
                "precision_matrix": t.linalg.inv(matrix)}[given]
        p = D.MultivariateNormal(loc, **{given: made})
        q = D.MultivariateNormal(t.zeros(3), covariance_matrix=2 * t.eye(3))
        log_prob, kl = p.log_prob(t.tensor(VALUES[:, :3])[:, None]), D.kl_divergence(p, q)
        (log_prob.sum() + kl.sum() + p.entropy().sum()).backward()
        results.append({"log_prob": log_prob, "kl": kl, "entropy": p.entropy(),
                        "variance": p.variance, "covariance": p.covariance_matrix,
                        "precision": p.precision_matrix, "loc_grad": loc.grad,
                        "matrix_grad": matrix.grad, "repr": repr(p),
                        "shapes": (tuple(p.batch_shape), tuple(p.event_shape),
                                   tuple(p.rsample((4,)).shape))})
        with pytest.raises(ValueError) as bad:
            D.MultivariateNormal(t.zeros(2))
        results[-1]["error"] = str(bad.value)
    for name, expected in results[0].items():
        if name in ("repr", "shapes", "error"):
            assert results[1][name] == expected
        else:
            np.testing.assert_allclose(results[1][name].detach().numpy(),
                                       expected.detach().numpy(), rtol=1e-4, atol=1e-5,
                                       err_msg=name)


def test_low_rank_multivariate_normal_as_pytorch(torch):
    """Moments, matrices, density, entropy, draws (after manual_seed) and gradients of
    a batch of low-rank Gaussians with one shared factor, as PyTorch's."""
    rng = np.random.default_rng(4)
    cov_diag = rng.uniform(0.5, 2.0, (2, 3)).astype(np.float32)
    factor, values = LOC[:, :2], rng.standard_normal((4, 2, 3)).astype(np.float32)
    results = []
    for T in (torch, ft):
        T.manual_seed(2)
        w, d = T.tensor(factor, requires_grad=True), T.tensor(cov_diag, requires_grad=True)
        dist = T.distributions.LowRankMultivariateNormal(T.tensor(LOC[:2, :3]), w, d)
        out = {name: getattr(dist, name) for name in (
            "mean", "variance", "covariance_matrix", "precision_matrix", "scale_tril")}
        out.update(entropy=dist.entropy(), log_prob=dist.log_prob(T.tensor(values)),
                   draws=dist.rsample((2,)))
        (out["log_prob"].sum() + out["draws"].sum()).backward()
        out.update(factor_grad=w.grad, diag_grad=d.grad)
        results.append({k: v.detach().numpy() for k, v in out.items()})
    for name, theirs in results[0].items():
        np.testing.assert_allclose(results[1][name], theirs, rtol=1e-5, atol=1e-5,
                                   err_msg=name)


def test_gaussian_mixture_as_pytorch(torch):
    # MixtureSameFamily(Categorical, Independent(Normal)): a GMM fitted by its NLL
    results = []
    for t in (torch, ft):
        D = t.distributions
        logits = t.tensor(LOGITS[0, :3], requires_grad=True)
        loc = t.tensor(LOC[:3, :2], requires_grad=True)
        gmm = D.MixtureSameFamily(D.Categorical(logits=logits),
                                  D.Independent(D.Normal(loc, t.tensor(SCALE[:3, :2])), 1))
        log_prob = gmm.log_prob(t.tensor(VALUES[:, :2]))
        (-log_prob.sum()).backward()
        results.append({"log_prob": log_prob, "mean": gmm.mean, "variance": gmm.variance,
                        "logits_grad": logits.grad, "loc_grad": loc.grad,
                        "shapes": (tuple(gmm.batch_shape), tuple(gmm.event_shape),
                                   tuple(gmm.sample((5,)).shape))})
        with pytest.raises(ValueError) as bad:
            D.MixtureSameFamily(D.Categorical(logits=t.zeros(2)),
                                D.Independent(D.Normal(t.zeros(3, 2), t.ones(3, 2)), 1))
        results[-1]["error"] = str(bad.value)
    for name, expected in results[0].items():
        if name in ("shapes", "error"):
            assert results[1][name] == expected
        else:
            np.testing.assert_allclose(results[1][name].detach().numpy(),
                                       expected.detach().numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=name)


def test_univariate_mixture_density_as_pytorch(torch):
    # a mixture density network's head: per-row weights [B, K] over Normals [B, K]
    results = []
    for t in (torch, ft):
        D = t.distributions
        logits = t.tensor(LOGITS[:, :4], requires_grad=True)
        loc = t.tensor(LOC, requires_grad=True)
        mdn = D.MixtureSameFamily(D.Categorical(logits=logits),
                                  D.Normal(loc, t.tensor(SCALE)))
        cdf = mdn.cdf(t.tensor(VALUES[:, 0]))
        cdf.sum().backward()
        results.append({"cdf": cdf, "log_prob": mdn.log_prob(t.tensor(VALUES[:, 1])),
                        "mean": mdn.mean, "logits_grad": logits.grad, "loc_grad": loc.grad})
    for name, expected in results[0].items():
        np.testing.assert_allclose(results[1][name].detach().numpy(),
                                   expected.detach().numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=name)


@pytest.mark.parametrize("names", [["TanhTransform"], ["ExpTransform"], ["SigmoidTransform"],
                                   ["AffineTransform", "TanhTransform"]])
def test_transformed_distribution_as_pytorch(torch, names):
    # SAC's squashed Gaussian (a cached tanh inverts its own sample exactly), a
    # log-normal, a logit-normal, an affine map then tanh
    import importlib

    results = []
    for t in (torch, ft):
        transforms = importlib.import_module(f"{t.__name__}.distributions.transforms")
        made = [transforms.AffineTransform(0.5, 2.0) if name == "AffineTransform"
                else getattr(transforms, name)(cache_size=1) for name in names]
        loc, scale = t.tensor(LOC[:, :2], requires_grad=True), t.tensor(SCALE[:, :2])
        dist = t.distributions.TransformedDistribution(
            t.distributions.Independent(t.distributions.Normal(loc, scale), 1), made)
        x = t.tensor(VALUES[:, :2] * 0.5)
        for transform in made:
            x = transform(x)
        log_prob = dist.log_prob(x)
        log_prob.sum().backward()
        results.append((log_prob.detach().numpy(), loc.grad.numpy(), repr(dist),
                        tuple(dist.batch_shape), tuple(dist.event_shape),
                        tuple(dist.rsample((2,)).shape)))
    theirs, ours = results
    assert ours[2:] == theirs[2:]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-5)



#: what PyTorch's distributions lack (its base class raises NotImplementedError)
_LACKING = (
    lambda D, T: D.Bernoulli(probs=T.tensor([0.3])).cdf(T.tensor([1.0])),
    lambda D, T: D.Categorical(probs=T.tensor([0.5, 0.5])).icdf(T.tensor(0.5)),
    lambda D, T: D.MixtureSameFamily(D.Categorical(T.tensor([0.5, 0.5])),
                                     D.Normal(T.zeros(2), T.ones(2))).entropy(),
    lambda D, T: D.MixtureSameFamily(D.Categorical(T.tensor([0.5, 0.5])),
                                     D.Normal(T.zeros(2), T.ones(2))).mode,
)


def test_modes_and_what_a_distribution_lacks_are_pytorchs(torch):
    """Uniform's, Bernoulli's and Independent's modes as PyTorch's (a NaN at a tie or
    everywhere); mode, cdf, icdf and entropy a distribution lacks raise
    NotImplementedError, as PyTorch's base class does."""
    results = []
    for T in (torch, ft):
        D = T.distributions
        modes = [D.Uniform(T.tensor([0.0, 1.0]), T.tensor([2.0, 4.0])).mode,
                 D.Bernoulli(probs=T.tensor([0.3, 0.5, 0.9])).mode,
                 D.Bernoulli(logits=T.tensor([1.0, -2.0])).mode,
                 D.Independent(D.Normal(T.zeros(1, 2), T.ones(1, 2)), 1).mode]
        lacking = []
        for call in _LACKING:
            with pytest.raises(NotImplementedError):
                call(D, T)
            lacking.append(True)
        results.append(([m.tolist() for m in modes], lacking))
    assert str(results[1]) == str(results[0])  # (NaNs compare as text)


def test_exponential_draws_are_pytorchs(torch):
    draws = []
    for T in (torch, ft):
        T.manual_seed(11)
        rate = T.tensor([2.0, 0.5], requires_grad=True)
        sample = T.distributions.Exponential(rate).rsample((4,))
        sample.sum().backward()
        draws.append((sample.detach().numpy(), rate.grad.numpy(), T.rand(2).numpy()))
    for ours, theirs in zip(draws[1], draws[0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


#: distributions as PyTorch builds them, each with a value in its support
_MORE = {
    "Cauchy": (lambda D, t: D.Cauchy(t([0.0, 1.0]), t([1.0, 2.0])), [0.5, -3.0]),
    "Gumbel": (lambda D, t: D.Gumbel(t([0.0, 1.0]), t([1.0, 2.0])), [0.5, -3.0]),
    "HalfNormal": (lambda D, t: D.HalfNormal(t([1.0, 2.0])), [0.5, 3.0]),
    "Chi2": (lambda D, t: D.Chi2(t([3.0, 5.0])), [0.5, 3.0]),
    "Geometric": (lambda D, t: D.Geometric(t([0.3, 0.8])), [0.0, 3.0]),
    "Geometric logits": (lambda D, t: D.Geometric(logits=t([0.3, -1.0])), [2.0, 1.0]),
    "OneHotCategorical": (lambda D, t: D.OneHotCategorical(t([[0.2, 0.3, 0.5],
                                                               [0.6, 0.3, 0.1]])),
                          [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
    "Binomial": (lambda D, t: D.Binomial(10, t([0.2, 0.7])), [3.0, 10.0]),
    "Binomial logits": (lambda D, t: D.Binomial(t([5.0, 5.0]), logits=t([0.2, -1.0])),
                        [0.0, 4.0]),
    "Multinomial": (lambda D, t: D.Multinomial(5, t([[0.2, 0.3, 0.5], [0.1, 0.0, 0.9]])),
                    [[1.0, 1.0, 3.0], [0.0, 0.0, 5.0]]),
    "NegativeBinomial": (lambda D, t: D.NegativeBinomial(t([3.0, 5.0]), t([0.3, 0.6])),
                         [2.0, 7.0]),
    "NegativeBinomial logits": (lambda D, t: D.NegativeBinomial(t([3.0, 0.5]),
                                                                logits=t([0.3, -0.6])),
                                [0.0, 2.0]),
    "Weibull": (lambda D, t: D.Weibull(t([1.0, 2.0]), t([1.5, 0.8])), [0.5, 3.0]),
    "Pareto": (lambda D, t: D.Pareto(t([1.0, 2.0]), t([3.0, 1.5])), [1.5, 3.0]),
    "HalfCauchy": (lambda D, t: D.HalfCauchy(t([1.0, 2.0])), [0.5, 3.0]),
    "InverseGamma": (lambda D, t: D.InverseGamma(t([3.0, 1.5]), t([1.0, 2.0])), [0.5, 3.0]),
    "ContinuousBernoulli": (lambda D, t: D.ContinuousBernoulli(t([0.2, 0.4995])),
                            [0.3, 0.9]),
    "ContinuousBernoulli logits": (lambda D, t: D.ContinuousBernoulli(logits=t([2.0, -0.5])),
                                   [0.0, 1.0]),
    "Kumaraswamy": (lambda D, t: D.Kumaraswamy(t([1.5, 2.5]), t([2.0, 0.5])), [0.3, 0.9]),
    "FisherSnedecor": (lambda D, t: D.FisherSnedecor(t([3.0, 5.0]), t([5.0, 2.0])),
                       [0.5, 2.0]),
    "OneHotCategoricalStraightThrough": (lambda D, t: D.OneHotCategoricalStraightThrough(
        t([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])), [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
    "RelaxedBernoulli": (lambda D, t: D.RelaxedBernoulli(t(0.5), t([0.3, 0.8])), [0.2, 0.9]),
    "RelaxedOneHotCategorical": (lambda D, t: D.RelaxedOneHotCategorical(
        t(0.7), logits=t([[0.2, 0.3, 0.5], [0.6, -0.3, 0.1]])),
        [[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]]),
}
#: drawn otherwise than PyTorch's CPU kernel draws (its BTRS sampler): compared by their
#: statistics in test_binomial_draws_follow_the_distribution
_OWN_DRAWS = ("Binomial", "Binomial logits")


def _statistics(T, name):
    make, value = _MORE[name]
    T.manual_seed(3)
    d = make(T.distributions, T.tensor)
    out = {"samples": d.sample((4,)), "log_prob": d.log_prob(T.tensor(value)),
           "shapes": (tuple(d.batch_shape), tuple(d.event_shape))}
    measures = {"mean": lambda: d.mean, "mode": lambda: d.mode,
                "variance": lambda: d.variance, "stddev": lambda: d.stddev,
                "entropy": d.entropy, "cdf": lambda: d.cdf(T.tensor(value)),
                "icdf": lambda: d.icdf(T.tensor([0.3, 0.8]))}
    for key, measure in measures.items():
        try:
            out[key] = measure()
        except NotImplementedError:
            out[key] = "NotImplementedError"
    out["after"] = T.rand(2)  # the generator moved on as PyTorch's
    return out


@pytest.mark.parametrize("name", list(_MORE))
def test_more_distributions_draw_and_measure_as_pytorch(torch, name):
    theirs, ours = _statistics(torch, name), _statistics(ft, name)
    assert ours["shapes"] == theirs["shapes"]
    if name in _OWN_DRAWS:
        assert ours.pop("samples").shape == theirs.pop("samples").shape
        del ours["after"], theirs["after"]
    for key in theirs:
        if key == "shapes" or isinstance(theirs[key], str):
            assert ours[key] == theirs[key], key
            continue
        np.testing.assert_allclose(np.asarray(ours[key].tolist(), float),
                                   np.asarray(theirs[key].tolist(), float), rtol=1e-5,
                                   atol=1e-6, err_msg=key)


def test_binomial_draws_follow_the_distribution():
    """Binomial's draws (not PyTorch's, see its note) have its mean and variance, within
    five standard errors of each over a seeded sample."""
    n, counts, probs = 20000, np.array([10.0, 3.0]), np.array([0.2, 0.7])
    ft.manual_seed(5)
    drawn = ft.distributions.Binomial(ft.tensor(counts), ft.tensor(probs)).sample((n,))
    drawn = drawn.numpy()
    mean, variance = counts * probs, counts * probs * (1 - probs)
    # the fourth central moment of a binomial, for the standard error of the variance
    fourth = variance * (1 + (3 * counts - 6) * probs * (1 - probs))
    assert np.all(np.abs(drawn.mean(0) - mean) < 5 * np.sqrt(variance / n))
    assert np.all(np.abs(drawn.var(0) - variance) < 5 * np.sqrt((fourth - variance ** 2) / n))
    assert set(np.unique(drawn[:, 1])) == {0.0, 1.0, 2.0, 3.0}


@pytest.mark.parametrize("make", [
    lambda D, a, b: D.Weibull(a, b), lambda D, a, b: D.Pareto(a, b),
    lambda D, a, b: D.RelaxedBernoulli(a, logits=b), lambda D, a, b: D.Kumaraswamy(a, b),
    lambda D, a, b: D.FisherSnedecor(a, b), lambda D, a, b: D.ContinuousBernoulli(logits=a - b),
    lambda D, a, b: D.OneHotCategoricalStraightThrough(logits=a * b),
    lambda D, a, b: D.RelaxedOneHotCategorical(a[0], logits=b)])
def test_transformed_draws_and_their_gradients_are_pytorchs(torch, make):
    results = []
    for T in (torch, ft):
        T.manual_seed(7)
        a = T.tensor([0.7, 1.5], requires_grad=True)
        b = T.tensor([1.2, 0.4], requires_grad=True)
        draws = make(T.distributions, a, b).rsample((3,))
        (draws * T.tensor([1.0, -2.0])).sum().backward()
        results.append([x.detach().numpy() for x in (draws, a.grad, b.grad)])
    # the gradients go through chains of float32 powers and logs (Kumaraswamy's)
    for ours, theirs, rtol in zip(results[1], results[0], (1e-5, 1e-4, 1e-4), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-6)


def test_register_kl_answers_for_its_classes_and_their_subclasses(torch):
    values = []
    for T in (torch, ft):
        D = T.distributions

        class Shifted(D.Normal):
            pass

        @D.register_kl(Shifted, D.Normal)
        def _shifted_normal(p, q):
            return (p.loc - q.loc).abs()

        class Further(Shifted):
            pass

        p, q = Further(T.tensor([1.0, 3.0]), 1.0), D.Normal(T.tensor([0.5, 0.0]), 2.0)
        values.append((D.kl_divergence(p, q).tolist(),
                       D.kl_divergence(q, D.Normal(0.0, 1.0)).tolist()))
        with pytest.raises(TypeError, match="issubclass"):
            D.register_kl(1, D.Normal)
    assert values[1] == values[0]


_KL_PAIRS = {
    "Laplace": lambda D, t: (D.Laplace(t([0.0, 1.0]), t([1.0, 2.0])),
                             D.Laplace(t([0.5, -1.0]), t([2.0, 0.5]))),
    "Exponential": lambda D, t: (D.Exponential(t([2.0, 0.5])), D.Exponential(t([0.7, 3.0]))),
    "Poisson": lambda D, t: (D.Poisson(t([1.0, 2.0])), D.Poisson(t([3.0, 0.5]))),
    "Binomial": lambda D, t: (D.Binomial(t([5.0, 6.0]), t([0.2, 0.5])),
                              D.Binomial(t([5.0, 5.0]), t([0.4, 0.3]))),
    "Pareto": lambda D, t: (D.Pareto(t([1.0, 2.0]), t([3.0, 1.5])),
                            D.Pareto(t([1.5, 1.0]), t([2.0, 2.5]))),
}


@pytest.mark.parametrize("kind", list(_KL_PAIRS))
def test_kl_of_one_parameter_families_as_pytorch(torch, kind):
    values = []
    for T in (torch, ft):
        D = T.distributions
        values.append(D.kl_divergence(*_KL_PAIRS[kind](D, T.tensor)).numpy())
    np.testing.assert_allclose(values[1], values[0], rtol=1e-6)


def test_distribution_modules_import_as_pytorch(torch):
    # ``from torch.distributions.categorical import Categorical`` (CleanRL's PPO) and the
    # like: each of PyTorch's distribution modules holds fnnet.torch's class of each name
    # it provides, and refuses the others with NotImplementedError
    import importlib
    import types

    for child in sorted(vars(torch.distributions)):
        theirs = getattr(torch.distributions, child)
        if not isinstance(theirs, types.ModuleType) or \
                child in ("transforms", "constraints", "constraint_registry", "utils"):
            continue
        try:
            ours = importlib.import_module(f"fnnet.torch.distributions.{child}")
        except NotImplementedError:
            assert not set(theirs.__all__) & set(ft.distributions.__all__), child
            continue
        for name in theirs.__all__:
            if name in ft.distributions.__all__:
                assert getattr(ours, name) is getattr(ft.distributions, name), (child, name)
            elif name in ft.distributions.MODULES[child]:  # only in its module, as PyTorch's
                assert getattr(ours, name).__name__ == name
            else:
                with pytest.raises(NotImplementedError, match=f"{child}.{name}"):
                    getattr(ours, name)
    from fnnet.torch.distributions.normal import Normal

    assert Normal is ft.distributions.Normal
    with pytest.raises(ImportError, match="transforms.CatTransform"):
        from fnnet.torch.distributions.transforms import CatTransform  # noqa: F401


@pytest.mark.parametrize("make", [
    lambda D, T: D.Categorical(logits=T.zeros(2, 3)),
    lambda D, T: D.Categorical(probs=T.tensor([0.2, 0.8])),
    lambda D, T: D.Bernoulli(probs=T.tensor([[0.3, 0.6]])),
    lambda D, T: D.OneHotCategorical(logits=T.zeros(2, 4)),
    lambda D, T: D.Independent(D.Bernoulli(probs=T.tensor([0.3, 0.6])), 0),
], ids=["Categorical", "Categorical unbatched", "Bernoulli", "OneHotCategorical",
        "Independent"])
def test_enumerate_support_as_pytorch(torch, make):
    # an exact expectation over a discrete policy's actions: (probs * Q(support)).sum(0)
    results = []
    for t in (torch, ft):
        dist = make(t.distributions, t)
        values = dist.enumerate_support()
        results.append((values.numpy(), str(values.dtype), dist.has_enumerate_support,
                        tuple(dist.enumerate_support(expand=False).shape),
                        dist.log_prob(values).exp().numpy(), dist.perplexity().numpy()))
    theirs, ours = results
    assert ours[1:4] == theirs[1:4]
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_allclose(ours[4], theirs[4], rtol=1e-6)
    np.testing.assert_allclose(ours[5], theirs[5], rtol=1e-6)


def test_enumerate_support_refused_as_pytorch(torch):
    for t in (torch, ft):
        D = t.distributions
        assert not D.Normal(0.0, 1.0).has_enumerate_support
        assert not D.Independent(D.Bernoulli(probs=t.tensor([0.5])), 1).has_enumerate_support
        with pytest.raises(NotImplementedError):
            D.Normal(0.0, 1.0).enumerate_support()
        with pytest.raises(NotImplementedError, match="cartesian product"):
            D.Independent(D.Bernoulli(probs=t.tensor([0.5])), 1).enumerate_support()
        with pytest.warns(FutureWarning, match=r"`sample_n\(n\)` will be deprecated"):
            assert tuple(D.Normal(t.zeros(2), 1.0).sample_n(3).shape) == (3, 2)


def test_default_validate_args_switch_as_pytorch(torch_validates):
    # Distribution.set_default_validate_args(False), as RL code turns the checks off for
    # speed: a negative scale and a value outside the support then pass unchecked
    for t in (torch_validates, ft):
        D = t.distributions
        try:
            D.Distribution.set_default_validate_args(False)
            D.Normal(0.0, -1.0)
            D.Bernoulli(probs=t.tensor([0.5, 0.5])).log_prob(t.tensor([2.0, 0.0]))
            with pytest.raises(ValueError):
                D.Normal(0.0, -1.0, validate_args=True)
        finally:
            D.Distribution.set_default_validate_args(True)
        with pytest.raises(ValueError, match="constraint GreaterThan"):
            D.Normal(0.0, -1.0)
        with pytest.raises(ValueError):
            D.Distribution.set_default_validate_args(0.5)


_EXPANDED = {
    "Normal": lambda D, t: D.Normal(t.zeros(2), t.ones(2)),
    "Normal unbatched": lambda D, t: D.Normal(0.0, 1.0),
    "Categorical": lambda D, t: D.Categorical(logits=t.tensor([[0.0, 1.0, 2.0]] * 2)),
    "Bernoulli probs": lambda D, t: D.Bernoulli(probs=t.tensor([0.3, 0.6])),
    "MultivariateNormal": lambda D, t: D.MultivariateNormal(t.zeros(2, 3), 2 * t.eye(3)),
    "Independent": lambda D, t: D.Independent(D.Normal(t.zeros(2, 3), t.ones(2, 3)), 1),
    "tanh Normal": lambda D, t: D.TransformedDistribution(
        D.Normal(t.zeros(2), t.ones(2)), [D.transforms.TanhTransform()]),
    "mixture": lambda D, t: D.MixtureSameFamily(D.Categorical(logits=t.zeros(2)),
                                                D.Normal(t.zeros(2), t.ones(2))),
    "Beta": lambda D, t: D.Beta(t.ones(2), 2 * t.ones(2)),
    "Binomial": lambda D, t: D.Binomial(5, probs=t.tensor([0.3, 0.6])),
    "RelaxedOneHotCategorical": lambda D, t: D.RelaxedOneHotCategorical(
        t.tensor(0.5), probs=t.ones(2, 3) / 3),
}


@pytest.mark.parametrize("name", _EXPANDED)
def test_expand_as_pytorch(torch, name):
    # dist.expand(batch_shape), as Pyro-style and batched-policy code broadcasts a prior
    results = []
    for t in (torch, ft):
        dist = _EXPANDED[name](t.distributions, t)
        shape = (4, *dist.batch_shape) if dist.batch_shape else (3,)
        expanded = dist.expand(shape)
        results.append((expanded, tuple(expanded.batch_shape), tuple(expanded.event_shape)))
    (theirs, *t_shapes), (ours, *o_shapes) = results
    assert o_shapes == t_shapes
    value = theirs.sample()
    np.testing.assert_allclose(ours.log_prob(ft.tensor(value.numpy())).numpy(),
                               theirs.log_prob(value).numpy(), rtol=1e-5, atol=1e-5)


def test_expand_refuses_as_pytorch(torch):
    messages = []
    for t in (torch, ft):
        with pytest.raises(RuntimeError) as info:
            t.distributions.Normal(t.zeros(2), t.ones(2)).expand((2, 5))
        messages.append(str(info.value))
    assert messages[1] == messages[0]


@pytest.mark.parametrize("pair", ["low-rank, full", "full, low-rank", "low-rank, low-rank"])
def test_kl_between_low_rank_and_full_gaussians_as_pytorch(torch, pair):
    # a low-rank-plus-diagonal posterior against a full prior (and back), as PyTorch pairs
    results = []
    for t in (torch, ft):
        D = t.distributions
        low = D.LowRankMultivariateNormal(t.tensor([[0.1, 0.0, 0.3]] * 2),
                                          t.tensor([[0.5], [0.2], [-0.3]]),
                                          t.tensor([1.0, 0.5, 2.0]))
        other = D.LowRankMultivariateNormal(t.zeros(3), 0.3 * t.ones(3, 2), t.ones(3)) \
            if pair == "low-rank, low-rank" else \
            D.MultivariateNormal(t.tensor([0.0, 1.0, 0.0]), 1.5 * t.eye(3))
        p, q = (other, low) if pair == "full, low-rank" else (low, other)
        with pytest.raises(ValueError) as info:
            D.kl_divergence(low, D.MultivariateNormal(t.zeros(2), t.eye(2)))
        results.append((D.kl_divergence(p, q).numpy(), str(info.value)))
    theirs, ours = results
    assert ours[1] == theirs[1]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
