"""torch.nn.MultiheadAttention or torch.nn.TransformerEncoderLayer (pre-norm), in float64, loaded
with nabla's parameters under their names, on a batch; prints JSON: the flattened outputs, the
mean squared error against the targets and its gradient for every parameter.

usage: python3 torch-attention.py < case.json
case: {"module": "mha" | "block", "width", "heads", "causal", "mlp", "eps", "x", "y", "weights": {name: {"shape", "data"}}}"""
import json
import sys

import torch
from torch import nn

case = json.load(sys.stdin)
E, H = case['width'], case['heads']
if case['module'] == 'mha':
    module = nn.MultiheadAttention(E, H, batch_first=True)
else:
    module = nn.TransformerEncoderLayer(E, H, dim_feedforward=case['mlp'], dropout=0.0, activation='gelu',
                                       layer_norm_eps=case['eps'], batch_first=True, norm_first=True)
module = module.double()
module.load_state_dict({name: torch.tensor(w['data'], dtype=torch.float64).reshape(w['shape']) for name, w in case['weights'].items()})
module.train()  # the reference path (no fused inference kernels)

x = torch.tensor(case['x'], dtype=torch.float64)
steps = x.shape[1]
mask = torch.ones(steps, steps, dtype=torch.bool).triu(1) if case['causal'] else None
if case['module'] == 'mha':
    out = module(x, x, x, need_weights=False, attn_mask=mask)[0]
else:
    out = module(x, src_mask=mask)
flat = out.reshape(out.shape[0], -1)
loss = ((flat - torch.tensor(case['y'], dtype=torch.float64)) ** 2).mean()
loss.backward()
print(json.dumps({
    'output': flat.detach().reshape(-1).tolist(),
    'loss': loss.item(),
    'grads': {name: p.grad.reshape(-1).tolist() for name, p in module.named_parameters()},
}))
