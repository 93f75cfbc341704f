"""A PyTorch tutorial's script under fnnet.torch, run twice: the second run loads the
programs the first compiled from fnnet's disk cache (``fnnet.core.disk_cache``).

The script is the CIFAR-10 classifier tutorial's shape (LeNet-like CNN, SGD with
momentum, a loop printing its running loss, saving and loading the weights, overall and
per-class accuracy) on 64 random 3x32x32 images. Each run is a fresh process with the
same empty-at-first cache folder; a third run with the cache off gives the first run's
time again as a check.

``--filled N`` times instead the first run into a folder that already holds ``N``
programs of other scripts (as a user's folder does after many runs), once with JAX's own
size limit on (``JAX_COMPILATION_CACHE_MAX_SIZE``, which reads every entry of the folder
at each program written) and once as fnnet keeps the folder (``disk_cache.prune`` when a
process starts), alternating ``--rounds`` times.

    python benchmarks/disk_cache.py [--filled 3500 --rounds 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

SCRIPT = r'''
import os, tempfile
import numpy as np
import fnnet.torch as torch
import fnnet.torch.nn as nn
import fnnet.torch.nn.functional as F
import fnnet.torch.optim as optim

classes = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
rng = np.random.default_rng(0)
data = torch.utils.data.TensorDataset(
    torch.from_numpy(rng.standard_normal((64, 3, 32, 32)).astype(np.float32)),
    torch.from_numpy(rng.integers(0, 10, 64)))
loader = torch.utils.data.DataLoader(data, batch_size=4, shuffle=False)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


torch.manual_seed(0)
net = Net()
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
for epoch in range(2):
    running_loss = 0.0
    for i, (inputs, labels) in enumerate(loader):
        optimizer.zero_grad()
        loss = criterion(net(inputs), labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 8 == 7:
            print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 8:.3f}")
            running_loss = 0.0
path = os.path.join(tempfile.mkdtemp(), "cifar_net.pth")
torch.save(net.state_dict(), path)
net = Net()
net.load_state_dict(torch.load(path, weights_only=True))
correct = total = 0
per_class = {name: [0, 0] for name in classes}
with torch.no_grad():
    for images, labels in loader:
        _, predicted = torch.max(net(images), 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()
        for label, prediction in zip(labels, predicted):
            per_class[classes[label]][0] += int(label == prediction)
            per_class[classes[label]][1] += 1
print(f"accuracy {100 * correct // total} %")
'''


def run(cache: str, **extra_env: str) -> tuple[float, str]:
    """Seconds one fresh process takes to run the script with ``cache`` as the folder
    (``"0"``: off), and what it printed."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("JAX_COMPILATION_CACHE_DIR", "JAX_COMPILATION_CACHE_MAX_SIZE")}
    env["FNNET_COMPILATION_CACHE"] = cache
    env.update(extra_env)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, check=True)
    return time.perf_counter() - start, done.stdout


def fill(folder: str, count: int, template: str) -> None:
    """``count`` programs in ``folder`` under keys of their own, each a copy of one of the
    programs in ``template`` with the last-use file JAX's size limit reads."""
    programs = sorted(n for n in os.listdir(template) if n.endswith("-cache"))
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        shutil.copyfile(os.path.join(template, programs[i % len(programs)]),
                        os.path.join(folder, f"other{i:06d}-cache"))
        with open(os.path.join(folder, f"other{i:06d}-atime"), "wb") as f:
            f.write(time.time_ns().to_bytes(8, "little"))


def filled(count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as base:
        template = os.path.join(base, "template")
        run(template)
        times: dict[str, list[float]] = {"JAX's size limit": [], "fnnet's prune": []}
        for _ in range(rounds):
            for label in times:
                folder = os.path.join(base, "folder")
                shutil.rmtree(folder, ignore_errors=True)
                fill(folder, count, template)
                extra = ({"JAX_COMPILATION_CACHE_MAX_SIZE": str(1 << 30)}
                         if label == "JAX's size limit" else {})
                times[label].append(run(folder, **extra)[0])
    for label, seconds in times.items():
        print(f"first run into a folder of {count} programs, {label}: "
              + ", ".join(f"{t:.2f} s" for t in seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--filled", type=int, default=0,
                        help="time the first run into a folder of this many programs")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.filled:
        filled(args.filled, args.rounds)
        return
    with tempfile.TemporaryDirectory() as folder:
        first, printed = run(folder)
        second, again = run(folder)
        off, _ = run("0")
    assert again == printed, "the second run printed something else"
    print(f"first run {first:.2f} s, second run {second:.2f} s "
          f"({first / second:.1f}x faster), cache off {off:.2f} s; same output")


if __name__ == "__main__":
    main()
