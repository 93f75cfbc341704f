"""A convolutional denoising autoencoder on real MNIST digits, as a blog post writes it:
noisy inputs ``img + noise_factor * noise`` clipped with ``torch.clip`` (the noise comes
from numpy so both backends see the same), an encoder of strided convolutions and a
decoder of ``ConvTranspose2d`` with ``output_padding``, ``nn.Sequential`` inside a module,
MSELoss against the clean images, Adam with weight decay, a validation loss per epoch,
and a PSNR of the denoised images."""
# data: mnist


import numpy as np
import torch
import torch.nn as nn
from _harness import fixed_init, mnist
from torch.utils.data import DataLoader, TensorDataset

images, _ = mnist(384, offset=1000)
train_ds = TensorDataset(torch.from_numpy(images[:320]))
val_images = torch.from_numpy(images[320:])
train_loader = DataLoader(train_ds, batch_size=32)
rng = np.random.default_rng(1)
noise_factor = 0.3


def add_noise(inputs, noise_factor=0.3):
    noise = torch.from_numpy(rng.standard_normal(tuple(inputs.shape)).astype(np.float32))
    noisy = inputs + noise_factor * noise
    return torch.clip(noisy, 0.0, 1.0)


class Encoder(nn.Module):
    def __init__(self, encoded_space_dim):
        super().__init__()
        self.encoder_cnn = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1),
            nn.ReLU(True),
            nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(True),
            nn.Conv2d(16, 32, 3, stride=2, padding=0),
            nn.ReLU(True),
        )
        self.flatten = nn.Flatten(start_dim=1)
        self.encoder_lin = nn.Sequential(nn.Linear(3 * 3 * 32, 64), nn.ReLU(True),
                                         nn.Linear(64, encoded_space_dim))

    def forward(self, x):
        x = self.encoder_cnn(x)
        x = self.flatten(x)
        return self.encoder_lin(x)


class Decoder(nn.Module):
    def __init__(self, encoded_space_dim):
        super().__init__()
        self.decoder_lin = nn.Sequential(nn.Linear(encoded_space_dim, 64), nn.ReLU(True),
                                         nn.Linear(64, 3 * 3 * 32), nn.ReLU(True))
        self.unflatten = nn.Unflatten(dim=1, unflattened_size=(32, 3, 3))
        self.decoder_conv = nn.Sequential(
            nn.ConvTranspose2d(32, 16, 3, stride=2, output_padding=0, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(True),
            nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(True),
            nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1),
        )

    def forward(self, x):
        x = self.decoder_lin(x)
        x = self.unflatten(x)
        x = self.decoder_conv(x)
        return torch.sigmoid(x)


encoder = fixed_init(Encoder(encoded_space_dim=4), seed=1)
decoder = fixed_init(Decoder(encoded_space_dim=4), seed=2)
loss_fn = torch.nn.MSELoss()
params_to_optimize = [{"params": encoder.parameters()}, {"params": decoder.parameters()}]
optim = torch.optim.Adam(params_to_optimize, lr=1e-3, weight_decay=1e-5)


def train_epoch_den(encoder, decoder, dataloader, loss_fn, optimizer, noise_factor=0.3):
    encoder.train()
    decoder.train()
    train_loss = []
    for (image_batch,) in dataloader:
        image_noisy = add_noise(image_batch, noise_factor)
        encoded_data = encoder(image_noisy)
        decoded_data = decoder(encoded_data)
        loss = loss_fn(decoded_data, image_batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        train_loss.append(loss.detach().cpu().numpy())
    return np.mean(train_loss)


def test_epoch_den(encoder, decoder, images, loss_fn, noise_factor=0.3):
    encoder.eval()
    decoder.eval()
    with torch.no_grad():
        image_noisy = add_noise(images, noise_factor)
        decoded = decoder(encoder(image_noisy))
        val_loss = loss_fn(decoded.cpu(), images.cpu())
    return val_loss.data, decoded


for epoch in range(3):
    train_loss = train_epoch_den(encoder, decoder, train_loader, loss_fn, optim, noise_factor)
    val_loss, decoded = test_epoch_den(encoder, decoder, val_images, loss_fn, noise_factor)
    mse = ((decoded - val_images) ** 2).mean(dim=(1, 2, 3))
    psnr = (10 * torch.log10(1.0 / mse)).mean()
    print(f"\n EPOCH {epoch + 1}/{3} \t train loss {train_loss:.5f} \t "
          f"val loss {val_loss:.5f} \t PSNR {psnr.item():.3f}")
print(decoder.decoder_conv[1].running_mean[:4])
