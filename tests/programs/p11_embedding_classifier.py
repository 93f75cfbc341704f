"""A bag-of-embeddings text classifier (Embedding with a padding index)."""

import numpy as np
import torch
from _harness import fixed_init, labels
from torch import nn

VOCAB, PAD = 30, 0
rng = np.random.default_rng(5)
tokens = torch.from_numpy(rng.integers(1, VOCAB, (24, 7)).astype(np.int64))
tokens[:, 5:] = PAD
classes = torch.from_numpy(labels(24, 2, seed=6))


class TextClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.fc = nn.Linear(embed_dim, num_class)

    def forward(self, text):
        embedded = self.embedding(text)
        mask = (text != PAD).unsqueeze(-1).float()
        return self.fc((embedded * mask).sum(1) / mask.sum(1))


model = fixed_init(TextClassifier(VOCAB, 8, 2))
with torch.no_grad():
    model.embedding.weight[PAD] = 0
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
criterion = nn.CrossEntropyLoss()
for epoch in range(15):
    optimizer.zero_grad()
    loss = criterion(model(tokens), classes)
    loss.backward()
    optimizer.step()
    if epoch % 3 == 2:
        print(f"epoch {epoch} loss {loss.item():.6f}")
print("padding row stays zero:", model.embedding.weight[PAD].abs().sum().item())
