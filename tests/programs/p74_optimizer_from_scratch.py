"""Optimizers written from scratch by subclassing ``torch.optim.Optimizer``, as a course on
optimisation has students do: ``defaults`` and ``param_groups``, per-parameter ``state``
created lazily, an ``@torch.no_grad()`` ``step(closure=None)`` that updates in place with
``add_``, ``mul_``, ``addcdiv_`` and ``lerp_``, SGD with momentum and Adam checked against
the library's own for the same steps, a learning rate changed through ``param_groups``, a
scheduler driving the custom optimizer, and its ``state_dict`` saved and loaded into a new
instance built with ``add_param_group`` that continues identically. Data from numpy."""

import copy
import math

import torch
import torch.nn.functional as F
from _harness import fixed_init, labels, normal
from torch import nn


class MomentumSGD(torch.optim.Optimizer):
    def __init__(self, params, lr=0.1, momentum=0.9, weight_decay=0.0):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad.add(p, alpha=group["weight_decay"])
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = d_p.clone()
                else:
                    state["momentum_buffer"].mul_(group["momentum"]).add_(d_p)
                p.add_(state["momentum_buffer"], alpha=-group["lr"])
        return loss


class ScratchAdam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                state["exp_avg"].lerp_(p.grad, 1 - beta1)
                state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                bias1 = 1 - beta1 ** state["step"]
                bias2 = 1 - beta2 ** state["step"]
                denom = (state["exp_avg_sq"].sqrt() / math.sqrt(bias2)).add_(group["eps"])
                p.addcdiv_(state["exp_avg"], denom, value=-group["lr"] / bias1)


x = torch.from_numpy(normal(40, 4, seed=74))
y = torch.from_numpy(labels(40, 3, seed=75))


def make_model(seed):
    return fixed_init(nn.Sequential(nn.Linear(4, 12), nn.Tanh(), nn.Linear(12, 3)), seed=seed)


def train(model, optimizer, steps, scheduler=None):
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return loss.item()


for name, ours, theirs in [
        ("sgd", lambda p: MomentumSGD(p, lr=0.1, weight_decay=1e-3),
         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3)),
        ("adam", lambda p: ScratchAdam(p, lr=0.02), lambda p: torch.optim.Adam(p, lr=0.02))]:
    mine, reference = make_model(1), make_model(1)
    loss_mine = train(mine, ours(mine.parameters()), 8)
    loss_ref = train(reference, theirs(reference.parameters()), 8)
    gap = max((a - b).abs().max().item()
              for a, b in zip(mine.parameters(), reference.parameters(), strict=True))
    print(name, round(loss_mine, 5), round(loss_ref, 5), "agree", gap < 1e-5)

model = make_model(2)
optimizer = ScratchAdam([{"params": model[0].parameters()},
                         {"params": model[2].parameters(), "lr": 0.01}], lr=0.03)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
print(train(model, optimizer, 5, scheduler) > 0, [g["lr"] for g in optimizer.param_groups])
saved = optimizer.state_dict()
print(sorted(saved["state"][0]), saved["state"][0]["step"], saved["param_groups"][1]["params"])

twin = make_model(2)
twin.load_state_dict(model.state_dict())
twin_opt = ScratchAdam(twin[0].parameters(), lr=0.03)
twin_opt.add_param_group({"params": twin[2].parameters(), "lr": 0.01})
twin_opt.load_state_dict(copy.deepcopy(saved))  # the state's tensors, not shared ones
for group in optimizer.param_groups + twin_opt.param_groups:
    group["lr"] *= 0.5
a, b = train(model, optimizer, 3), train(twin, twin_opt, 3)
print(f"continued {a:.5f} {b:.5f}", torch.equal(model[0].weight, twin[0].weight))
try:
    MomentumSGD(model.parameters(), lr=-1)
except ValueError as e:
    print("ValueError:", e)
