"""Metric learning as a course on siamese networks teaches it: one embedding network shared
by both branches, a contrastive pair loss written with ``F.pairwise_distance`` and a margin,
``nn.CosineEmbeddingLoss`` on +1/-1 pair labels, then ``nn.TripletMarginLoss`` on
(anchor, positive, negative) triples with the hardest negative of the batch mined from
``torch.cdist``, and finally nearest-neighbour retrieval accuracy on held-out points.
Points from four Gaussian clusters come from numpy."""

import numpy as np
import torch
import torch.nn.functional as F
from _harness import fixed_init
from torch import nn

rng = np.random.default_rng(66)
centres = rng.normal(0, 2.0, (4, 6))
labels = np.repeat(np.arange(4), 12)
points = (centres[labels] + rng.normal(0, 1.0, (48, 6))).astype(np.float32)
order = rng.permutation(48)
x, y = torch.from_numpy(points[order]), torch.from_numpy(labels[order])
train_x, train_y, test_x, test_y = x[:32], y[:32], x[32:], y[32:]


class EmbeddingNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 16), nn.PReLU(), nn.Linear(16, 4))

    def forward(self, x):
        return self.net(x)


class SiameseNet(nn.Module):
    def __init__(self, embedding):
        super().__init__()
        self.embedding = embedding

    def forward(self, a, b):
        return self.embedding(a), self.embedding(b)


def contrastive_loss(e1, e2, same, margin=2.0):
    d = F.pairwise_distance(e1, e2)
    return (same * d.pow(2) + (1 - same) * F.relu(margin - d).pow(2)).mean() / 2


pair_rng = np.random.default_rng(1)
first = torch.from_numpy(pair_rng.integers(0, 32, 64))
second = torch.from_numpy(pair_rng.integers(0, 32, 64))
same = (train_y[first] == train_y[second]).float()
print("pairs", len(first), "same", int(same.sum().item()))

siamese = fixed_init(SiameseNet(EmbeddingNet()), seed=1)
cosine = nn.CosineEmbeddingLoss(margin=0.2)
optimizer = torch.optim.Adam(siamese.parameters(), lr=0.01)
for epoch in range(4):
    e1, e2 = siamese(train_x[first], train_x[second])
    loss_c = contrastive_loss(e1, e2, same)
    loss_cos = cosine(e1, e2, same * 2 - 1)
    loss = loss_c + loss_cos
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(f"siamese {epoch}: contrastive {loss_c.item():.4f} cosine {loss_cos.item():.4f}")

embed = siamese.embedding
triplet = nn.TripletMarginLoss(margin=1.0, p=2)
optimizer = torch.optim.SGD(embed.parameters(), lr=0.05, momentum=0.9)
for epoch in range(5):
    emb = embed(train_x)
    with torch.no_grad():
        dist = torch.cdist(emb, emb)
        same_class = train_y[:, None] == train_y[None, :]
        positive = dist.masked_fill(~same_class | torch.eye(32, dtype=torch.bool), -1).argmax(1)
        negative = dist.masked_fill(same_class, float("inf")).argmin(1)
    loss = triplet(emb, emb[positive], emb[negative])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(f"triplet {epoch}: {loss.item():.4f}")

embed.eval()
with torch.no_grad():
    gallery, queries = embed(train_x), embed(test_x)
    nearest = torch.cdist(queries, gallery).argmin(dim=1)
    accuracy = (train_y[nearest] == test_y).float().mean()
    sims = F.cosine_similarity(queries[:4, None], gallery[None, :6], dim=-1)
print("retrieval accuracy", accuracy.item())
print(sims)
