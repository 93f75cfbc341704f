"""Conv1d over sequences with LayerNorm, GELU, LeakyReLU, LogSoftmax and NLLLoss."""

import torch
from _harness import fixed_init, labels, normal
from torch import nn

X = torch.from_numpy(normal(12, 3, 16, seed=22))  # [N, channels, length]
y = torch.from_numpy(labels(12, 4, seed=23))


class SeqConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 6, kernel_size=3, padding=1, bias=False)  # normalised out
        self.norm = nn.LayerNorm(16)
        self.act = nn.GELU()
        self.conv2 = nn.Conv1d(6, 4, kernel_size=5, stride=2)
        self.leaky = nn.LeakyReLU(0.1)
        self.skip = nn.Identity()
        self.head = nn.Linear(4 * 6, 4)
        self.log_softmax = nn.LogSoftmax(dim=1)

    def forward(self, x):
        x = self.act(self.norm(self.conv(x)))
        x = self.leaky(self.conv2(self.skip(x)))
        return self.log_softmax(self.head(x.flatten(1)))


model = fixed_init(SeqConv())
opt = torch.optim.Adam(model.parameters(), lr=0.01)
criterion = nn.NLLLoss()
for step in range(15):
    opt.zero_grad()
    loss = criterion(model(X), y)
    loss.backward()
    opt.step()
    if step % 5 == 4:
        print(f"step {step}: {loss.item():.6f}")
print(model.conv2, model.norm, model.act)
