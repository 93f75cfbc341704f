"""ResNet-18 on CIFAR-10 in plain PyTorch (compare with fnnet_version.py).

The model is torchvision's ``resnet18`` written out (same parameter names: conv1, bn1,
layer1.0.conv1, ..., layer2.0.downsample.0/1, fc) so that it runs without torchvision;
with the "cifar" stem conv1 is a 3x3 stride-1 convolution and there is no max-pool.

PyTorch concept                               -> fnnet construct (fnnet_version.py)
--------------------------------------------------------------------------------------
torchvision.models.resnet18(num_classes=10)   -> fnnet.models.ResNet18(10, stem=...):
                                                 torchvision's names, layouts and init
transforms.RandomCrop(32, padding=4),         -> fnnet.data.augment.random_crop,
RandomHorizontalFlip(), RandomRotation(15)       random_horizontal_flip, random_rotation
                                                 with explicit keys (config.py draws
                                                 them once for all three versions)
torch.optim.SGD(lr, momentum, weight_decay)   -> fnnet.optim.SGD(lr, momentum,
                                                 weight_decay), torch's exact rule
BatchNorm buffers, model.train()/eval()       -> layer_state in TrainState; train=True in
                                                 the step, eval in make_predict
model.load_state_dict(torch.load(path,        -> fnnet.interop.from_torch_state_dict(
weights_only=True)); model.fc = Linear(512,10)   model, path, strict=False) without fc.*
"""

import time

import numpy as np
import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    def __init__(self, num_classes=10, stem="cifar"):
        super().__init__()
        self.inplanes = 64
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        else:
            self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            self.maxpool = nn.Identity()
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(64, 2)
        self.layer2 = self._make_layer(128, 2, 2)
        self.layer3 = self._make_layer(256, 2, 2)
        self.layer4 = self._make_layer(512, 2, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def evaluate(model, criterion, x, y, batch_size=100):
    model.eval()
    correct, total_loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(y), batch_size):
            xb, yb = torch.from_numpy(x[i:i + batch_size]), torch.from_numpy(y[i:i + batch_size])
            logits = model(xb)
            total_loss += criterion(logits, yb).item() * len(yb)
            correct += (logits.argmax(1) == yb).sum().item()
    return correct / len(y), total_loss / len(y)


def run(config, initial_state_dict=None, batches=None):
    data = config.data()
    torch.manual_seed(config.seed)
    model = ResNet18(config.num_classes, config.model_stem)
    if config.pretrained:  # a pretrained backbone; the new fc head keeps its fresh init
        state = {k: torch.tensor(v) for k, v in config.pretrained_state_dict().items()}
        model.load_state_dict(state, strict=False)
    if initial_state_dict is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in initial_state_dict.items()})
    initial = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)

    losses, epoch_losses, times = [], [], []
    for epoch in batches if batches is not None else data.epochs:
        model.train()
        for x, y in epoch:
            start = time.perf_counter()
            x, y = torch.from_numpy(x), torch.from_numpy(y)
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            times.append(time.perf_counter() - start)
        epoch_losses.append(float(np.mean(losses[-len(epoch):])))

    accuracy, test_loss = evaluate(model, criterion, *data.test)
    return {
        "losses": losses,
        "epoch_losses": epoch_losses,
        "accuracy": accuracy,
        "test_loss": test_loss,
        "params": {k: v.detach().numpy().copy() for k, v in model.state_dict().items()},
        "initial_params": initial,
        "ms_per_step": 1000 * float(np.median(times[1:] or times)),
    }


if __name__ == "__main__":
    import config

    from fnnet.compare.script import main

    main(run, config, __file__)
