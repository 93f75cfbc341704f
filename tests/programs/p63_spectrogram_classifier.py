"""A keyword-spotting-style classifier on log-magnitude spectrograms, as audio tutorials
build one: synthetic "recordings" (a tone of one of four pitches with random phase and
loudness, a weaker second harmonic and noise), turned into spectrograms inside the model
by ``torch.stft`` with a Hann window, ``abs`` and a log, then a small ``Conv1d`` network
over time with frequency bins as channels, trained with Adam in minibatches; per-epoch
losses, the spectrogram's shape and dtypes, each class's dominant frequency found with
``torch.fft.rfft`` and ``rfftfreq``, and the accuracy on held-out recordings are printed."""

import numpy as np
import torch
import torch.nn.functional as F
from _harness import fixed_init
from torch import nn

RATE, SAMPLES, N_FFT, HOP = 800, 256, 64, 16
PITCHES = [50.0, 110.0, 180.0, 260.0]  # Hz: each is one class
rng = np.random.default_rng(630)


def recordings(n):
    labels = rng.integers(0, len(PITCHES), n)
    t = np.arange(SAMPLES) / RATE
    waves = []
    for label in labels:
        f, phase = PITCHES[label], rng.uniform(0, 2 * np.pi)
        loud = rng.uniform(0.5, 1.5)
        tone = loud * (np.sin(2 * np.pi * f * t + phase) + 0.3 * np.sin(4 * np.pi * f * t))
        waves.append(tone + 0.4 * rng.standard_normal(SAMPLES))
    return torch.from_numpy(np.stack(waves).astype(np.float32)), torch.from_numpy(labels)


train_x, train_y = recordings(48)
test_x, test_y = recordings(24)


class Spectrogram(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("window", torch.hann_window(N_FFT))

    def forward(self, wave):
        spec = torch.stft(wave, N_FFT, hop_length=HOP, window=self.window,
                          return_complex=True)  # [N, N_FFT // 2 + 1, frames]
        return torch.log(spec.abs() + 1e-6)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.spectrogram = Spectrogram()
        self.conv = nn.Conv1d(N_FFT // 2 + 1, 16, kernel_size=3, padding=1)
        self.out = nn.Linear(16, len(PITCHES))

    def forward(self, wave):
        features = self.spectrogram(wave)
        features = features - features.mean(dim=(1, 2), keepdim=True)
        h = F.relu(self.conv(features)).mean(-1)
        return self.out(h)


spec = torch.stft(train_x[:2], N_FFT, hop_length=HOP, window=torch.hann_window(N_FFT),
                  return_complex=True)
print("spectrogram", tuple(spec.shape), spec.dtype, spec.abs().dtype)
# each class's mean magnitude spectrum, through a one-hot matrix product
members = F.one_hot(train_y, len(PITCHES)).float()  # [N, classes]
class_spectra = members.T @ torch.fft.rfft(train_x).abs() / members.sum(0)[:, None]
freqs = torch.fft.rfftfreq(SAMPLES, d=1.0 / RATE)
print("dominant frequencies (Hz)", freqs[class_spectra.argmax(-1)].tolist())

model = fixed_init(Classifier())
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for epoch in range(6):
    total = 0.0
    for start in range(0, len(train_x), 16):
        x, y = train_x[start:start + 16], train_y[start:start + 16]
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    print(f"epoch {epoch}: loss {total / 3:.5f}")

with torch.no_grad():
    predicted = model(test_x).argmax(-1)
print(f"held-out accuracy {(predicted == test_y).float().mean().item():.3f}")
