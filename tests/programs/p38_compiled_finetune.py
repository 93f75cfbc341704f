"""Fine-tuning as current blog posts write it: model = torch.compile(model), a frozen
convolutional backbone with a replaced head (model.fc = nn.Linear(...)), parameter
groups without weight decay for biases and norms, gradient accumulation (loss / k, a step
every k batches, the last short batch included) with clip_grad_norm_'s returned norm,
ChainedScheduler(ConstantLR warm-up, ExponentialLR), and the compiled model's checkpoint
keys."""

import torch
from _harness import fixed_init, labels, normal
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class SmallNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 6, 3, padding=2, dilation=2, groups=3, bias=False), nn.BatchNorm2d(6),
            nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(6, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


model = fixed_init(SmallNet(), seed=38)
for p in model.features[:2].parameters():
    p.requires_grad = False
model.fc = nn.Linear(model.fc.in_features, 4)
fixed_init(model.fc, seed=380)
print("trainable", sum(p.numel() for p in model.parameters() if p.requires_grad), "of",
      sum(p.numel() for p in model.parameters()))
model = torch.compile(model)
print(type(model).__name__, type(model._orig_mod).__name__)

decay, no_decay = [], []
for name, p in model.named_parameters():
    if not p.requires_grad:
        continue
    (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                               {"params": no_decay, "weight_decay": 0.0}], lr=0.05)
scheduler = torch.optim.lr_scheduler.ChainedScheduler([
    torch.optim.lr_scheduler.ConstantLR(optimizer, factor=0.25, total_iters=2),
    torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.8)])
images = torch.from_numpy(normal(18, 3, 6, 6, seed=381))
targets = torch.from_numpy(labels(18, 4, seed=382))
train = DataLoader(TensorDataset(images, targets), batch_size=4)  # 4+4+4+4+2
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
accumulate = 2
optimizer.zero_grad(set_to_none=False)
step = 0
for i, (xb, yb) in enumerate(train):
    loss = criterion(model(xb), yb) / accumulate
    loss.backward()
    if (i + 1) % accumulate == 0 or i + 1 == len(train):
        norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)
        scheduler.step()
        step += 1
        print(f"step {step} batch {i} size {len(xb)} loss {loss.item() * accumulate:.5f} "
              f"grad norm {norm.item():.5f} lr {[round(v, 6) for v in scheduler.get_last_lr()]}")
print("frozen grads", model.features[0].weight.grad, "head grad zeroed",
      model.fc.weight.grad.abs().sum().item())
print(list(model.state_dict())[:2])
