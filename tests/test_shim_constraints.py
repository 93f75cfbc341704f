"""torch.distributions.constraints, the distributions' ``support`` and
``arg_constraints``, argument validation with them, and ``biject_to``/``transform_to``,
each run under PyTorch and fnnet.torch and compared."""

from __future__ import annotations

import numpy as np
import pytest

import fnnet.torch as ft

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4)).astype(np.float32)
MATRICES = RNG.standard_normal((2, 3, 3)).astype(np.float32)
CORR = RNG.standard_normal((2, 3)).astype(np.float32)


@pytest.fixture
def torch_validates(torch):
    """PyTorch's default argument validation, which another test's torch.compile may
    have turned off for the process."""
    previous = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(True)
    yield torch
    torch.distributions.Distribution.set_default_validate_args(previous)


def _both(torch, fn):
    """``fn(t)`` under PyTorch and fnnet.torch, each result printed (tensors as rounded
    lists), so that the two compare as text."""
    def shown(value):
        if isinstance(value, (list, tuple)):
            return [shown(v) for v in value]
        if hasattr(value, "detach"):
            # + 0.0: a zero's sign is the kernels' (softmax's gradient)
            return (np.round(value.detach().numpy().astype(np.float64), 4) + 0.0).tolist()
        return value

    return [str(shown(fn(t))) for t in (torch, ft)]


def _constraints(C):
    return [C.real, C.positive, C.nonnegative, C.unit_interval, C.simplex, C.real_vector,
            C.boolean, C.one_hot, C.nonnegative_integer, C.positive_integer,
            C.lower_triangular, C.lower_cholesky, C.corr_cholesky, C.positive_definite,
            C.positive_semidefinite, C.square, C.symmetric, C.interval(0.0, 2.0),
            C.half_open_interval(-1, 1), C.greater_than(0.2), C.greater_than_eq(1),
            C.less_than(0.8), C.integer_interval(0, 5), C.independent(C.positive, 1),
            C.multinomial(3)]


def test_constraints_as_pytorch(torch):
    # repr, event_dim and is_discrete of each, and check() of values in and out (read
    # together at the end: one compiled program)
    def run(t):
        C = t.distributions.constraints
        x = t.tensor([[0.2, 0.8], [-0.1, 1.1], [float("nan"), 1.0]])
        m = t.tensor([[[1.0, 0.0], [0.5, 2.0]], [[1.0, 0.3], [0.0, 1.0]],
                      [[2.0, 1.0], [1.0, 2.0]]])
        out = []
        for c in _constraints(C):
            checked = c.check(m if c.event_dim == 2 else x)
            out.append((repr(c), c.event_dim, c.is_discrete, str(checked.dtype), checked))
        out.append(C.corr_cholesky.check(t.tensor([[1.0, 0.0], [0.6, 0.8]])))
        out.append(C.cat([C.positive, C.real], 0, [1, 2]).check(t.tensor([-1.0, 2.0, 3.0])))
        out.append(C.stack([C.positive, C.real], 1).check(t.tensor([[-1.0, 2.0],
                                                                    [1.0, -3.0]])))
        out.append((isinstance(C.positive, C.greater_than),
                    isinstance(C.nonnegative, C.greater_than),
                    isinstance(C.unit_interval, C.interval),
                    isinstance(C.real_vector, C.independent), C.is_dependent(C.dependent),
                    C.is_dependent(C.real), repr(C.dependent), repr(C.interval(
                        t.tensor(0.0), t.tensor([1.0, 2.0])))))
        with pytest.raises(ValueError, match="Cannot determine validity of dependent"):
            C.dependent.check(x)
        with pytest.raises(NotImplementedError, match="event_dim cannot be determined"):
            C.dependent.event_dim  # noqa: B018
        out.append(C.dependent(is_discrete=True, event_dim=1).event_dim)
        return out

    theirs, ours = _both(torch, run)
    assert ours == theirs
    # every public name of PyTorch's module is there
    assert set(torch.distributions.constraints.__all__) <= set(dir(ft.distributions.constraints))


def _distributions(t):
    D = t.distributions
    return [D.Normal(0.0, 1.0), D.Uniform(t.tensor([0.0, 1.0]), 2.0),
            D.Categorical(probs=t.tensor([0.2, 0.8])), D.Bernoulli(0.3),
            D.Binomial(5, t.tensor([0.3])), D.Beta(1.0, 2.0), D.Gamma(1.0, 2.0),
            D.Dirichlet(t.ones(3)), D.Exponential(1.0), D.Poisson(2.0),
            D.MultivariateNormal(t.zeros(2), t.eye(2)),
            D.Independent(D.Normal(t.zeros(3), 1.0), 1), D.LogNormal(0.0, 1.0),
            D.StudentT(3.0), D.Laplace(0.0, 1.0), D.Cauchy(0.0, 1.0), D.Gumbel(0.0, 1.0),
            D.HalfNormal(1.0), D.HalfCauchy(1.0), D.Chi2(2.0), D.Geometric(0.3),
            D.OneHotCategorical(t.tensor([0.5, 0.5])),
            D.Multinomial(3, t.tensor([0.5, 0.5])), D.NegativeBinomial(3.0, t.tensor([0.5])),
            D.Pareto(1.0, 2.0), D.Weibull(1.0, 2.0), D.InverseGamma(1.0, 2.0),
            D.Kumaraswamy(1.0, 2.0), D.FisherSnedecor(1.0, 2.0),
            D.RelaxedBernoulli(t.tensor(1.0), t.tensor([0.5])),
            D.RelaxedOneHotCategorical(t.tensor(1.0), t.tensor([0.5, 0.5])),
            D.ContinuousBernoulli(logits=t.tensor([0.3])),
            D.LowRankMultivariateNormal(t.zeros(2), t.zeros(2, 1), t.ones(2)),
            D.MixtureSameFamily(D.Categorical(logits=t.zeros(2)),
                                D.Normal(t.tensor([0.0, 1.0]), 1.0)),
            D.TransformedDistribution(D.Normal(0.0, 1.0), [D.transforms.TanhTransform()]),
            D.TransformedDistribution(D.Independent(D.Normal(t.zeros(2), 1.0), 1),
                                      [D.transforms.ExpTransform()]),
            D.TransformedDistribution(D.Normal(0.0, 1.0), [D.transforms.AffineTransform(
                1.0, 2.0), D.transforms.SigmoidTransform()])]


def test_supports_and_arg_constraints_as_pytorch(torch):
    # d.support (dependent ones: Uniform's interval, Categorical's and Binomial's
    # integer_interval, a transformed distribution's codomain) and d.arg_constraints;
    # on the class, a dependent support is a dependent_property
    def run(t):
        D, C = t.distributions, t.distributions.constraints
        out = [(repr(d), repr(d.support), d.support.event_dim, d.support.is_discrete,
                {k: repr(v) for k, v in d.arg_constraints.items()})
               for d in _distributions(t)]
        for cls in (D.Normal, D.Categorical, D.Uniform, D.Binomial, D.Independent,
                    D.TransformedDistribution, D.MixtureSameFamily, D.Pareto):
            out.append((cls.__name__, C.is_dependent(cls.support)))
        return out

    assert run(ft) == run(torch)


_BAD = {
    "normal broadcast scale": lambda D, t: D.Normal(t.zeros(3), -1.0),
    "normal nan loc": lambda D, t: D.Normal(t.tensor([0.0, float("nan")]), 1.0),
    "uniform tensors": lambda D, t: D.Uniform(t.tensor([0.0, 2.0]), t.tensor([1.0, 1.0])),
    "uniform value": lambda D, t: D.Uniform(t.tensor([0.0, 0.0]), t.tensor([1.0, 2.0])
                                            ).log_prob(t.tensor([0.5, 3.0])),
    "categorical normalised": lambda D, t: D.Categorical(probs=t.tensor([0.5, -0.1, 0.6])),
    "gamma broadcast": lambda D, t: D.Gamma(t.ones(2), -1.0),
    "student t broadcast": lambda D, t: D.StudentT(t.ones(2), 0.0, -1.0),
    "chi2": lambda D, t: D.Chi2(-1.0),
    "geometric zero": lambda D, t: D.Geometric(t.tensor([0.0, 0.5])),
    "binomial broadcast": lambda D, t: D.Binomial(t.tensor([3.0, 4.0]), 1.5),
    "mixture value": lambda D, t: D.MixtureSameFamily(
        D.Categorical(logits=t.zeros(2)), D.Normal(t.tensor([0.0, 1.0]), 1.0)).log_prob(
        t.tensor(float("nan"))),
    "one hot value": lambda D, t: D.OneHotCategorical(t.tensor([0.5, 0.5])).log_prob(
        t.tensor([1.0, 1.0])),
    "independent value": lambda D, t: D.Independent(D.Normal(t.zeros(2), 1.0), 1).log_prob(
        t.tensor([0.0, float("nan")])),
    "tanh value": lambda D, t: D.TransformedDistribution(
        D.Normal(0.0, 1.0), [D.transforms.TanhTransform()]).log_prob(t.tensor(1.5)),
    "multivariate normal loc": lambda D, t: D.MultivariateNormal(
        t.tensor([0.0, float("nan")]), t.eye(2)),
    "uniform expanded": lambda D, t: D.Uniform(0.0, 1.0).expand([3]).log_prob(t.tensor(-1.0)),
    "binomial expanded": lambda D, t: D.Binomial(5, t.tensor([0.3])).expand([2]).log_prob(
        t.tensor(6.0)),
}


@pytest.mark.parametrize("name", list(_BAD))
def test_validation_as_pytorch(torch_validates, name):
    messages = []
    for t in (torch_validates, ft):
        with pytest.raises(ValueError) as caught:
            _BAD[name](t.distributions, t)
        messages.append(str(caught.value))
    assert messages[1] == messages[0]


def test_validate_args_switches_as_pytorch(torch_validates):
    for t in (torch_validates, ft):
        D = t.distributions
        assert D.Normal(0.0, 1.0)._validate_args is True
        assert D.Normal(0.0, 1.0, validate_args=False)._validate_args is False
        D.Normal(0.0, -1.0, validate_args=False).log_prob(t.tensor(float("nan")))
        previous = D.Distribution._validate_args  # saved and given back, as programs do
        assert previous is True
        D.Distribution.set_default_validate_args(False)
        try:
            assert D.Normal(0.0, 1.0)._validate_args is False
            assert D.Distribution._validate_args is False
            D.Uniform(1.0, 0.0).log_prob(t.tensor(5.0))
        finally:
            D.Distribution.set_default_validate_args(previous)


#: (registry, constraint): transform_to differs from biject_to only for the simplex
_REGISTERED = [("biject_to", c) for c in (
    "real", "positive", "greater_than(2.0)", "less_than(3.0)", "interval(-2.0, 5.0)",
    "unit_interval", "simplex", "independent(C.positive, 1)",
    "interval(t.tensor(0.0), t.tensor([1.0]))")] + [("transform_to", "simplex")]


def test_biject_to_and_transform_to_as_pytorch(torch):
    # the transform (its repr, domain and codomain), its values, inverse, log-Jacobian and
    # the gradient to the unconstrained value: a variational parameter kept in its region
    def run(t):
        C, out = t.distributions.constraints, []
        for registry, spec in _REGISTERED:
            constraint = eval(f"C.{spec}", {"C": C, "t": t})
            transform = getattr(t.distributions, registry)(constraint)
            x = t.tensor(X, requires_grad=True)
            y = transform(x)
            loss = y.sum()
            if transform.bijective:
                loss = loss + transform.log_abs_det_jacobian(x, y).sum()
            loss.backward()
            out.append((repr(transform), repr(transform.domain), repr(transform.codomain),
                        transform.bijective, constraint.check(y).all(), y,
                        transform.inv(y), x.grad))
        x = t.tensor(CORR, requires_grad=True)
        transform = t.distributions.biject_to(C.corr_cholesky)
        y = transform(x)
        (y.sum() + transform.log_abs_det_jacobian(x, y).sum()).backward()
        out.append((repr(transform), y, transform.inv(y), x.grad,
                    C.corr_cholesky.check(y).numpy().tolist()))
        return out

    theirs, ours = _both(torch, run)
    assert ours == theirs


def test_matrix_transforms_as_pytorch(torch):
    def run(t):
        C, out = t.distributions.constraints, []
        for constraint in (C.lower_cholesky, C.positive_definite):
            x = t.tensor(MATRICES, requires_grad=True)
            transform = t.distributions.transform_to(constraint)
            y = transform(x)
            y.sum().backward()
            out.append((repr(transform), y, transform.inv(y), x.grad,
                        constraint.check(y).numpy().tolist()))
        d = t.distributions.Dirichlet(t.ones(4))
        b = t.distributions.biject_to(d.support)
        z = b.inv(t.tensor([0.1, 0.2, 0.3, 0.4]))
        out.append((repr(b), z, b(z), b.forward_shape((3,)), b.inverse_shape((4,))))
        return out

    theirs, ours = _both(torch, run)
    assert ours == theirs


def test_registry_refusals_and_transform_algebra_as_pytorch(torch):
    def run(t):
        D, C, out = t.distributions, t.distributions.constraints, []
        for bad in (C.dependent, C.boolean, C.integer_interval(0, 3)):
            with pytest.raises(NotImplementedError) as caught:
                D.biject_to(bad)
            out.append(str(caught.value))
        with pytest.raises(TypeError, match="Expected constraint to be either"):
            D.constraint_registry.ConstraintRegistry().register(3, lambda c: c)
        for transform in (D.transforms.SoftmaxTransform(), D.transforms.AbsTransform()):
            with pytest.raises(NotImplementedError):  # no sign, as PyTorch's
                transform.sign  # noqa: B018
        T = D.transforms
        composed = T.ComposeTransform([T.ExpTransform(), T.AffineTransform(1.0, 2.0)])
        out.append((repr(composed.inv), composed.inv.inv is composed, composed.sign,
                    composed.event_dim, repr(T.ExpTransform().inv),
                    T.ExpTransform() == T.ExpTransform(), repr(T.identity_transform),
                    T.ExpTransform().inv.inv == T.ExpTransform()))
        independent = T.IndependentTransform(T.SigmoidTransform(), 1)
        x = t.tensor(X)
        out.append((repr(independent), independent.log_abs_det_jacobian(x, independent(x)),
                    repr(independent.domain), repr(independent.codomain)))
        # a registry of the program's own, and a constraint class of its own
        registry = D.constraint_registry.ConstraintRegistry()
        registry.register(C.positive, lambda c: T.ExpTransform())
        out.append(repr(registry(C.positive)))
        return out

    theirs, ours = _both(torch, run)
    assert ours == theirs
    with pytest.raises(NotImplementedError, match="CatTransform"):
        ft.distributions.biject_to(ft.distributions.constraints.cat([
            ft.distributions.constraints.real]))


def test_a_distribution_of_the_programs_own_as_pytorch(torch_validates):
    # a custom Distribution declaring arg_constraints and support, built with
    # broadcast_all, validating its arguments and values as PyTorch's base does, and an
    # ELBO's gradient reaching a scale kept positive through transform_to
    def run(t):
        D, C = t.distributions, t.distributions.constraints
        from_utils = D.utils.broadcast_all

        class Laplacian(D.Distribution):
            arg_constraints = {"loc": C.real, "scale": C.positive}
            support = C.real

            def __init__(self, loc, scale, validate_args=None):
                self.loc, self.scale = from_utils(loc, scale)
                super().__init__(self.loc.shape, validate_args=validate_args)

            def log_prob(self, value):
                if self._validate_args:
                    self._validate_sample(value)
                return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

        d = Laplacian(t.tensor([0.0, 1.0]), 2.0)
        out = [repr(d), tuple(d.batch_shape), d._validate_args,
               d.log_prob(t.tensor([0.5, 0.5]))]
        for bad in (lambda: Laplacian(t.tensor([0.0]), t.tensor([-1.0])),
                    lambda: d.log_prob(t.tensor([float("nan"), 0.0]))):
            with pytest.raises(ValueError) as caught:
                bad()
            out.append(str(caught.value))
        t.manual_seed(0)
        raw = t.zeros(3, requires_grad=True)
        loc = t.zeros(3, requires_grad=True)
        data = t.tensor([1.0, 2.0, 3.0])
        q = D.Normal(loc, D.transform_to(C.positive)(raw))
        z = q.rsample((4,))
        loss = -(D.Normal(z, 1.0).log_prob(data).sum(-1) - q.log_prob(z).sum(-1)).mean()
        loss.backward()
        out += [loss, raw.grad, loc.grad]
        return out

    theirs, ours = _both(torch_validates, run)
    assert ours == theirs


def test_lazy_parameters_of_the_programs_own_as_pytorch(torch_validates):
    # PyTorch's Bernoulli pattern: the parameter not given is a lazy_property, which the
    # argument check skips until it is read
    def run(t):
        D, C, U = t.distributions, t.distributions.constraints, t.distributions.utils

        class Coin(D.Distribution):
            arg_constraints = {"probs": C.unit_interval, "logits": C.real}
            support = C.boolean

            def __init__(self, probs=None, logits=None, validate_args=None):
                if probs is not None:
                    (self.probs,) = U.broadcast_all(probs)
                else:
                    (self.logits,) = U.broadcast_all(logits)
                given = self.probs if probs is not None else self.logits
                super().__init__(given.shape, validate_args=validate_args)

            @U.lazy_property
            def logits(self):
                return U.probs_to_logits(self.probs, is_binary=True)

            @U.lazy_property
            def probs(self):
                return U.logits_to_probs(self.logits, is_binary=True)

        coin = Coin(probs=t.tensor([0.2, 0.9]))
        out = [repr(coin), coin.logits, repr(coin), Coin(logits=t.tensor([0.0, 3.0])).probs,
               repr(D.relaxed_categorical.ExpRelaxedCategorical(
                   t.tensor(0.5), logits=t.zeros(3)).support)]
        for bad in (lambda: Coin(probs=t.tensor([1.2])),
                    lambda: Coin(logits=t.tensor([float("nan")]))):
            with pytest.raises(ValueError) as caught:
                bad()
            out.append(str(caught.value))
        return out

    theirs, ours = _both(torch_validates, run)
    assert ours == theirs


def test_base_class_helpers_of_a_programs_own_as_pytorch(torch_validates):
    # what a subclass's rsample and expand ask PyTorch's base for, and the warning of a
    # subclass without arg_constraints
    import warnings

    def run(t):
        D, C = t.distributions, t.distributions.constraints

        class Logistic(D.Distribution):
            arg_constraints = {"loc": C.real, "scale": C.positive}
            support = C.real

            def __init__(self, loc, scale, validate_args=None):
                self.loc, self.scale = D.utils.broadcast_all(loc, scale)
                super().__init__(self.loc.size(), validate_args=validate_args)

            def expand(self, batch_shape, _instance=None):
                new = self._get_checked_instance(Logistic, _instance)
                new.loc = self.loc.expand(batch_shape)
                new.scale = self.scale.expand(batch_shape)
                super(Logistic, new).__init__(t.Size(batch_shape), validate_args=False)
                new._validate_args = self._validate_args
                return new

        class Bare(D.Distribution):
            def __init__(self):
                super().__init__(t.Size([2]))

        d = Logistic(t.zeros(3), 2.0)
        e = d.expand([2, 3])
        out = [repr(d), d._batch_shape, d._event_shape, d._extended_shape((4,)), repr(e),
               e.batch_shape, e._validate_args]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bare = Bare()
        out.append([str(w.message) for w in caught])
        for name in ("arg_constraints", "support"):
            with pytest.raises(NotImplementedError):
                getattr(bare, name)
        return [str(v) for v in out]

    assert run(ft) == run(torch_validates)


def test_flows_of_event_transforms_as_pytorch(torch):
    # transforms over vectors reshape a TransformedDistribution as PyTorch's: the base made
    # Independent (a stick-breaking simplex, an affine flow of event_dim=1, a correlation
    # Cholesky factor), log_prob summing each log-Jacobian over its own event dimensions
    def run(t):
        T, D = t.distributions.transforms, t.distributions
        loc = t.zeros(2, requires_grad=True)
        log_scale = t.zeros(2, requires_grad=True)
        data = t.tensor([[0.3, -0.2], [0.5, 0.1]])
        flow = D.TransformedDistribution(D.Normal(t.zeros(2), 1.0), [
            T.AffineTransform(loc, log_scale.exp(), event_dim=1), T.TanhTransform()])
        loss = -flow.log_prob(data).mean()
        loss.backward()
        out = [tuple(flow.batch_shape), tuple(flow.event_shape), repr(flow.support), loss,
               loc.grad, log_scale.grad]
        for d in (D.TransformedDistribution(D.Normal(t.zeros(3), 1.0),
                                            T.StickBreakingTransform()),
                  D.TransformedDistribution(D.Normal(t.zeros(3), 1.0),
                                            [T.CorrCholeskyTransform()])):
            value = t.distributions.biject_to(d.support)(t.tensor(CORR[0]))
            out += [tuple(d.batch_shape), tuple(d.event_shape), repr(d.base_dist),
                    d.log_prob(value)]
        return out

    theirs, ours = _both(torch, run)
    assert ours == theirs


def test_imports_as_pytorch():
    # the spellings programs use
    from fnnet.torch.distributions.constraint_registry import ConstraintRegistry
    from fnnet.torch.distributions.constraints import Constraint, positive
    from fnnet.torch.distributions.transforms import ComposeTransform, StickBreakingTransform
    from fnnet.torch.distributions.utils import broadcast_all, lazy_property, probs_to_logits

    from fnnet.torch.distributions import biject_to, constraints, transform_to

    assert isinstance(positive, Constraint) and constraints.positive is positive
    assert isinstance(biject_to, ConstraintRegistry) and transform_to is not biject_to
    assert ComposeTransform and StickBreakingTransform and broadcast_all and lazy_property
    assert probs_to_logits(ft.tensor([0.5]), is_binary=True).item() == 0.0


def test_a_computed_parameter_is_not_read_unless_asked():
    # validation of a scale computed by the step would wait for the device at each step
    # (in a loop building a Normal per step, one more flush per step): only with
    # validate_args=True
    D = ft.distributions
    scale = ft.ones(2) - 2
    assert D.Normal(ft.zeros(2), scale).batch_shape == (2,)
    with pytest.raises(ValueError, match="Expected parameter scale"):
        D.Normal(ft.zeros(2), scale, validate_args=True)
    low = ft.zeros(2) + 1  # a computed bound: the support's check is skipped, not read
    assert D.Uniform(low, 3.0).log_prob(ft.tensor([0.5, 2.0])).shape == (2,)


def test_a_constraint_of_the_programs_own_as_pytorch(torch_validates):
    # a Constraint subclass with its own check, inside independent() and cat(), and as
    # the support a program's distribution validates its values against
    def run(t):
        D, C = t.distributions, t.distributions.constraints

        class Ordered(C.Constraint):
            event_dim = 1

            def check(self, value):
                return (value[..., 1:] > value[..., :-1]).all(-1)

        class Sorted(D.Distribution):
            arg_constraints = {}
            support = C.independent(Ordered(), 1)

            def __init__(self):
                super().__init__(t.Size(), t.Size([2, 2]))

            def log_prob(self, value):
                self._validate_sample(value)
                return value.sum((-1, -2))

        x = t.tensor([[[1.0, 2.0], [0.0, 3.0]], [[2.0, 1.0], [0.0, 1.0]]])
        out = [repr(Sorted.support), Sorted.support.check(x),
               C.cat([Ordered(), C.real_vector], dim=-1, lengths=[2, 2]).check(
                   t.tensor([[1.0, 2.0, 5.0, 0.0], [2.0, 1.0, 0.0, 0.0]])),
               Sorted().log_prob(t.tensor([[1.0, 2.0], [0.0, 3.0]]))]
        with pytest.raises(ValueError) as caught:
            Sorted().log_prob(t.tensor([[2.0, 1.0], [0.0, 1.0]]))
        return out + [str(caught.value)]

    theirs, ours = _both(torch_validates, run)
    assert ours == theirs


def test_an_empty_batch_is_refused_as_pytorch(torch):
    # an independent constraint's check of no events reshapes 0 elements with a -1, which
    # PyTorch refuses as ambiguous (jax's reshape divided by zero)
    messages = []
    for t in (torch, ft):
        with pytest.raises(RuntimeError) as caught:
            t.distributions.constraints.real_vector.check(t.zeros(0, 3))
        messages.append(str(caught.value))
        assert tuple(t.zeros(0, 3).reshape(-1, 3).shape) == (0, 3)
    assert messages[1] == messages[0]
