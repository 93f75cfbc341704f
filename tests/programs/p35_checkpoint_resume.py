"""Training with gradient clipping (clip_grad_norm_'s returned norm, clip_grad_value_)
and a StepLR, then a checkpoint dictionary with the epoch, model, optimizer and
scheduler state (its keys printed) saved with torch.save and resumed; the resumed run
continues exactly as the uninterrupted one."""

import os
import tempfile

import torch
from _harness import fixed_init, normal
from torch import nn
from torch.optim.lr_scheduler import StepLR

X = torch.from_numpy(normal(40, 4, seed=360)) * 3
Y = torch.from_numpy(normal(40, 1, seed=361))


def make():
    model = fixed_init(nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1)))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9, weight_decay=1e-4)
    return model, optimizer, StepLR(optimizer, step_size=2, gamma=0.5)


def run(model, optimizer, scheduler, start, stop):
    for epoch in range(start, stop):
        model.train()
        optimizer.zero_grad()
        loss = nn.MSELoss()(model(X), Y)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.1)
        optimizer.step()
        scheduler.step()
        print(f"epoch {epoch} loss {loss.item():.6f} norm {norm.item():.5f} "
              f"lr {scheduler.get_last_lr()[0]:.4f}")
    return loss


model, optimizer, scheduler = make()
loss = run(model, optimizer, scheduler, 0, 3)
path = os.path.join(tempfile.mkdtemp(), "checkpoint.tar")
torch.save({"epoch": 3, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "scheduler_state_dict": scheduler.state_dict(), "loss": loss}, path)
print("scheduler state:", sorted(scheduler.state_dict()))
run(model, optimizer, scheduler, 3, 5)
resumed, optimizer2, scheduler2 = make()
checkpoint = torch.load(path)
resumed.load_state_dict(checkpoint["model_state_dict"])
optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
scheduler2.load_state_dict(checkpoint["scheduler_state_dict"])
print("resumed at", checkpoint["epoch"], round(checkpoint["loss"].item(), 6))
run(resumed, optimizer2, scheduler2, checkpoint["epoch"], 5)
pairs = zip(model.parameters(), resumed.parameters(), strict=True)
print("same:", all(torch.allclose(a, b) for a, b in pairs))
