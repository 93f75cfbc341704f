"""A loop as blog posts write it around a DataLoader and TensorBoard: a Dataset of
variable-length sequences returning dicts, a padding collate_fn (pad_sequence, lengths),
the usual loader options, and a SummaryWriter logging the running loss, add_scalars
curves, histograms of the weights and their gradients and a text note; then what
TensorBoard's own reader finds in the run's folder (tags, steps, values)."""

import os
import tempfile

import torch
from _harness import fixed_init, normal
from tensorboard.backend.event_processing import event_accumulator
from torch import nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader, Dataset
from torch.utils.tensorboard import SummaryWriter

LENGTHS = [3, 5, 2, 6, 4, 1, 5, 3, 2, 4, 6, 3]


class Sequences(Dataset):
    def __init__(self):
        self.items = [torch.from_numpy(normal(n, 1, seed=430 + i))
                      for i, n in enumerate(LENGTHS)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, idx):
        seq = self.items[idx]
        return {"seq": seq, "label": int(seq.sum() > 0), "name": f"item{idx}"}


def pad_collate(batch):
    seqs = [sample["seq"] for sample in batch]
    lengths = torch.tensor([len(s) for s in seqs])
    labels = torch.tensor([sample["label"] for sample in batch])
    return pad_sequence(seqs, batch_first=True), lengths, labels, [s["name"] for s in batch]


class MeanPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(1, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x, lengths):
        h = torch.tanh(self.embed(x))  # [B, T, 8]
        mask = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).float()
        pooled = (h * mask[..., None]).sum(1) / lengths[:, None].float()
        return self.head(pooled)


loader = DataLoader(Sequences(), batch_size=4, shuffle=False, collate_fn=pad_collate,
                    drop_last=True, pin_memory=True)
print("batches", len(loader), "samples", len(loader.dataset))
model = fixed_init(MeanPool())
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
criterion = nn.CrossEntropyLoss()
logdir = os.path.join(tempfile.mkdtemp(), "runs", "exp_1")
with SummaryWriter(logdir) as writer:
    running_loss = 0.0
    for epoch in range(2):
        for i, (x, lengths, labels, names) in enumerate(loader, 0):
            optimizer.zero_grad()
            loss = criterion(model(x, lengths), labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            if i % 2 == 1:
                step = epoch * len(loader) + i
                writer.add_scalar("training loss", running_loss / 2, step)
                writer.add_scalars("loss", {"train": loss.item(), "half": loss.item() / 2},
                                   step)
                print(f"epoch {epoch} batch {i} {names[0]} loss {running_loss / 2:.5f}")
                running_loss = 0.0
        for name, param in model.named_parameters():
            writer.add_histogram(name, param, epoch)
            writer.add_histogram(f"{name}.grad", param.grad, epoch)
    writer.add_text("notes", f"lr={optimizer.param_groups[0]['lr']}", 0)

for run in [""] + sorted(os.listdir(logdir)):
    folder = os.path.join(logdir, run) if run else logdir
    if run and not os.path.isdir(folder):
        continue
    acc = event_accumulator.EventAccumulator(folder, {event_accumulator.HISTOGRAMS: 0})
    acc.Reload()
    tags = acc.Tags()
    print("run", run or ".", "scalars", sorted(tags["scalars"]))
    for tag in sorted(tags["scalars"]):
        print(" ", tag, [(e.step, round(e.value, 5)) for e in acc.Scalars(tag)])
    for tag in sorted(tags["histograms"]):
        values = [(e.step, e.histogram_value.num, round(e.histogram_value.min, 5),
                   round(e.histogram_value.max, 5)) for e in acc.Histograms(tag)]
        print(" ", tag, values)
    print("  text", sorted(tags["tensors"]))
