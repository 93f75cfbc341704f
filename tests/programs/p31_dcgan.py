"""A small DCGAN: a generator of transposed convolutions with BatchNorm, a convolutional
discriminator with LeakyReLU, BCELoss, Adam with betas=(0.5, 0.999), and the usual
alternating updates with fake.detach() for the discriminator's step."""

import numpy as np
import torch
from _harness import fixed_init, normal
from torch import nn

LATENT, BATCH = 8, 16
rng = np.random.default_rng(31)
# "real" 8x8 images: soft diagonal stripes with random phase, in [-1, 1]
grid = np.add.outer(np.arange(8), np.arange(8)).astype(np.float32)
phases = rng.uniform(0, 2 * np.pi, (64, 1, 1)).astype(np.float32)
real_images = torch.from_numpy(np.sin(grid[None] * 0.8 + phases)[:, None].astype(np.float32))


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(LATENT, 16, 4, 1, 0, bias=False),  # -> 16 x 4 x 4
            nn.BatchNorm2d(16),
            nn.ReLU(True),
            nn.ConvTranspose2d(16, 1, 4, 2, 1, bias=False),  # -> 1 x 8 x 8
            nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, 16, 4, 2, 1, bias=False),  # -> 16 x 4 x 4
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(16, 1, 4, 1, 0, bias=False),  # -> 1 x 1 x 1
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x).view(-1)


netG, netD = fixed_init(Generator(), seed=1), fixed_init(Discriminator(), seed=2)
print(netG)
criterion = nn.BCELoss()
optD = torch.optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
optG = torch.optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
fixed_noise = torch.from_numpy(normal(4, LATENT, 1, 1, seed=7))
real_label, fake_label = 1.0, 0.0

for step in range(4):
    real = real_images[step * BATCH:(step + 1) * BATCH]
    noise = torch.from_numpy(normal(BATCH, LATENT, 1, 1, seed=100 + step))
    # (1) discriminator: maximise log(D(x)) + log(1 - D(G(z)))
    netD.zero_grad()
    label = torch.full((BATCH,), real_label, dtype=torch.float)
    output = netD(real)
    errD_real = criterion(output, label)
    errD_real.backward()
    D_x = output.mean().item()
    fake = netG(noise)
    label.fill_(fake_label)
    output = netD(fake.detach())
    errD_fake = criterion(output, label)
    errD_fake.backward()
    D_G_z1 = output.mean().item()
    errD = errD_real + errD_fake
    optD.step()
    # (2) generator: maximise log(D(G(z)))
    netG.zero_grad()
    label.fill_(real_label)
    output = netD(fake)
    errG = criterion(output, label)
    errG.backward()
    D_G_z2 = output.mean().item()
    optG.step()
    print(f"[{step}] Loss_D {errD.item():.4f} Loss_G {errG.item():.4f} "
          f"D(x) {D_x:.4f} D(G(z)) {D_G_z1:.4f} / {D_G_z2:.4f}")

netG.eval()
with torch.no_grad():
    samples = netG(fixed_noise)
print("samples", tuple(samples.shape), f"mean {samples.mean().item():.5f}",
      f"range [{samples.min().item():.4f}, {samples.max().item():.4f}]")
