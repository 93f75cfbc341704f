"""Tensors: creation, dtypes, arithmetic, indexing and reshaping."""

import numpy as np
import torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
print("dtype of int data:", x_data.dtype)
x_np = torch.from_numpy(np.array(data, dtype=np.float32))
x_ones = torch.ones_like(x_np)
print("ones like:", x_ones)
x_zeros = torch.zeros(2, 3)
print("zeros:", x_zeros.shape, x_zeros.dtype)
print("float tensor:", torch.FloatTensor([1.5, 2.5]), torch.FloatTensor([1.5]).dtype)
print("long tensor sum:", torch.LongTensor([1, 2, 3]).sum().item())
print("bool tensor:", torch.BoolTensor([True, False]).tolist())
print("byte tensor:", torch.ByteTensor([1, 255]).tolist())
t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
print("first row:", t[0], "last column:", t[:, -1])
t[:, 1] = 0
print("after assignment:", t)
print("matmul:", t @ t.T)
print("elementwise:", (t * t).sum(), t.mean(), t.std())
print("cat:", torch.cat([t, t], dim=0).shape, torch.stack([t, t]).shape)
agg = t.sum()
print("item:", agg.item(), type(agg.item()).__name__)
t.add_(5)
print("in place:", t)
print("view:", t.view(-1, 6).shape, t.view(12)[3].item())
# (fnnet.torch without jax's x64 holds int32 and int64 as one 32-bit type named int64, and
# float64 as float32: the 32-bit casts are checked by membership)
print("float/int:", t.int().dtype in (torch.int32, torch.int64), t.long().dtype,
      t.long().float().dtype, t.double().dtype in (torch.float64, torch.float32))
print("argmax:", t.argmax(dim=1).tolist(), t.max(dim=0).values.tolist())
