"""The text-classification tutorial's shape: a Counter vocabulary, a collate_fn that
flattens each batch's token ids with the offsets of its bags, nn.EmbeddingBag, gradient
clipping and StepLR; a dataset of (label, text) tuples, default collation of tuples with
strings, and DataLoader(batch_size=None)."""

from collections import Counter

import torch
from _harness import fixed_init
from torch import nn
from torch.utils.data import DataLoader

train = [(1, "good movie great acting"), (0, "bad plot terrible acting"), (1, "great fun"),
         (0, "terrible boring bad"), (1, "fun good plot"), (0, "boring"),
         (1, "great great movie"), (0, "bad acting bad plot")]
counter = Counter()
for _, text in train:
    counter.update(text.split())
vocab = {"<unk>": 0}
for word, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
    vocab[word] = len(vocab)
print("vocab:", len(vocab), counter.most_common(3))


def collate_batch(batch):
    labels, texts, offsets = [], [], [0]
    for label, text in batch:
        ids = torch.tensor([vocab.get(w, 0) for w in text.split()], dtype=torch.int64)
        labels.append(label)
        texts.append(ids)
        offsets.append(ids.size(0))
    offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
    return torch.tensor(labels, dtype=torch.int64), torch.cat(texts), offsets


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim)
        self.fc = nn.Linear(embed_dim, num_class)

    def forward(self, text, offsets):
        return self.fc(self.embedding(text, offsets))


model = fixed_init(TextClassificationModel(len(vocab), 8, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=4.0)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.5)
criterion = nn.CrossEntropyLoss()
loader = DataLoader(train, batch_size=4, shuffle=False, collate_fn=collate_batch)
for epoch in range(3):
    correct, count = 0, 0
    for label, text, offsets in loader:
        predicted = model(text, offsets)
        loss = criterion(predicted, label)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        correct += (predicted.argmax(1) == label).sum().item()
        count += label.size(0)
    scheduler.step()
    print(f"epoch {epoch}: accuracy {correct / count:.3f} loss {loss.item():.5f}",
          scheduler.get_last_lr())

bag = nn.EmbeddingBag(5, 3, mode="sum", padding_idx=0)
with torch.no_grad():
    bag.weight.copy_(torch.arange(15.0).view(5, 3))
    print(bag(torch.tensor([1, 0, 2, 4, 3]), torch.tensor([0, 2]),
              per_sample_weights=torch.tensor([1.0, 9.0, 2.0, 0.5, -1.0])))
    print(nn.EmbeddingBag(5, 3, mode="max")(torch.tensor([[0, 1], [2, 4]])).shape)
batch = next(iter(DataLoader(train, batch_size=3)))
print(batch)
for label, text in DataLoader(train[:2], batch_size=None):
    print(label, text)
