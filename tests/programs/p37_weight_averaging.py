"""Weight averaging in a training loop: an EMA of the weights updated by hand under
no_grad (mul_ / add_ with alpha), then torch.optim.swa_utils: AveragedModel (SWA, and an
EMA by get_ema_multi_avg_fn), SWALR after a cosine phase, and update_bn to recompute the
averaged model's BatchNorm statistics from the loader."""

import copy

import torch
from _harness import fixed_init, normal
from torch import nn
from torch.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn, update_bn
from torch.utils.data import DataLoader, TensorDataset

X = torch.from_numpy(normal(48, 4, seed=370))
Y = torch.tanh(X @ torch.tensor([[1.0], [-0.5], [0.25], [2.0]]))
loader = DataLoader(TensorDataset(X, Y), batch_size=16)
model = fixed_init(nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(),
                                 nn.Linear(8, 1)), seed=37)
ema_model = copy.deepcopy(model)
for p in ema_model.parameters():
    p.requires_grad_(False)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=4)
loss_fn = nn.MSELoss()
decay = 0.8


def evaluate(m):
    m.eval()
    with torch.no_grad():
        out = loss_fn(m(X), Y).item()
    m.train()
    return out


for epoch in range(2):
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            for ema_p, p in zip(ema_model.parameters(), model.parameters(), strict=True):
                ema_p.mul_(decay).add_(p, alpha=1 - decay)
    cosine.step()
    print(f"epoch {epoch} loss {loss.item():.5f} lr {cosine.get_last_lr()[0]:.5f} "
          f"model {evaluate(model):.5f} ema {evaluate(ema_model):.5f}")

swa_model = AveragedModel(model)
ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
swa_scheduler = SWALR(optimizer, swa_lr=0.02, anneal_epochs=2, anneal_strategy="cos")
for epoch in range(2, 5):
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ema.update_parameters(model)
    swa_model.update_parameters(model)
    swa_scheduler.step()
    print(f"epoch {epoch} lr {optimizer.param_groups[0]['lr']:.5f} "
          f"averaged {swa_model.n_averaged.item()} ema {ema.n_averaged.item()}")

update_bn(loader, swa_model)
print(f"swa {evaluate(swa_model):.5f} ema {evaluate(ema):.5f} model {evaluate(model):.5f}")
print(list(swa_model.state_dict())[:3], swa_model.module[1].momentum)
