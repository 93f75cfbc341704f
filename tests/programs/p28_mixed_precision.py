"""The mixed-precision training loop as device-agnostic tutorials write it: autocast and
a GradScaler that are active on a GPU and off on the CPU, with gradient clipping after
unscale_ and a OneCycleLR schedule that also cycles SGD's momentum."""

import torch
from _harness import fixed_init, normal
from torch import nn

device = "cuda" if torch.cuda.is_available() else "cpu"
use_amp = device == "cuda"
print("device", device, "amp", use_amp)

X = torch.from_numpy(normal(128, 6, seed=28)).to(device)
Y = (X[:, :1] * 2 - X[:, 1:2] + 0.5 * X[:, 2:3] ** 2).to(device)

model = fixed_init(nn.Sequential(nn.Linear(6, 32), nn.GELU(), nn.Linear(32, 1)), seed=28)
model = model.to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
steps_per_epoch, epochs = 4, 5
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, epochs=epochs,
                                                steps_per_epoch=steps_per_epoch)
scaler = torch.amp.GradScaler(device, enabled=use_amp)
loss_fn = nn.MSELoss()

for epoch in range(epochs):
    for i in range(steps_per_epoch):
        xb, yb = X[i * 32:(i + 1) * 32], Y[i * 32:(i + 1) * 32]
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=use_amp):
            loss = loss_fn(model(xb), yb)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
    group = optimizer.param_groups[0]
    print(f"epoch {epoch} loss {loss.item():.5f} lr {group['lr']:.5f} "
          f"momentum {group['momentum']:.4f} scale {scaler.get_scale()}")


@torch.autocast(device_type=device, enabled=False)
def evaluate(x):
    return loss_fn(model(x), Y)


with torch.no_grad():
    print(f"final mse {evaluate(X).item():.5f}")
checkpoint = {"model": model.state_dict(), "scaler": scaler.state_dict()}
print(sorted(checkpoint), checkpoint["scaler"])
