"""A sequence-to-sequence translator as the classic tutorial builds it: a toy language
pair (each source word maps to a target word, and the target sentence is reversed),
Lang objects that count words and assign indices, a GRU encoder fed one word at a time,
an attention decoder that concatenates its embedding with the hidden state to score the
encoder outputs (``torch.bmm`` of the weights with the outputs), teacher forcing chosen
by ``random.random()``, greedy decoding with ``topk(1)`` and ``.squeeze().detach()``,
two SGD optimizers and a per-pair NLLLoss accumulated over the target words."""

import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from _harness import fixed_init
from torch import optim

SOS_token, EOS_token = 0, 1
MAX_LENGTH = 6
device = torch.device("cpu")


class Lang:
    def __init__(self, name):
        self.name = name
        self.word2index = {}
        self.word2count = {}
        self.index2word = {0: "SOS", 1: "EOS"}
        self.n_words = 2

    def add_sentence(self, sentence):
        for word in sentence.split(" "):
            self.add_word(word)

    def add_word(self, word):
        if word not in self.word2index:
            self.word2index[word] = self.n_words
            self.word2count[word] = 1
            self.index2word[self.n_words] = word
            self.n_words += 1
        else:
            self.word2count[word] += 1


lexicon = {"i": "je", "you": "tu", "see": "vois", "like": "aime", "the": "le",
           "cat": "chat", "dog": "chien", "bird": "oiseau", "big": "grand", "small": "petit"}
rng = random.Random(7)
src_words = list(lexicon)
pairs = []
for _ in range(40):
    n = rng.randint(2, MAX_LENGTH - 3)
    sentence = [rng.choice(src_words) for _ in range(n)]
    target = [lexicon[w] for w in reversed(sentence)]
    pairs.append((" ".join(sentence), " ".join(target)))
input_lang, output_lang = Lang("eng"), Lang("fra")
for src, tgt in pairs:
    input_lang.add_sentence(src)
    output_lang.add_sentence(tgt)
print("Counted words:", input_lang.name, input_lang.n_words, output_lang.name, output_lang.n_words)
print(random.Random(1).choice(pairs))


def tensor_from_sentence(lang, sentence):
    indexes = [lang.word2index[word] for word in sentence.split(" ")]
    indexes.append(EOS_token)
    return torch.tensor(indexes, dtype=torch.long, device=device).view(-1, 1)


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size)

    def forward(self, input, hidden):
        embedded = self.embedding(input).view(1, 1, -1)
        output, hidden = self.gru(embedded, hidden)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, 1, self.hidden_size, device=device)


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.0, max_length=MAX_LENGTH):
        super().__init__()
        self.hidden_size = hidden_size
        self.output_size = output_size
        self.max_length = max_length
        self.embedding = nn.Embedding(self.output_size, self.hidden_size)
        self.attn = nn.Linear(self.hidden_size * 2, self.max_length)
        self.attn_combine = nn.Linear(self.hidden_size * 2, self.hidden_size)
        self.dropout = nn.Dropout(dropout_p)
        self.gru = nn.GRU(self.hidden_size, self.hidden_size)
        self.out = nn.Linear(self.hidden_size, self.output_size)

    def forward(self, input, hidden, encoder_outputs):
        embedded = self.embedding(input).view(1, 1, -1)
        embedded = self.dropout(embedded)
        attn_weights = F.softmax(self.attn(torch.cat((embedded[0], hidden[0]), 1)), dim=1)
        attn_applied = torch.bmm(attn_weights.unsqueeze(0), encoder_outputs.unsqueeze(0))
        output = torch.cat((embedded[0], attn_applied[0]), 1)
        output = self.attn_combine(output).unsqueeze(0)
        output = F.relu(output)
        output, hidden = self.gru(output, hidden)
        output = F.log_softmax(self.out(output[0]), dim=1)
        return output, hidden, attn_weights


teacher_forcing_ratio = 0.5


def train(input_tensor, target_tensor, encoder, decoder, encoder_optimizer,
          decoder_optimizer, criterion, max_length=MAX_LENGTH):
    encoder_hidden = encoder.initHidden()
    encoder_optimizer.zero_grad()
    decoder_optimizer.zero_grad()
    input_length = input_tensor.size(0)
    target_length = target_tensor.size(0)
    encoder_outputs = torch.zeros(max_length, encoder.hidden_size, device=device)
    loss = 0
    for ei in range(input_length):
        encoder_output, encoder_hidden = encoder(input_tensor[ei], encoder_hidden)
        encoder_outputs[ei] = encoder_output[0, 0]
    decoder_input = torch.tensor([[SOS_token]], device=device)
    decoder_hidden = encoder_hidden
    use_teacher_forcing = True if coin.random() < teacher_forcing_ratio else False
    if use_teacher_forcing:
        for di in range(target_length):
            decoder_output, decoder_hidden, decoder_attention = decoder(
                decoder_input, decoder_hidden, encoder_outputs)
            loss += criterion(decoder_output, target_tensor[di])
            decoder_input = target_tensor[di]
    else:
        for di in range(target_length):
            decoder_output, decoder_hidden, decoder_attention = decoder(
                decoder_input, decoder_hidden, encoder_outputs)
            topv, topi = decoder_output.topk(1)
            decoder_input = topi.squeeze().detach()
            loss += criterion(decoder_output, target_tensor[di])
            if decoder_input.item() == EOS_token:
                break
    loss.backward()
    encoder_optimizer.step()
    decoder_optimizer.step()
    return loss.item() / target_length


def evaluate(encoder, decoder, sentence, max_length=MAX_LENGTH):
    with torch.no_grad():
        input_tensor = tensor_from_sentence(input_lang, sentence)
        input_length = input_tensor.size()[0]
        encoder_hidden = encoder.initHidden()
        encoder_outputs = torch.zeros(max_length, encoder.hidden_size, device=device)
        for ei in range(input_length):
            encoder_output, encoder_hidden = encoder(input_tensor[ei], encoder_hidden)
            encoder_outputs[ei] += encoder_output[0, 0]
        decoder_input = torch.tensor([[SOS_token]], device=device)
        decoder_hidden = encoder_hidden
        decoded_words = []
        decoder_attentions = torch.zeros(max_length, max_length)
        for di in range(max_length):
            decoder_output, decoder_hidden, decoder_attention = decoder(
                decoder_input, decoder_hidden, encoder_outputs)
            decoder_attentions[di] = decoder_attention.data
            topv, topi = decoder_output.data.topk(1)
            if topi.item() == EOS_token:
                decoded_words.append("<EOS>")
                break
            else:
                decoded_words.append(output_lang.index2word[topi.item()])
            decoder_input = topi.squeeze().detach()
        return decoded_words, decoder_attentions[:di + 1]


hidden_size = 32
encoder1 = fixed_init(EncoderRNN(input_lang.n_words, hidden_size).to(device), seed=1)
attn_decoder1 = fixed_init(AttnDecoderRNN(hidden_size, output_lang.n_words).to(device), seed=2)
coin = random.Random(0)
encoder_optimizer = optim.SGD(encoder1.parameters(), lr=0.05)
decoder_optimizer = optim.SGD(attn_decoder1.parameters(), lr=0.05)
training_pairs = [(tensor_from_sentence(input_lang, p[0]), tensor_from_sentence(output_lang, p[1]))
                  for p in [random.Random(3 + i).choice(pairs) for i in range(40)]]
criterion = nn.NLLLoss()
print_loss_total = 0
for iter in range(1, len(training_pairs) + 1):
    input_tensor, target_tensor = training_pairs[iter - 1]
    loss = train(input_tensor, target_tensor, encoder1, attn_decoder1, encoder_optimizer,
                 decoder_optimizer, criterion)
    print_loss_total += loss
    if iter % 20 == 0:
        print(f"iter {iter} loss {print_loss_total / 20:.4f}")
        print_loss_total = 0

for src, tgt in pairs[:3]:
    output_words, attentions = evaluate(encoder1, attn_decoder1, src)
    print(">", src)
    print("=", tgt)
    print("<", " ".join(output_words), tuple(attentions.shape), round(attentions.sum().item(), 4))
