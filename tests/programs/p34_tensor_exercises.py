"""Tensor exercises from the courses, printed: gather/scatter_, index_select,
masked_fill with -inf, where, topk/sort/max along a dim (their named results printed
whole), cumsum, bmm/einsum, repeat/expand, chunk/split, one_hot, pad, unfold windows,
flip/roll/clamp, and in-place writes through views (a row, a column, a transposed row,
pieces of chunk) as the initialisation and masking code does."""

import torch
import torch.nn.functional as F
from _harness import normal

x = torch.from_numpy(normal(3, 5, seed=350))
idx = torch.tensor([[0, 2], [1, 4], [3, 3]])
print("gather:", torch.gather(x, 1, idx))
print("scatter_:", torch.zeros(3, 5).scatter_(1, idx, 1.0))
print("index_select:", torch.index_select(x, 0, torch.tensor([2, 0])))
print("masked_fill:", x.masked_fill(x < 0, float("-inf")))
print("where:", torch.where(x > 0, x, torch.zeros_like(x)))
print(torch.topk(x, 2, dim=1))
print(x.max(dim=0))
print(torch.sort(x[0], descending=True))
print("cumsum:", torch.cumsum(x, dim=1)[2])
a = torch.from_numpy(normal(2, 3, 4, seed=351))
b = torch.from_numpy(normal(2, 4, 2, seed=352))
print("bmm:", torch.bmm(a, b))
print("einsum:", torch.einsum("bij,bjk->bik", a, b).sum().item())
print("repeat:", torch.tensor([1, 2]).repeat(2, 3), torch.tensor([[1], [2]]).expand(2, 3))
print("chunk/split:", [t.shape for t in x.chunk(3, dim=1)], [t.shape for t in x.split([1, 4], 1)])
print("one_hot:", F.one_hot(torch.tensor([0, 2, 1]), num_classes=4))
print("pad:", F.pad(torch.ones(2, 2), (1, 1, 0, 1), value=-1.0))
print("unfold:", torch.arange(8.0).unfold(0, 3, 2))
print("frames:", x.unfold(1, 2, 1).shape)
print("flip/roll:", torch.flip(x[0], dims=[0]), torch.roll(torch.arange(5), shifts=2))
print("clamp:", x.clamp(min=-0.5, max=0.5)[1])
print("infs:", torch.tensor([float("-inf"), 0.0, 0.0]), torch.tensor([float("nan"), 1.0, 2.0]))
print("scientific:", torch.tensor([1.0, 10000.0]))

w = torch.zeros(4, 3)
w[0].fill_(1.0)
w[:, 2].add_(2.0)
w.t()[1].copy_(torch.tensor([5.0, 6.0, 7.0, 8.0]))
w.chunk(2, dim=0)[1].mul_(10)
print("through views:", w)
scores = torch.from_numpy(normal(3, 3, seed=353))
scores.masked_fill_(torch.triu(torch.ones(3, 3), diagonal=1).bool(), float("-inf"))
print("causal softmax:", torch.softmax(scores, dim=-1))
with torch.no_grad():
    p = torch.ones(3, requires_grad=True)
    p.add_(2.0)
    p.mul_(torch.tensor([1.0, 2.0, 3.0]))
print("in place under no_grad:", p)
