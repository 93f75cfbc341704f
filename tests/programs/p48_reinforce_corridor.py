"""REINFORCE as the policy-gradient tutorials write it, on a tiny hand-written
environment (a corridor: move left or right, reward at the far end): a policy network
with a softmax head, ``torch.distributions.Categorical(probs)``, ``m.log_prob(action)``
saved per step, discounted returns computed backwards and normalised with
``returns.std() + eps``, the loss ``torch.cat(policy_loss).sum()``, ``del`` of the saved
lists, and an exponential running reward. Actions are drawn by inverse transform from
numpy uniforms so that both backends take the same path."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from _harness import fixed_init
from torch.distributions import Categorical


class Corridor:
    """Positions 0..length-1; start in the middle; +1 at the right end, -0.01 per step."""

    def __init__(self, length=7, max_steps=10):
        self.length, self.max_steps = length, max_steps

    def reset(self):
        self.pos, self.t = self.length // 2, 0
        return self._obs()

    def _obs(self):
        obs = np.zeros(self.length, dtype=np.float32)
        obs[self.pos] = 1.0
        return obs

    def step(self, action):
        self.pos = max(0, min(self.length - 1, self.pos + (1 if action == 1 else -1)))
        self.t += 1
        done = self.pos == self.length - 1 or self.t >= self.max_steps
        reward = 1.0 if self.pos == self.length - 1 else -0.01
        return self._obs(), reward, done, {}


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.affine1 = nn.Linear(7, 32)
        self.dropout = nn.Dropout(p=0.0)
        self.affine2 = nn.Linear(32, 2)
        self.saved_log_probs = []
        self.rewards = []

    def forward(self, x):
        x = self.affine1(x)
        x = self.dropout(x)
        x = F.relu(x)
        action_scores = self.affine2(x)
        return F.softmax(action_scores, dim=1)


env = Corridor()
policy = fixed_init(Policy(), seed=8)
optimizer = optim.Adam(policy.parameters(), lr=1e-2)
eps = np.finfo(np.float32).eps.item()
gamma = 0.99
uniforms = np.random.default_rng(5)


def select_action(state):
    state = torch.from_numpy(state).float().unsqueeze(0)
    probs = policy(state)
    m = Categorical(probs)
    u = torch.tensor(uniforms.random(), dtype=torch.float32)
    action = (probs.detach().cumsum(dim=1)[0] < u).sum().clamp(max=1)
    policy.saved_log_probs.append(m.log_prob(action))
    return action.item()


def finish_episode():
    R = 0
    policy_loss = []
    returns = []
    for r in policy.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    for log_prob, R in zip(policy.saved_log_probs, returns, strict=False):
        policy_loss.append(-log_prob * R)
    optimizer.zero_grad()
    policy_loss = torch.cat(policy_loss).sum()
    policy_loss.backward()
    optimizer.step()
    del policy.rewards[:]
    del policy.saved_log_probs[:]
    return policy_loss.item()


running_reward = 0.0
for i_episode in range(1, 41):
    state, ep_reward = env.reset(), 0
    for t in range(1, 100):  # noqa: B007 - t is printed after the loop
        action = select_action(state)
        state, reward, done, _ = env.step(action)
        policy.rewards.append(reward)
        ep_reward += reward
        if done:
            break
    running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
    loss = finish_episode()
    if i_episode % 8 == 0:
        print(f"Episode {i_episode}\tLast reward: {ep_reward:.2f}\t"
              f"Average reward: {running_reward:.2f}\tsteps {t}\tloss {loss:.4f}")

with torch.no_grad():
    probs = policy(torch.eye(7))
    dist = Categorical(probs=probs)
    print("right-move probabilities", [round(p, 4) for p in probs[:, 1].tolist()])
    print("entropy", [round(h, 4) for h in dist.entropy().tolist()])
    print("sample shape", tuple(dist.sample().shape), tuple(dist.sample((3,)).shape))
    logits_dist = Categorical(logits=torch.log(probs))
    right = logits_dist.log_prob(torch.ones(7, dtype=torch.long))
    print("log_prob of right", [round(v, 4) for v in right.tolist()])
