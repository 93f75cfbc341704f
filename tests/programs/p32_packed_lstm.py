"""Sentences of different lengths for a classifier, as the NLP tutorials batch them:
pad_sequence, an Embedding with padding_idx (its row zeroed through .data[...]),
pack_padded_sequence with enforce_sorted=False into a bidirectional LSTM, the final
forward and backward states concatenated, and pad_packed_sequence for the per-step
outputs."""

import torch
from _harness import fixed_init, labels
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

seqs = [torch.tensor([3, 5, 2, 7]), torch.tensor([4, 1]), torch.tensor([6, 6, 2, 1]),
        torch.tensor([1, 2])]
lengths = torch.tensor([len(s) for s in seqs])
padded = pad_sequence(seqs, batch_first=True, padding_value=0)
print(padded, lengths.tolist())


class Classifier(nn.Module):
    def __init__(self, vocab=8, emb=5, hidden=6, classes=3):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, classes)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(self.embedding(x), lengths, batch_first=True,
                                      enforce_sorted=False)
        out, (h, c) = self.lstm(packed)
        out, out_lengths = pad_packed_sequence(out, batch_first=True)
        return self.fc(torch.cat([h[-2], h[-1]], dim=1)), out, out_lengths


model = fixed_init(Classifier())
model.embedding.weight.data[0].zero_()
y = torch.from_numpy(labels(4, 3, seed=330))
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
for step in range(3):
    logits, out, out_lengths = model(padded, lengths)
    loss = nn.functional.cross_entropy(logits, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(step, round(loss.item(), 6), tuple(out.shape), out_lengths.tolist())
padding_grad = model.embedding.weight.grad[0].abs().sum()
padding_row = model.embedding.weight[0].abs().sum()
past_the_end = out[1, 2:].abs().sum()
print("padding row grad:", padding_grad.item(), "padding row:", padding_row.item(),
      "outputs past the end:", past_the_end.item())
