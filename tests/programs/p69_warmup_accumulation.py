"""The learning-rate and gradient habits of transformer training scripts: linear warmup
then cosine annealing with warm restarts joined by ``SequentialLR``, a second optimizer
whose ``ChainedScheduler`` applies ``ExponentialLR`` and a ``MultiplicativeLR`` together,
gradients accumulated over micro-batches (each loss divided by the number of steps) and
clipped with ``clip_grad_norm_`` (whose returned total norm is logged) and
``clip_grad_value_``, ``get_last_lr`` per step, and the scheduler's ``state_dict`` saved
and loaded into a fresh one. Regression data come from numpy."""

import torch
import torch.nn.functional as F
from _harness import fixed_init, normal
from torch import nn
from torch.optim.lr_scheduler import (
    ChainedScheduler,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LinearLR,
    MultiplicativeLR,
    SequentialLR,
)

x = torch.from_numpy(normal(64, 5, seed=69))
w_true = torch.from_numpy(normal(5, 1, seed=70))
y = torch.tanh(x @ w_true) + 0.05 * torch.from_numpy(normal(64, 1, seed=71))

model = fixed_init(nn.Sequential(nn.Linear(5, 16), nn.GELU(), nn.Linear(16, 1)), seed=2)
optimizer = torch.optim.AdamW(model.parameters(), lr=0.02, weight_decay=0.01)
warmup = LinearLR(optimizer, start_factor=0.1, end_factor=1.0, total_iters=3)
restarts = CosineAnnealingWarmRestarts(optimizer, T_0=4, T_mult=2, eta_min=1e-4)
scheduler = SequentialLR(optimizer, schedulers=[warmup, restarts], milestones=[3])

accumulation, micro = 4, 8
for step in range(10):
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for k in range(accumulation):
        start = (step * accumulation + k) * micro % 64
        loss = F.mse_loss(model(x[start:start + micro]), y[start:start + micro])
        (loss / accumulation).backward()
        total += loss.item() / accumulation
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
    optimizer.step()
    lr = scheduler.get_last_lr()[0]
    scheduler.step()
    print(f"step {step}: loss {total:.5f} grad norm {norm.item():.4f} lr {lr:.6f}")

saved = scheduler.state_dict()
fresh = SequentialLR(optimizer, [LinearLR(optimizer, 0.1, total_iters=3),
                                 CosineAnnealingWarmRestarts(optimizer, T_0=4, T_mult=2,
                                                             eta_min=1e-4)], milestones=[3])
fresh.load_state_dict(saved)
print("restored", fresh.last_epoch, [round(v, 6) for v in fresh.get_last_lr()])

head = fixed_init(nn.Linear(5, 1), seed=3)
sgd = torch.optim.SGD(head.parameters(), lr=0.1, momentum=0.5)
chained = ChainedScheduler([ExponentialLR(sgd, gamma=0.9),
                            MultiplicativeLR(sgd, lr_lambda=lambda epoch: 0.95)])
for epoch in range(5):
    sgd.zero_grad()
    loss = F.l1_loss(head(x), y)
    loss.backward()
    torch.nn.utils.clip_grad_value_(head.parameters(), clip_value=0.2)
    sgd.step()
    chained.step()
    print(f"epoch {epoch}: l1 {loss.item():.5f} lr {sgd.param_groups[0]['lr']:.6f} "
          f"grad {head.weight.grad.abs().max().item():.3f}")
