// The Python every generated module carries, so the file needs nothing but PyTorch: a safetensors
// reader and writer (nabla's weights and checkpoints; the `safetensors` package reads the same
// files), and the normalization layers written as nabla computes them. nn.BatchNorm1d would blend
// its running statistics with 1 − momentum and the unbiased batch variance, and nn.LayerNorm has γ
// and β both or neither; these take Keras's momentum, the biased variance, and each of γ, β alone.
// Parameter and buffer names are nabla's: weight, bias, running_mean, running_var.
export const PREAMBLE = `_DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'I32': torch.int32, 'I64': torch.int64}


def load_safetensors(path):
    """The tensors of a safetensors file by name (nabla's weights, or a checkpoint with optimizer state)."""
    with open(path, 'rb') as f:
        data = f.read()
    (length,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + length])
    tensors = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        raw = bytearray(data[8 + length + start:8 + length + end])
        tensors[name] = torch.frombuffer(raw, dtype=_DTYPES[info['dtype']]).reshape(info['shape']).clone() if raw else torch.zeros(info['shape'], dtype=_DTYPES[info['dtype']])
    return tensors


def load_weights(module, path):
    """Loads nabla's weights (or a checkpoint's, leaving out its optimizer.* state); every name must match."""
    module.load_state_dict({k: v for k, v in load_safetensors(path).items() if not k.startswith('optimizer.')})


def save_safetensors(path, tensors, metadata=None):
    """Writes float32 tensors as nabla reads them (\`nabla train --weights\`, loadCheckpoint)."""
    header, chunks, offset = {}, [], 0
    for name, tensor in tensors.items():
        raw = tensor.detach().to(torch.float32).contiguous().cpu().numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensor.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(chunks))


class BatchNorm(nn.Module):
    """Keras's BatchNormalization over [N, ..., C] (channels last), as nabla computes it."""

    def __init__(self, features, momentum=0.99, eps=1e-3, center=True, scale=True):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(features)) if scale else None
        self.bias = nn.Parameter(torch.zeros(features)) if center else None
        self.register_buffer('running_mean', torch.zeros(features))
        self.register_buffer('running_var', torch.ones(features))

    def forward(self, x):
        if self.training:
            # Per channel (the last axis) over every other axis: the rows, pixels or steps.
            others = tuple(range(x.dim() - 1))
            mean = x.mean(others)
            var = ((x - mean) ** 2).mean(others)
            with torch.no_grad():
                self.running_mean.mul_(self.momentum).add_((1 - self.momentum) * mean)
                self.running_var.mul_(self.momentum).add_((1 - self.momentum) * var)
        else:
            mean, var = self.running_mean, self.running_var
        y = (x - mean) / torch.sqrt(var + self.eps)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y


class LayerNorm(nn.Module):
    """Keras's LayerNormalization over the last axis, as nabla computes it."""

    def __init__(self, features, eps=1e-3, center=True, scale=True):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(features)) if scale else None
        self.bias = nn.Parameter(torch.zeros(features)) if center else None

    def forward(self, x):
        centered = x - x.mean(-1, keepdim=True)
        y = centered / torch.sqrt((centered ** 2).mean(-1, keepdim=True) + self.eps)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y



def windowed(fn, x, pads, value=0.0):
    """fn (a torch convolution or pooling, channels first) over channels-last x ([N, H, W, C] or
    [N, L, C]) and back to channels last, after padding each spatial axis by its (before, after)
    pair: TensorFlow's 'same' puts the odd one after, which torch's own padding cannot."""
    x = x.permute(0, x.dim() - 1, *range(1, x.dim() - 1))
    if any(p for pair in pads for p in pair):
        x = F.pad(x, [p for pair in reversed(pads) for p in pair], value=value)
    y = fn(x)
    return y.permute(0, *range(2, y.dim()), 1)


def max_pool(x, kernel, stride, pads):
    """Keras's max pooling over channels-last x; padding never wins."""
    pool = F.max_pool2d if len(kernel) == 2 else F.max_pool1d
    return windowed(lambda t: pool(t, kernel, stride), x, pads, value=-math.inf)


def average_pool(x, kernel, stride, pads):
    """Keras's average pooling over channels-last x: a padded window is divided by the cells
    inside the image (TensorFlow), the average of the padded sums over that of a mask of ones."""
    pool = F.avg_pool2d if len(kernel) == 2 else F.avg_pool1d
    averaged = windowed(lambda t: pool(t, kernel, stride), x, pads)
    if not any(p for pair in pads for p in pair):
        return averaged
    return averaged / windowed(lambda t: pool(t, kernel, stride), torch.ones_like(x[..., :1]), pads)


class SeparableConv2d(nn.Module):
    """Keras's SeparableConv2D on channels-first x: a depthwise convolution (groups = channels, no
    bias) then a 1×1 convolution with the bias, parameters named as nabla's."""

    def __init__(self, channels, multiplier, filters, kernel, stride, dilation, bias=True):
        super().__init__()
        self.channels, self.stride, self.dilation = channels, stride, dilation
        self.depthwise_weight = nn.Parameter(torch.zeros(channels * multiplier, 1, *kernel))
        self.pointwise_weight = nn.Parameter(torch.zeros(filters, channels * multiplier, 1, 1))
        self.bias = nn.Parameter(torch.zeros(filters)) if bias else None

    def forward(self, x):
        spread = F.conv2d(x, self.depthwise_weight, None, self.stride, 0, self.dilation, self.channels)
        return F.conv2d(spread, self.pointwise_weight, self.bias)

class PositionEmbedding(nn.Module):
    """keras_hub's PositionEmbedding: a learned [length, features] table, its first rows added."""

    def __init__(self, length, features):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(length, features))

    def forward(self, x):
        return x + self.weight[:x.shape[1]]
`;
