"""Trains a nabla model with PyTorch's DistributedDataParallel, from the module `nabla export
--torch` generates, and writes the weights back as safetensors for nabla.

One machine, two processes:

    torchrun --standalone --nproc_per_node=2 examples/torch-ddp/train_ddp.py \\
        --model /tmp/iris_model.py --data examples/iris/iris.csv --epochs 100 --save /tmp/iris-ddp.safetensors

Several machines: the same command on each, with torchrun's --nnodes, --node_rank and
--rdzv_endpoint instead of --standalone. The CSV is numeric, the label in the last column
(integer classes for sparse categorical cross-entropy); lines that are not numbers (a header,
scikit-learn's 'n_samples,n_features,...' line) are skipped. Features are standardised with the
whole file's mean and standard deviation, and the statistics are stored in the weights file's
metadata. The model must have one input and one output (the generated module has them all;
feed several by name for graph models of your own).
"""
import argparse
import importlib.util
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


def load_module(path):
    spec = importlib.util.spec_from_file_location('nabla_model', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_csv(path):
    rows = []
    with open(path) as f:
        for line in f:
            try:
                rows.append([float(v) for v in line.strip().split(',')])
            except ValueError:
                continue
    data = torch.tensor(rows, dtype=torch.float32)
    return data[:, :-1], data[:, -1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model', required=True, help='the file nabla export --torch wrote')
    parser.add_argument('--data', required=True, help='numeric CSV, label last')
    parser.add_argument('--weights', help='start from these nabla weights (safetensors)')
    parser.add_argument('--epochs', type=int, default=10)
    parser.add_argument('--batch-size', type=int, default=16, help='rows per process and step')
    parser.add_argument('--save', required=True, help='where rank 0 writes the trained weights')
    args = parser.parse_args()

    # gloo runs on CPUs; on GPUs use nccl and move the model and batches to the local device.
    dist.init_process_group('gloo')
    rank = dist.get_rank()
    exported = load_module(args.model)
    torch.manual_seed(0)  # every process starts from the same weights
    model = exported.Model()
    if args.weights:
        exported.load_weights(model, args.weights)
    ddp = DistributedDataParallel(model)
    optimizer = exported.Optimizer(ddp.parameters())

    x, y = read_csv(args.data)
    mean, std = x.mean(0), x.std(0).clamp(min=1e-12)
    x = (x - mean) / std
    sparse = 'sparse_categorical_crossentropy' in open(args.model).read()
    y = y.long() if sparse else y.reshape(-1, 1)
    dataset = TensorDataset(x, y)
    sampler = DistributedSampler(dataset, shuffle=True, seed=0)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        ddp.train()
        total, count = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = ddp(xb, targets=yb)  # DDP averages the gradients of all processes in backward()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
            count += len(xb)
        if rank == 0 and (epoch + 1) % max(1, args.epochs // 10) == 0:
            print(f'epoch {epoch + 1}: loss {total / count:.4f} (rank 0 shard)')

    if rank == 0:
        model.eval()
        with torch.no_grad():
            predicted = model(x)
        if sparse:
            print(f'training accuracy {(predicted.argmax(-1) == y).float().mean().item():.3f}')
        metadata = {'step': optimizer.param_groups[0]['t'], 'feature_mean': mean.tolist(), 'feature_std': std.tolist()}
        exported.save_safetensors(args.save, model.state_dict(), metadata)
        print(f'wrote {args.save} ({os.path.getsize(args.save)} bytes)')
    dist.destroy_process_group()


if __name__ == '__main__':
    main()
