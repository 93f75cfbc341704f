"""Learning-rate schedulers stepped per epoch (and OneCycleLR per batch)."""

import torch
from _harness import fixed_init, normal
from torch import nn
from torch.optim import lr_scheduler

X = torch.from_numpy(normal(32, 4, seed=10))
Y = torch.from_numpy(normal(32, 1, seed=11))


def run(make_scheduler, epochs=6, per_batch=False, lr=0.1):
    model = fixed_init(nn.Linear(4, 1))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.0)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(epochs):
        for i in range(0, 32, 8):
            loss = nn.functional.mse_loss(model(X[i:i + 8]), Y[i:i + 8])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if per_batch:
                sched.step()
        if isinstance(sched, lr_scheduler.ReduceLROnPlateau):
            sched.step(loss.item())
        elif not per_batch:
            sched.step()
        lrs.append(round(opt.param_groups[0]["lr"], 8))
    return lrs, loss.item()


print(run(lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5)))
print(run(lambda o: lr_scheduler.MultiStepLR(o, milestones=[1, 4], gamma=0.1)))
print(run(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.8)))
print(run(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=6)))
print(run(lambda o: lr_scheduler.LambdaLR(o, lr_lambda=lambda e: 1 / (e + 1))))
print(run(lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.2, total_steps=24,
                                            cycle_momentum=False), per_batch=True))
print(run(lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=0), lr=0.3))
