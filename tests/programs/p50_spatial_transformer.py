"""A spatial transformer network on real MNIST digits, as the tutorial builds it: a
localisation network (conv, max-pool, ReLU) regressing the 6 numbers of an affine
``theta`` whose last layer starts at a slight zoom (``weight.data.zero_()``,
``bias.data.copy_(torch.tensor([0.9, 0, 0, 0, 0.9, 0], dtype=torch.float))``: at the
identity every sampling point sits exactly on a pixel, on bilinear sampling's kink, where
the side the gradient takes is decided by each backend's rounding),
``F.affine_grid`` and ``F.grid_sample`` to warp the input, a small classifier with
``F.dropout(training=self.training)`` (p=0 here, as the draws differ), NLL on
log-softmax, SGD with momentum, and a test loop summing the loss and counting
``pred.eq(target)``."""
# data: mnist
# tolerance: 1e-3 and
# atol: 1e-3 (bilinear sampling's gradient jumps where a sampling point crosses a pixel
# boundary; a point that lands within float32 rounding of one, which 24 steps over 25,000
# points meet about once, takes a different side under each backend, and the weights then
# differ by up to 4e-4, by how each machine's compiler rounds)

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from _harness import fixed_init, mnist
from torch.utils.data import DataLoader, TensorDataset

x, y = mnist(448, offset=2000)
# pixels left in [0, 1]: the usual normalisation makes the background a constant that
# each backend's convolution rounds its own way, and max-pooling then breaks those
# near-ties (and routes the warp's gradient) differently
train_loader = DataLoader(TensorDataset(torch.from_numpy(x[:384]), torch.from_numpy(y[:384])),
                          batch_size=32, shuffle=False)
test_loader = DataLoader(TensorDataset(torch.from_numpy(x[384:]), torch.from_numpy(y[384:])),
                         batch_size=32)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d(p=0.0)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)
        self.localization = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=7),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
            nn.Conv2d(8, 10, kernel_size=5),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
        )
        self.fc_loc = nn.Sequential(nn.Linear(10 * 3 * 3, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))

    def init_identity(self):
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([0.9, 0, 0, 0, 0.9, 0], dtype=torch.float))

    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 10 * 3 * 3)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False)
        return x

    def forward(self, x):
        x = self.stn(x)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, p=0.0, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


model = fixed_init(Net(), seed=4)
model.init_identity()
model = model.to(device)
optimizer = optim.SGD(model.parameters(), lr=0.02, momentum=0.5)


def train(epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % 4 == 0:
            seen, total = batch_idx * len(data), len(train_loader.dataset)
            print(f"Train Epoch: {epoch} [{seen}/{total} "
                  f"({100.0 * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item():.6f}")


def test():
    with torch.no_grad():
        model.eval()
        test_loss = 0
        correct = 0
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, size_average=False).item()
            pred = output.max(1, keepdim=True)[1]
            correct += pred.eq(target.view_as(pred)).sum().item()
        test_loss /= len(test_loader.dataset)
        total = len(test_loader.dataset)
        print(f"\nTest set: Average loss: {test_loss:.4f}, Accuracy: {correct}/{total} "
              f"({100.0 * correct / total:.0f}%)\n")


for epoch in range(1, 3):
    train(epoch)
    test()

with torch.no_grad():
    data = next(iter(test_loader))[0].to(device)
    input_tensor = data.cpu()
    transformed_input_tensor = model.stn(data).cpu()
    theta = model.fc_loc(model.localization(data).view(-1, 90)).view(-1, 2, 3)
    print("theta[0]", theta[0])
    print("warped", tuple(transformed_input_tensor.shape),
          f"{transformed_input_tensor.mean().item():.4f}")
    grid = F.affine_grid(torch.tensor([[[0.8, 0.2, 0.1], [-0.1, 0.9, 0.0]]]), (1, 1, 5, 5),
                         align_corners=True)
    print(grid[0, 0])
    print(F.grid_sample(input_tensor[:1], grid, mode="nearest", padding_mode="border",
                        align_corners=True)[0, 0])
