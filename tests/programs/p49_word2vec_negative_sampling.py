"""Skip-gram word2vec with negative sampling, as a blog post builds it: a tokenised toy
corpus, a vocabulary by frequency, subsampling skipped for brevity, (centre, context)
pairs from a window, negatives drawn from the unigram distribution raised to 3/4 (by
numpy, so both backends draw the same), two ``nn.Embedding(sparse=False)`` tables with
the input table initialised ``uniform_(-0.5 / dim, 0.5 / dim)`` and the output one
zeroed, scores by ``torch.bmm``, the loss ``F.logsigmoid`` of positives and negated
negatives, SGD, and nearest neighbours by cosine similarity with ``topk``."""

from collections import Counter

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

text = ("the king rules the kingdom and the queen rules the kingdom . "
        "a man walks the dog and a woman walks the cat . "
        "the king and the queen live in a castle . the dog chases the cat . "
        "a man and a woman live in a house . the prince is the son of the king . "
        "the princess is the daughter of the queen . the cat sleeps in the house . ") * 3
tokens = text.split()
counts = Counter(tokens)
vocab = sorted(counts, key=lambda w: (-counts[w], w))
word2idx = {w: i for i, w in enumerate(vocab)}
idx2word = {i: w for w, i in word2idx.items()}
vocab_size = len(vocab)
print("tokens", len(tokens), "vocab", vocab_size, vocab[:5])

window = 2
pairs = []
for i, w in enumerate(tokens):
    for j in range(max(0, i - window), min(len(tokens), i + window + 1)):
        if j != i:
            pairs.append((word2idx[w], word2idx[tokens[j]]))
pairs = np.array(pairs, dtype=np.int64)
print("pairs", pairs.shape)

freq = np.array([counts[w] for w in vocab], dtype=np.float64) ** 0.75
noise_dist = freq / freq.sum()


class SkipGramNeg(nn.Module):
    def __init__(self, vocab_size, embed_dim):
        super().__init__()
        self.in_embed = nn.Embedding(vocab_size, embed_dim, sparse=False)
        self.out_embed = nn.Embedding(vocab_size, embed_dim, sparse=False)
        initrange = 0.5 / embed_dim
        rng = np.random.default_rng(0)
        with torch.no_grad():
            self.in_embed.weight.copy_(torch.from_numpy(
                rng.uniform(-initrange, initrange, (vocab_size, embed_dim)).astype(np.float32)))
        self.out_embed.weight.data.uniform_(-0, 0)

    def forward(self, centre, context, negatives):
        v = self.in_embed(centre).unsqueeze(2)           # [B, D, 1]
        u = self.out_embed(context).unsqueeze(1)         # [B, 1, D]
        u_neg = self.out_embed(negatives)                # [B, K, D]
        pos = torch.bmm(u, v).squeeze()                  # [B]
        neg = torch.bmm(u_neg.neg(), v).squeeze(2)       # [B, K]
        loss = F.logsigmoid(pos) + F.logsigmoid(neg).sum(1)
        return -loss.mean()


embed_dim, n_neg, batch_size = 16, 5, 64
model = SkipGramNeg(vocab_size, embed_dim)
optimizer = optim.SGD(model.parameters(), lr=1.0)
rng = np.random.default_rng(1)
print_every = 20
step = 0
for epoch in range(3):
    order = rng.permutation(len(pairs))
    running = 0.0
    for start in range(0, len(pairs) - batch_size + 1, batch_size):
        batch = pairs[order[start:start + batch_size]]
        centre = torch.from_numpy(batch[:, 0])
        context = torch.LongTensor(batch[:, 1])
        negatives = torch.from_numpy(rng.choice(vocab_size, (batch_size, n_neg), p=noise_dist))
        loss = model(centre, context, negatives)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running += loss.item()
        step += 1
        if step % print_every == 0:
            print(f"epoch {epoch} step {step} loss {running / print_every:.4f}")
            running = 0.0

embeddings = model.in_embed.weight.detach()
normed = F.normalize(embeddings, p=2, dim=1)
for word in ["king", "cat", "woman"]:
    sims = normed @ normed[word2idx[word]]
    values, indices = sims.topk(4)
    neighbours = [idx2word[i] for i in indices.tolist()[1:]]
    print(word, "->", neighbours, [round(v, 3) for v in values.tolist()[1:]])
cos = F.cosine_similarity(embeddings[word2idx["king"]].unsqueeze(0),
                          embeddings[word2idx["queen"]].unsqueeze(0)).item()
print(f"cos(king, queen) = {cos:.4f}")
print("norms", embeddings.norm(dim=1)[:4])
