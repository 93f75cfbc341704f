"""An Elman RNN (tanh) summing sequences, trained from hidden state to a number."""

import torch
from _harness import fixed_init, normal
from torch import nn

X = torch.from_numpy(normal(16, 6, 2, seed=24))  # batch_first
Y = X.sum(dim=(1, 2)).unsqueeze(1)


class Summer(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(2, 16, batch_first=True, nonlinearity="tanh")
        self.fc = nn.Linear(16, 1)

    def forward(self, x, h0=None):
        out, h = self.rnn(x, h0)
        return self.fc(out[:, -1, :])


model = fixed_init(Summer())
opt = torch.optim.RMSprop(model.parameters(), lr=0.005)
h0 = torch.zeros(1, 16, 16)
for step in range(30):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(X, h0), Y)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if step % 10 == 9:
        print(step, f"{loss.item():.5f}")
