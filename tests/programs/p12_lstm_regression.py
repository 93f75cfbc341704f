"""An LSTM (batch_first, two layers) predicting the next value of sine waves."""

import numpy as np
import torch
from _harness import fixed_init
from torch import nn

t = np.linspace(0, 4 * np.pi, 41, dtype=np.float32)
phases = np.linspace(0, 1, 8, dtype=np.float32)[:, None]
waves = np.sin(t[None, :] + phases).astype(np.float32)
X = torch.from_numpy(waves[:, :-1, None])
Y = torch.from_numpy(waves[:, 1:, None])


class SeqModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=12, num_layers=2, batch_first=True)
        self.head = nn.Linear(12, 1)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.head(out)


model = fixed_init(SeqModel())
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
loss_fn = nn.MSELoss()
for step in range(25):
    optimizer.zero_grad()
    loss = loss_fn(model(X), Y)
    loss.backward()
    optimizer.step()
    if step % 5 == 4:
        print(f"step {step} mse {loss.item():.6f}")
