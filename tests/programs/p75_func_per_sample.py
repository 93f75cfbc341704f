"""The ``torch.func`` API as the model-ensembling and per-sample-gradient recipes use it:
``functional_call`` to run a module on a dictionary of detached parameters, ``grad`` of a
per-example loss turned into per-sample gradients by ``vmap`` over the batch
(``in_dims=(None, 0, 0)``) and checked against a loop of ordinary ``backward`` calls,
per-sample gradient clipping and noise in the manner of DP-SGD (noise from numpy),
``jacrev`` and ``vmap(jacrev)`` for batched input Jacobians, ``hessian`` of a scalar
function, and an ensemble of models whose stacked parameters are vmapped over."""

import numpy as np
import torch
import torch.nn.functional as F
from _harness import fixed_init, labels, normal
from torch import nn
from torch.func import functional_call, grad, hessian, jacrev, vmap

x = torch.from_numpy(normal(12, 5, seed=75))
y = torch.from_numpy(labels(12, 3, seed=76))
model = fixed_init(nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)), seed=11)
params = {k: v.detach() for k, v in model.named_parameters()}


def loss_one(params, sample, target):
    out = functional_call(model, params, (sample.unsqueeze(0),))
    return F.cross_entropy(out, target.unsqueeze(0))


per_sample = vmap(grad(loss_one), in_dims=(None, 0, 0))(params, x, y)
print({k: tuple(v.shape) for k, v in per_sample.items()})

loop = []
for i in range(len(x)):
    model.zero_grad()
    F.cross_entropy(model(x[i:i + 1]), y[i:i + 1]).backward()
    loop.append(model[0].weight.grad.clone())
print("vmap matches the loop", torch.allclose(per_sample["0.weight"], torch.stack(loop),
                                              atol=1e-6))

noise_rng = np.random.default_rng(0)
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
for step in range(4):
    params = {k: v.detach() for k, v in model.named_parameters()}
    grads = vmap(grad(loss_one), in_dims=(None, 0, 0))(params, x, y)
    norms = torch.stack([g.flatten(1).norm(dim=1) for g in grads.values()]).norm(dim=0)
    scale = (1.0 / norms).clamp(max=1.0)
    for name, p in model.named_parameters():
        clipped = (grads[name] * scale.view(-1, *[1] * (grads[name].dim() - 1))).sum(0)
        noise = torch.from_numpy(noise_rng.normal(0, 0.05, tuple(p.shape)).astype(np.float32))
        p.grad = (clipped + noise) / len(x)
    optimizer.step()
    with torch.no_grad():
        loss = F.cross_entropy(model(x), y)
    print(f"dp-sgd {step}: loss {loss.item():.4f} max norm {norms.max().item():.4f} "
          f"clipped {(norms > 1).sum().item()}")


def f(v):
    return torch.stack([v[0] * v[1], torch.sin(v[2]), v.pow(2).sum()])


print(jacrev(f)(torch.tensor([1.0, 2.0, 0.5])))
batch_jac = vmap(jacrev(f))(x[:4, :3])
print(tuple(batch_jac.shape), batch_jac[1])
print(hessian(lambda v: (v ** 3).sum() + v[0] * v[1])(torch.tensor([1.0, -1.0])))

members = [fixed_init(nn.Linear(5, 2), seed=20 + k) for k in range(3)]
stacked = {k: torch.stack([m.state_dict()[k] for m in members]) for k in members[0].state_dict()}


def run_member(p, inputs):
    return functional_call(members[0], p, (inputs,))


ensemble_out = vmap(run_member, in_dims=(0, None))(stacked, x[:4])
print(tuple(ensemble_out.shape), torch.allclose(ensemble_out[2], members[2](x[:4])))
print(ensemble_out.mean(0))
