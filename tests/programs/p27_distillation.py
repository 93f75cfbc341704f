"""Knowledge distillation: a small student learns from a larger teacher's softened
outputs with nn.KLDivLoss(reduction="batchmean") plus the usual cross-entropy."""

import torch
import torch.nn.functional as F
from _harness import fixed_init, labels, normal
from torch import nn

X = torch.from_numpy(normal(96, 10, seed=27))
Y = torch.from_numpy(labels(96, 4, seed=27))

teacher = fixed_init(nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 4)), seed=1)
student = fixed_init(nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 4)), seed=2)

# the teacher first learns the labels
opt = torch.optim.SGD(teacher.parameters(), lr=0.5)
for _ in range(30):
    opt.zero_grad()
    loss = F.cross_entropy(teacher(X), Y)
    loss.backward()
    opt.step()
print(f"teacher loss {loss.item():.5f}")
teacher.eval()

T, alpha = 3.0, 0.7
kl = nn.KLDivLoss(reduction="batchmean")
opt = torch.optim.Adam(student.parameters(), lr=0.02)
for epoch in range(3):
    for i in range(0, 96, 32):
        xb, yb = X[i:i + 32], Y[i:i + 32]
        with torch.no_grad():
            soft_targets = F.softmax(teacher(xb) / T, dim=1)
        logits = student(xb)
        distill = kl(F.log_softmax(logits / T, dim=1), soft_targets) * T * T
        hard = F.cross_entropy(logits, yb)
        loss = alpha * distill + (1 - alpha) * hard
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"epoch {epoch} distill {distill.item():.5f} hard {hard.item():.5f}")

# the other reductions and log-space targets give the same divergence per sample
with torch.no_grad():
    log_p = F.log_softmax(student(X), dim=1)
    log_q = F.log_softmax(teacher(X), dim=1)
    per_sample = F.kl_div(log_p, log_q, reduction="sum", log_target=True) / len(X)
    print(f"batchmean {F.kl_div(log_p, log_q.exp(), reduction='batchmean').item():.6f}")
    print(f"sum / N   {per_sample.item():.6f}")
    print(F.kl_div(log_p[:2], log_q[:2].exp(), reduction="none").sum(dim=1))
    agreement = (student(X).argmax(1) == teacher(X).argmax(1)).float().mean()
print("agreement with teacher", agreement.item())
