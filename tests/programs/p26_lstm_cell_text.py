"""A text classifier that unrolls nn.LSTMCell over the tokens by hand, as courses do
before introducing nn.LSTM: embedding, one cell step per token, the last hidden state
to a linear head."""

import numpy as np
import torch
from _harness import fixed_init
from torch import nn

VOCAB, LENGTH, BATCH = 12, 7, 16
rng = np.random.default_rng(26)
tokens = rng.integers(1, VOCAB, (64, LENGTH))
# the label: does token 3 come before token 5 in the sentence?
first3 = np.where(tokens == 3, np.arange(LENGTH), LENGTH).min(1)
first5 = np.where(tokens == 5, np.arange(LENGTH), LENGTH).min(1)
labels = (first3 < first5).astype(np.int64)
X, Y = torch.from_numpy(tokens), torch.from_numpy(labels)


class CellClassifier(nn.Module):
    def __init__(self, vocab, embed_dim, hidden, classes):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed_dim)
        self.cell = nn.LSTMCell(embed_dim, hidden)
        self.head = nn.Linear(hidden, classes)
        self.hidden = hidden

    def forward(self, x):
        emb = self.embed(x)  # [N, T, E]
        h = torch.zeros(x.size(0), self.hidden)
        c = torch.zeros(x.size(0), self.hidden)
        for t in range(x.size(1)):
            h, c = self.cell(emb[:, t], (h, c))
        return self.head(h)


model = fixed_init(CellClassifier(VOCAB, 8, 16, 2), seed=26)
print(model)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
criterion = nn.CrossEntropyLoss()
for epoch in range(4):
    total = 0.0
    for i in range(0, len(X), BATCH):
        optimizer.zero_grad()
        loss = criterion(model(X[i:i + BATCH]), Y[i:i + BATCH])
        loss.backward()
        optimizer.step()
        total += loss.item()
    print(f"epoch {epoch} loss {total / (len(X) // BATCH):.5f}")

with torch.no_grad():
    predictions = model(X).argmax(dim=1)
print("accuracy", (predictions == Y).float().mean().item())

# a GRUCell and an RNNCell step by step with no initial state
gru, rnn = fixed_init(nn.GRUCell(4, 3), seed=1), fixed_init(nn.RNNCell(4, 3), seed=2)
x = torch.linspace(-1, 1, 8).reshape(2, 4)
h = None
for _ in range(3):
    h = gru(x, h)
print("gru", h)
print("rnn", rnn(x))
