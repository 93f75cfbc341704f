"""A graph convolutional network (Kipf and Welling) for node classification, written as a
course on graph learning writes it without a graph library: an edge list made symmetric,
self-loops added, degrees counted with ``scatter_add``, the normalised adjacency
``D^-1/2 (A + I) D^-1/2`` filled in with ``index_put_(..., accumulate=True)`` (the dense
form of the sparse matrix that a larger graph would keep in ``torch.sparse``), a second
layer that aggregates neighbours edge by edge with ``index_add_`` instead, a loss on the
labelled nodes only (a boolean mask), and accuracy on the rest. A two-community graph
comes from numpy."""

import numpy as np
import torch
import torch.nn.functional as F
from _harness import fixed_init
from torch import nn

rng = np.random.default_rng(70)
nodes, features = 20, 6
community = (np.arange(nodes) >= nodes // 2).astype(np.int64)
edges = set()
while len(edges) < 36:
    a, b = rng.integers(0, nodes, 2)
    p_link = 0.8 if community[a] == community[b] else 0.1
    if a != b and rng.random() < p_link:
        edges.add((min(a, b), max(a, b)))
edge_index = torch.tensor(sorted(edges), dtype=torch.long).T
edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
loops = torch.arange(nodes).repeat(2, 1)
edge_index = torch.cat([edge_index, loops], dim=1)
src, dst = edge_index
x = torch.from_numpy((community[:, None] * 0.5 + rng.normal(0, 1, (nodes, features)))
                     .astype(np.float32))
y = torch.from_numpy(community)
train_mask = torch.zeros(nodes, dtype=torch.bool)
train_mask[[0, 1, 2, 10, 11, 12]] = True
print("edges", edge_index.shape[1], "train nodes", int(train_mask.sum()))

degree = torch.zeros(nodes).scatter_add(0, dst, torch.ones(dst.shape[0]))
norm = degree[src].rsqrt() * degree[dst].rsqrt()
adjacency = torch.zeros(nodes, nodes).index_put_((dst, src), norm, accumulate=True)
print("degrees", degree[:6].tolist(), "nonzero", adjacency.count_nonzero().item())


class GCN(nn.Module):
    def __init__(self, hidden=8, classes=2):
        super().__init__()
        self.lin1 = nn.Linear(features, hidden)
        self.lin2 = nn.Linear(hidden, classes)
        self.dropout = nn.Dropout(0.0)

    def forward(self, x):
        h = F.relu(adjacency @ self.lin1(x))
        h = self.dropout(h)
        messages = self.lin2(h)[src] * norm.unsqueeze(1)
        return torch.zeros(nodes, messages.shape[1]).index_add_(0, dst, messages)


model = fixed_init(GCN(), seed=4)
optimizer = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=5e-4)
for epoch in range(8):
    model.train()
    out = model(x)
    loss = F.cross_entropy(out[train_mask], y[train_mask])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    model.eval()
    with torch.no_grad():
        pred = model(x).argmax(dim=1)
        acc = (pred[~train_mask] == y[~train_mask]).float().mean().item()
    print(f"epoch {epoch}: loss {loss.item():.4f} test acc {acc:.3f}")

print(torch.allclose(adjacency, adjacency.T), round(adjacency.sum().item(), 4),
      torch.linalg.eigvalsh(adjacency).max().item() <= 1 + 1e-5)
with torch.no_grad():
    embeddings = F.relu(adjacency @ model.lin1(x))
print(embeddings[:3])
