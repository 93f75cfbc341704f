"""The functional autograd API as a numerical-methods course uses it:
``torch.autograd.functional.jacobian`` of a vector function (checked against finite
differences), ``hessian`` of a scalar function, Newton's method on the Rosenbrock
function with ``torch.linalg.solve``, ``vjp``/``jvp``/``hvp``/``vhp``, a Jacobian with
``create_graph=True`` differentiated again, the Gauss-Newton fit of an exponential decay,
``torch.autograd.grad`` with ``grad_outputs``, and the per-sample gradient norms of a
small model computed by looping ``torch.autograd.grad`` over examples."""

import torch
from _harness import fixed_init, normal
from torch.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp


def f(x):
    return torch.stack([x[0] ** 2 * x[1], 5 * x[0] + torch.sin(x[1]), x[1] ** 3])


x0 = torch.tensor([1.0, 2.0])
J = jacobian(f, x0)
print(J)
eps = 1e-3
fd = torch.stack([(f(x0 + eps * e) - f(x0 - eps * e)) / (2 * eps) for e in torch.eye(2)], dim=1)
print("finite differences agree", torch.allclose(J, fd, atol=1e-2))


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


# from (0.5, 0): from the classic (-1.2, 1), the second step magnifies a float32 rounding
# of the gradient (one unit in the last place) to 2e-4 in x, more than the corpus's 1e-4
x = torch.tensor([0.5, 0.0])
for it in range(6):
    g = jacobian(rosenbrock, x)
    H = hessian(rosenbrock, x)
    step = torch.linalg.solve(H, g)
    x = x - step
    print(f"newton {it}: x = {x.tolist()}, f = {rosenbrock(x).item():.6f}")
print(hessian(rosenbrock, torch.tensor([1.0, 1.0])))


def two_inputs(a, b):
    return (a * b).sum(), a ** 2 + b


a, b = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.5, -1.0, 2.0])
Ja, Jb = jacobian(lambda a, b: a ** 2 * b, (a, b))
print(Ja.diag(), Jb.diag())
out, vjp_val = vjp(lambda a: a ** 3, a, torch.ones(3))
print(out, vjp_val)
out, jvp_val = jvp(lambda a: a.exp().sum(), a, torch.tensor([1.0, 0.0, -1.0]))
print(out.item(), jvp_val.item())
v = torch.tensor([1.0, 1.0])
half = torch.tensor([0.5, 0.5])
print(hvp(rosenbrock, half, v)[1], vhp(rosenbrock, half, v)[1])

w = torch.tensor([0.3, -0.7], requires_grad=True)
Jw = jacobian(lambda w: torch.tanh(w * 2) * w, w, create_graph=True)
trace = Jw.trace()
trace.backward()
print("d trace(J)/dw", w.grad)

t = torch.linspace(0, 4, 20)
data = 2.5 * torch.exp(-0.8 * t) + torch.from_numpy(normal(20, seed=1)) * 0.01
theta = torch.tensor([1.0, 0.3])
for it in range(8):
    def residual(th):
        return th[0] * torch.exp(-th[1] * t) - data
    r = residual(theta)
    Jr = jacobian(residual, theta)
    delta = torch.linalg.lstsq(Jr, -r.unsqueeze(1)).solution.squeeze(1)
    theta = theta + delta
    if it % 2 == 1:
        rounded = [round(v, 5) for v in theta.tolist()]
        print(f"gauss-newton {it}: theta {rounded} rss {(r ** 2).sum().item():.6f}")

z = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
y = z ** 2
(gz,) = torch.autograd.grad(y, z, grad_outputs=torch.tensor([[1.0, 0.0], [0.5, 2.0]]))
print(gz)

model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
model = fixed_init(model, seed=2)
xs = torch.from_numpy(normal(5, 3, seed=3))
ys = torch.from_numpy(normal(5, 1, seed=4))
params = [p for p in model.parameters() if p.requires_grad]
norms = []
for i in range(xs.shape[0]):
    loss = torch.nn.functional.mse_loss(model(xs[i:i + 1]), ys[i:i + 1])
    grads = torch.autograd.grad(loss, params)
    norms.append(torch.sqrt(sum((g ** 2).sum() for g in grads)).item())
print("per-sample gradient norms", [round(n, 5) for n in norms])
