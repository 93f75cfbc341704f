"""ResNet-18 on CIFAR-10 in fnnet, with fnnet.train's jitted step.

PyTorch concept (torch_version.py)            -> fnnet construct (here)
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

import jax
import numpy as np

from fnnet import losses, optim
from fnnet.interop import from_torch_state_dict, to_torch_state_dict
from fnnet.models import ResNet18
from fnnet.train import create_train_state, make_predict, make_train_step


def run(config, initial_state_dict=None, batches=None):
    data = config.data()
    model = ResNet18(config.num_classes, stem=config.model_stem)
    key = jax.random.key(config.seed)
    if initial_state_dict is not None:
        params, layer_state = from_torch_state_dict(model, initial_state_dict)
    elif config.pretrained:  # the checkpoint without its fc head: fc keeps its fresh init
        params, layer_state = from_torch_state_dict(model, config.pretrained_state_dict(),
                                                    strict=False, key=key)
    else:
        params, layer_state = model.init(key)
    initial = to_torch_state_dict(params, layer_state, model)
    optimizer = optim.SGD(lr=config.lr, momentum=config.momentum,
                          weight_decay=config.weight_decay)
    state = create_train_state(model, optimizer, key, params, layer_state)
    train_step = make_train_step(model, optimizer, losses.cross_entropy)

    step_losses, epoch_losses, times = [], [], []
    for epoch in batches if batches is not None else data.epochs:
        for batch in epoch:
            start = time.perf_counter()
            state, metrics = train_step(state, batch)
            step_losses.append(float(metrics["loss"]))
            times.append(time.perf_counter() - start)
        epoch_losses.append(float(np.mean(step_losses[-len(epoch):])))

    predict = make_predict(model)
    x, y = data.test
    logits = np.concatenate([predict(state.params, state.layer_state, x[i:i + 100])
                             for i in range(0, len(y), 100)])
    return {
        "losses": step_losses,
        "epoch_losses": epoch_losses,
        "accuracy": float(np.mean(np.argmax(logits, 1) == y)),
        "test_loss": float(losses.cross_entropy(logits, y)),
        "params": to_torch_state_dict(state.params, state.layer_state, model),
        "initial_params": initial,
        "ms_per_step": 1000 * float(np.median(times[1:] or times)),
    }


if __name__ == "__main__":
    import config

    from fnnet.compare.script import main

    main(run, config, __file__)
