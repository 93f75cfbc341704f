"""Fine-tuning a "pretrained" network as a course teaches it, on real MNIST digits: a
backbone trained first on digits 0-4 and saved, then reused for all ten digits with its
convolutions frozen (``param.requires_grad = False``), a new head, an optimizer over
``filter(lambda p: p.requires_grad, model.parameters())`` later replaced by two parameter
groups with two learning rates once the last block is unfrozen, gradient accumulation
(``loss / accum_steps``, a step every few batches) with ``clip_grad_norm_``, a StepLR,
early stopping that keeps ``copy.deepcopy(model.state_dict())`` of the best epoch and
loads it back, and the metrics code users write: argmax accuracy, top-3 accuracy with
``topk``, a confusion matrix by ``torch.bincount``, per-class recall with ``torch.where``
guarding empty classes, and ``torch.unique`` counts."""
# data: mnist

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from _harness import fixed_init, mnist
from torch.utils.data import DataLoader, Subset, TensorDataset

images, labels = mnist(1200, offset=4000)
dataset = TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
train_set = Subset(dataset, range(0, 900))
val_set = Subset(dataset, range(900, 1200))
low = [i for i in range(900) if labels[i] < 5]
pretrain_loader = DataLoader(Subset(dataset, low), batch_size=50)
train_loader = DataLoader(train_set, batch_size=25)
val_loader = DataLoader(val_set, batch_size=100)
device = "cuda" if torch.cuda.is_available() else "cpu"


class SmallNet(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.block = nn.Sequential(nn.Flatten(), nn.Linear(16 * 7 * 7, 64), nn.ReLU())
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.fc(self.block(self.features(x)))


backbone = fixed_init(SmallNet(num_classes=5), seed=9).to(device)
opt = torch.optim.SGD(backbone.parameters(), lr=0.05, momentum=0.9)
for epoch in range(2):
    for x, y in pretrain_loader:
        opt.zero_grad()
        loss = F.cross_entropy(backbone(x.to(device)), y.to(device))
        loss.backward()
        opt.step()
    print(f"pretrain epoch {epoch} loss {loss.item():.4f}")
pretrained_weights = copy.deepcopy(backbone.state_dict())

model = SmallNet(num_classes=5)
model.load_state_dict(pretrained_weights)
for param in model.parameters():
    param.requires_grad = False
model.fc = nn.Linear(model.fc.in_features, 10)
fixed_init(model.fc, seed=10)
model = model.to(device)
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
total = sum(p.numel() for p in model.parameters())
print(f"trainable {trainable} / {total}")
print([name for name, p in model.named_parameters() if p.requires_grad])

criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1,
                            momentum=0.9)


def evaluate(model, loader):
    model.eval()
    correct, correct3, total, loss_sum = 0, 0, 0, 0.0
    preds, targets = [], []
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            out = model(x)
            loss_sum += criterion(out, y).item() * y.size(0)
            pred = out.argmax(dim=1)
            correct += (pred == y).sum().item()
            _, top3 = out.topk(3, dim=1)
            correct3 += top3.eq(y.unsqueeze(1)).any(dim=1).sum().item()
            total += y.size(0)
            preds.append(pred.cpu())
            targets.append(y.cpu())
    return loss_sum / total, correct / total, correct3 / total, torch.cat(preds), torch.cat(targets)


accum_steps = 3
best_loss, best_state, best_epoch, patience, bad_epochs = float("inf"), None, -1, 2, 0
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
for epoch in range(8):
    if epoch == 2:
        for param in model.block.parameters():
            param.requires_grad = True
        optimizer = torch.optim.SGD([
            {"params": model.block.parameters(), "lr": 0.01},
            {"params": model.fc.parameters()},
        ], lr=0.05, momentum=0.9)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        print("unfroze block:", [g["lr"] for g in optimizer.param_groups])
    model.train()
    optimizer.zero_grad()
    norms = []
    for i, (x, y) in enumerate(train_loader):
        x, y = x.to(device), y.to(device)
        loss = criterion(model(x), y) / accum_steps
        loss.backward()
        if (i + 1) % accum_steps == 0:
            total_norm = torch.nn.utils.clip_grad_norm_(
                [p for p in model.parameters() if p.requires_grad], max_norm=1.0)
            norms.append(total_norm.item())
            optimizer.step()
            optimizer.zero_grad()
    scheduler.step()
    val_loss, acc, acc3, preds, targets = evaluate(model, val_loader)
    print(f"epoch {epoch} lr {scheduler.get_last_lr()} val_loss {val_loss:.4f} acc {acc:.4f} "
          f"top3 {acc3:.4f} mean grad norm {np.mean(norms):.4f}")
    if val_loss < best_loss - 1e-4:
        best_loss, best_epoch, bad_epochs = val_loss, epoch, 0
        best_state = copy.deepcopy(model.state_dict())
    else:
        bad_epochs += 1
        if bad_epochs >= patience:
            print(f"early stopping at epoch {epoch}, best epoch {best_epoch}")
            break

model.load_state_dict(best_state)
val_loss, acc, acc3, preds, targets = evaluate(model, val_loader)
print(f"restored best: val_loss {val_loss:.4f} acc {acc:.4f}")
num_classes = 10
confusion = torch.bincount(targets * num_classes + preds, minlength=num_classes ** 2)
confusion = confusion.reshape(num_classes, num_classes)
print(confusion)
support = confusion.sum(dim=1)
recall = torch.where(support > 0, confusion.diag().float() / support.clamp(min=1).float(),
                     torch.zeros(num_classes))
precision = confusion.diag().float() / confusion.sum(dim=0).clamp(min=1).float()
f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall),
                 torch.tensor(0.0))
print("recall", [round(r, 3) for r in recall.tolist()])
print(f"macro F1 {f1.mean().item():.4f}")
values, counts = torch.unique(preds, return_counts=True)
print(dict(zip(values.tolist(), counts.tolist(), strict=False)))
worst = torch.argsort(recall)[:3]
print("hardest digits", worst.tolist())
