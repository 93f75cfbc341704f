"""A variational autoencoder on real MNIST digits as a course writes it: an encoder to
``mu`` and ``logvar``, the reparameterisation trick (``std = torch.exp(0.5 * logvar)``,
``mu + eps * std``; the noise comes from numpy so both backends draw the same), a decoder
with a sigmoid, the loss ``F.binary_cross_entropy(..., reduction='sum')`` plus the KL
term, an Adam loop over a DataLoader of a TensorDataset, a test loss under ``no_grad``,
and samples decoded from prior draws."""
# data: mnist

import numpy as np
import torch
import torch.nn.functional as F
from _harness import fixed_init, mnist, normal
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

images, digits = mnist(640)
train_set = TensorDataset(torch.from_numpy(images[:512]), torch.from_numpy(digits[:512]))
train_loader = DataLoader(train_set, batch_size=64, shuffle=False)
test_images = torch.from_numpy(images[512:])
noise = np.random.default_rng(0)


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 200)
        self.fc21 = nn.Linear(200, 10)
        self.fc22 = nn.Linear(200, 10)
        self.fc3 = nn.Linear(10, 200)
        self.fc4 = nn.Linear(200, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.from_numpy(noise.standard_normal(std.shape).astype(np.float32))
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


model = fixed_init(VAE(), seed=3)
optimizer = optim.Adam(model.parameters(), lr=1e-3)


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def train(epoch):
    model.train()
    train_loss = 0
    for batch_idx, (data, _) in enumerate(train_loader):
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
        if batch_idx % 4 == 0:
            seen, total = batch_idx * len(data), len(train_loader.dataset)
            print(f"Train Epoch: {epoch} [{seen}/{total} "
                  f"({100.0 * batch_idx / len(train_loader):.0f}%)]\t"
                  f"Loss: {loss.item() / len(data):.6f}")
    print(f"====> Epoch: {epoch} Average loss: {train_loss / len(train_loader.dataset):.4f}")


def test(epoch):
    model.eval()
    test_loss = 0
    with torch.no_grad():
        for i in range(0, len(test_images), 64):
            data = test_images[i:i + 64]
            recon_batch, mu, logvar = model(data)
            test_loss += loss_function(recon_batch, data, mu, logvar).item()
            if i == 0:
                n = min(data.size(0), 8)
                comparison = torch.cat([data[:n], recon_batch.view(64, 1, 28, 28)[:n]])
                print("comparison", tuple(comparison.shape), f"{comparison.mean().item():.4f}")
    test_loss /= len(test_images)
    print(f"====> Test set loss: {test_loss:.4f}")


for epoch in range(1, 4):
    train(epoch)
    test(epoch)
    with torch.no_grad():
        sample = torch.from_numpy(normal(16, 10, seed=epoch))
        sample = model.decode(sample).cpu()
        print("sample", tuple(sample.view(16, 1, 28, 28).shape), f"{sample.mean().item():.4f}",
              f"{sample.std().item():.4f}")
