"""A matrix-factorisation recommender as practitioners write one: user and item tables
(and their biases) as nn.Embedding(sparse=True) trained by torch.optim.SparseAdam, which
moves only the rows a batch looked up, a dense global bias trained by SGD beside it, a
DataLoader over (user, item, rating) triples, then RMSE and top-k recommendations with
the items already rated masked out. Ratings from numpy."""

import numpy as np
import torch
from _harness import fixed_init
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(60)
users, items = 6, 9
taste = rng.normal(size=(users, 2)) @ rng.normal(size=(2, items))
pairs = rng.choice(users * items, size=30, replace=False)
u = torch.from_numpy((pairs // items).astype(np.int64))
i = torch.from_numpy((pairs % items).astype(np.int64))
r = torch.from_numpy((3 + taste.ravel()[pairs]).astype(np.float32))
print(len(r), round(r.mean().item(), 4))


class MF(nn.Module):
    def __init__(self, dim=3):
        super().__init__()
        self.user = nn.Embedding(users, dim, sparse=True)
        self.item = nn.Embedding(items, dim, sparse=True)
        self.user_bias = nn.Embedding(users, 1, sparse=True)
        self.item_bias = nn.Embedding(items, 1, sparse=True)
        self.mean = nn.Parameter(torch.tensor(3.0))

    def forward(self, u, i):
        dot = (self.user(u) * self.item(i)).sum(-1)
        return dot + self.user_bias(u).squeeze(-1) + self.item_bias(i).squeeze(-1) + self.mean


model = fixed_init(MF())
print(model.user)
tables = [p for name, p in model.named_parameters() if name != "mean"]
sparse_opt = torch.optim.SparseAdam(tables, lr=0.05)
dense_opt = torch.optim.SGD([model.mean], lr=0.05)
loader = DataLoader(TensorDataset(u, i, r), batch_size=10)
for epoch in range(4):
    total = 0.0
    for bu, bi, br in loader:
        loss = nn.functional.mse_loss(model(bu, bi), br)
        sparse_opt.zero_grad()
        dense_opt.zero_grad()
        loss.backward()
        sparse_opt.step()
        dense_opt.step()
        total += loss.item() * len(br)
    print(epoch, round(total / len(r), 5))

state = sparse_opt.state_dict()["state"][1]
print(sorted(state), state["step"], state["exp_avg"].abs().sum(1))
with torch.no_grad():
    rmse = (model(u, i) - r).pow(2).mean().sqrt()
    scores = model.user.weight @ model.item.weight.T + model.item_bias.weight.T
    seen = torch.zeros(users, items, dtype=torch.bool)
    seen[u, i] = True
    top = scores.masked_fill(seen, float("-inf")).topk(2, dim=1)
print(round(rmse.item(), 5), top.indices[:3].tolist(), top.values[:3])
