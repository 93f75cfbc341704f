"""torch.autograd.grad, Variable, requires_grad_, detach_, in-place ops, *_like and out=."""

import torch
from torch.autograd import Variable

x = Variable(torch.tensor([1.0, 2.0, 3.0]), requires_grad=True)
y = (x ** 3).sum()
(dx,) = torch.autograd.grad(y, x)
print("dy/dx:", dx, "x.grad untouched:", x.grad is None)
w = torch.ones(3).requires_grad_()
loss = (w * x).sum() * 2
loss.backward()
print("w.grad:", w.grad, "x.grad:", x.grad)
x.grad.zero_()
print("zeroed:", x.grad)
h = (x * 2)
h.detach_()
print("detached:", h.requires_grad)
z = torch.zeros_like(x)
torch.add(x.detach(), 1.0, out=z)
print("out=:", z)
z.mul_(2).sub_(1).clamp_(min=2.5)
print("in place chain:", z)
r = torch.full_like(z, 7.0)
print("full_like:", r, torch.empty_like(z).shape, torch.rand_like(z).shape)
print("requires_grad of like:", torch.zeros_like(x).requires_grad)
a = torch.tensor([0.5, -1.0], requires_grad=True)
b = torch.tensor([2.0, 3.0], requires_grad=True)
(ga, gb) = torch.autograd.grad((a * b).sum(), [a, b])
print(ga, gb)
