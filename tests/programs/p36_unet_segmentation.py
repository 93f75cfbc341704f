"""A small U-Net for segmentation: reflect- and circular-padded convolutions, a strided
convolution down and a transposed convolution up, joined to the encoder by torch.cat, a
per-pixel CrossEntropyLoss with class weights and an ignored border label (255),
channels_last, and pixel accuracy / IoU computed with boolean masks."""

import torch
from _harness import fixed_init, labels, normal
from torch import nn


class UNet(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, padding_mode="reflect"),
                                  nn.ReLU(inplace=True))
        self.enc2 = nn.Sequential(nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(8, 4, kernel_size=2, stride=2)
        self.dec = nn.Conv2d(8, n_classes, 3, padding=1, padding_mode="circular")

    def forward(self, x):
        e1 = self.enc1(x)
        return self.dec(torch.cat([self.up(self.enc2(e1)), e1], dim=1))


model = fixed_init(UNet(), seed=36).to(memory_format=torch.channels_last)
print(model.enc1, model.dec)
images = torch.from_numpy(normal(4, 1, 8, 8, seed=360))
masks = torch.from_numpy(labels(4 * 8 * 8, 3, seed=361)).view(4, 8, 8)
masks[:, 0, :] = 255  # the annotation's unlabelled border
criterion = nn.CrossEntropyLoss(weight=torch.tensor([0.5, 1.0, 2.0]), ignore_index=255)
optimizer = torch.optim.SGD(model.parameters(), lr=0.2)

for step in range(3):
    logits = model(images.contiguous(memory_format=torch.channels_last))
    loss = criterion(logits, masks)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(f"step {step} loss {loss.item():.5f}")

pred = logits.detach().argmax(dim=1)
valid = masks != 255
acc = (pred[valid] == masks[valid]).float().mean()
inter = ((pred == 1) & (masks == 1)).sum()
union = ((pred == 1) | (masks == 1)).sum()
print(f"pixel acc {acc.item():.4f} IoU(class 1) {(inter / union).item():.4f}")
