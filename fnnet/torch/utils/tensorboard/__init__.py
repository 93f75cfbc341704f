"""``torch.utils.tensorboard`` over fnnet: ``SummaryWriter`` writing TensorBoard events.

    from fnnet.torch.utils.tensorboard import SummaryWriter

    with SummaryWriter("runs/mlp") as writer:
        writer.add_scalar("loss/train", loss.item(), step)

The event files are written by tensorboardX, as fnnet's own
:class:`fnnet.train.TensorBoardWriter` writes them; ``tensorboard --logdir runs`` reads
them. :mod:`~fnnet.torch.utils.tensorboard.summary` builds the summaries apart, for a
writer's :class:`FileWriter`.
"""

from fnnet.torch.utils.tensorboard import summary
from fnnet.torch.utils.tensorboard.writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "SummaryWriter", "summary"]
