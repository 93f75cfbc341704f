"""A toy speech recogniser trained with CTC, as a speech-processing tutorial builds one:
synthetic "utterances" whose frames carry each label's feature pattern for a few frames
with silence between, a ``Conv1d`` front end, a bidirectional ``GRU``, per-frame
``log_softmax`` fed time-major to ``nn.CTCLoss`` with padded targets and per-utterance
input and target lengths (the loss printed with its ``grad_fn``), gradient clipping,
then greedy decoding: the best class per frame, ``unique_consecutive`` to merge repeats
and the blanks dropped, scored against the transcripts."""

import numpy as np
import torch
import torch.nn.functional as F
from _harness import fixed_init
from torch import nn

BLANK, CLASSES, FEATURES, FRAMES = 0, 5, 6, 24
rng = np.random.default_rng(590)
patterns = rng.standard_normal((CLASSES, FEATURES)).astype(np.float32)


def utterance(labels):
    """Each label's pattern held for 2-3 frames, silence (noise) between and after."""
    frames = []
    for label in labels:
        frames += [0.1 * rng.standard_normal(FEATURES)] * int(rng.integers(1, 3))
        frames += [patterns[label] + 0.2 * rng.standard_normal(FEATURES)] * int(
            rng.integers(2, 4))
    length = len(frames)
    frames += [0.1 * rng.standard_normal(FEATURES)] * (FRAMES - length)
    return np.stack(frames).T.astype(np.float32), length


transcripts = [list(rng.integers(1, CLASSES, rng.integers(1, 4))) for _ in range(16)]
made = [utterance(t) for t in transcripts]
features = torch.from_numpy(np.stack([f for f, _ in made]))  # [N, FEATURES, FRAMES]
input_lengths = torch.tensor([n for _, n in made])
targets = torch.zeros(16, 3, dtype=torch.long)
for row, labels in enumerate(transcripts):
    targets[row, :len(labels)] = torch.tensor(labels)
target_lengths = torch.tensor([len(t) for t in transcripts])


class Recogniser(nn.Module):
    def __init__(self):
        super().__init__()
        self.front = nn.Conv1d(FEATURES, 16, kernel_size=3, padding=1)
        self.rnn = nn.GRU(16, 16, batch_first=True, bidirectional=True)
        self.out = nn.Linear(32, CLASSES)

    def forward(self, x):
        h = F.relu(self.front(x)).transpose(1, 2)  # [N, T, 16]
        h, _ = self.rnn(h)
        return self.out(h).log_softmax(-1)


model = fixed_init(Recogniser())
ctc = nn.CTCLoss(blank=BLANK, zero_infinity=True)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for step in range(20):
    log_probs = model(features)
    loss = ctc(log_probs.transpose(0, 1), targets, input_lengths, target_lengths)
    optimizer.zero_grad()
    loss.backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    optimizer.step()
    if step % 5 == 0:
        print(f"step {step:2d}", loss, f"grad norm {norm.item():.4f}")

per_utterance = F.ctc_loss(log_probs.detach().transpose(0, 1), targets, input_lengths,
                           target_lengths, reduction="none")
print("per utterance", per_utterance[:4])
with torch.no_grad():
    best = model(features).argmax(-1)
correct = 0
for row, (path, n) in enumerate(zip(best, input_lengths, strict=True)):
    merged = torch.unique_consecutive(path[:n])
    decoded = merged[merged != BLANK].tolist()
    correct += decoded == [int(v) for v in transcripts[row]]
    if row < 3:
        print(decoded, [int(v) for v in transcripts[row]])
print(f"exact transcripts {correct}/16")
