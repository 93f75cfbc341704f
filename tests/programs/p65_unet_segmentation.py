"""Semantic segmentation with a small U-Net as a computer-vision course builds it: double
3x3 convolutions with BatchNorm, max-pooling on the way down, ``nn.ConvTranspose2d`` on the
way up with the encoder's features concatenated back in (the skip connections), a 1x1
head, a soft Dice loss written by hand added to ``BCEWithLogitsLoss(pos_weight=...)``, and
the intersection-over-union of the thresholded masks. Images of discs on noise come from
numpy."""
# tolerance: 1e-3 and
# atol: 1e-4 (Adam divides by sqrt(v): convolution gradients summed in another order differ
# by 1e-9, a large relative step where BatchNorm leaves a weight's gradient near zero)

import numpy as np
import torch
import torch.nn.functional as F
from _harness import fixed_init
from torch import nn

rng = np.random.default_rng(65)
size = 16
yy, xx = np.mgrid[:size, :size]
images, masks = [], []
for _ in range(24):
    cy, cx, r = rng.uniform(4, 12), rng.uniform(4, 12), rng.uniform(2, 5)
    disc = ((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r).astype(np.float32)
    images.append(disc * 0.8 + rng.normal(0, 0.3, (size, size)))
    masks.append(disc)
images = torch.from_numpy(np.stack(images)[:, None].astype(np.float32))
masks = torch.from_numpy(np.stack(masks)[:, None])
train_x, train_y, val_x, val_y = images[:16], masks[:16], images[16:], masks[16:]
print("foreground fraction", round(masks.mean().item(), 4))


def double_conv(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True), nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self, base=4):
        super().__init__()
        self.down1 = double_conv(1, base)
        self.down2 = double_conv(base, base * 2)
        self.bottom = double_conv(base * 2, base * 4)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(base * 4, base * 2, kernel_size=2, stride=2)
        self.dec2 = double_conv(base * 4, base * 2)
        self.up1 = nn.ConvTranspose2d(base * 2, base, kernel_size=2, stride=2)
        self.dec1 = double_conv(base * 2, base)
        self.head = nn.Conv2d(base, 1, kernel_size=1)

    def forward(self, x):
        s1 = self.down1(x)
        s2 = self.down2(self.pool(s1))
        b = self.bottom(self.pool(s2))
        d2 = self.dec2(torch.cat([self.up2(b), s2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), s1], dim=1))
        return self.head(d1)


def dice_loss(logits, target, eps=1.0):
    probs = torch.sigmoid(logits)
    inter = (probs * target).sum(dim=(1, 2, 3))
    union = probs.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3))
    return 1 - ((2 * inter + eps) / (union + eps)).mean()


def iou(logits, target):
    pred = logits > 0
    inter = (pred & target.bool()).sum().item()
    union = (pred | target.bool()).sum().item()
    return inter / max(union, 1)


model = fixed_init(UNet())
print("parameters", sum(p.numel() for p in model.parameters()))
pos_weight = (1 - train_y.mean()) / train_y.mean()
bce = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
# Adam's usual rate for a U-Net (0.03 amplified the convolutions' rounding past the
# tolerance on some CPUs)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(6):
    model.train()
    running = 0.0
    for i in range(0, len(train_x), 8):
        x, y = train_x[i:i + 8], train_y[i:i + 8]
        logits = model(x)
        loss = bce(logits, y) + dice_loss(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running += loss.item()
    model.eval()
    with torch.no_grad():
        val_logits = model(val_x)
        val_loss = bce(val_logits, val_y) + dice_loss(val_logits, val_y)
    print(f"epoch {epoch}: train {running / 2:.4f} val {val_loss.item():.4f} "
          f"iou {iou(val_logits, val_y):.3f}")

out = val_logits[:1]
up = F.interpolate(out, scale_factor=2, mode="nearest")
print(tuple(out.shape), tuple(up.shape), round(model.down1[1].running_var.mean().item(), 4))
