#!/usr/bin/env python3
"""Training img/s of vitkit's `vit train` default model in PyTorch on CPU.

The same architecture as vitkit builds (timm's VisionTransformer: 7x7 patch
embedding, class token, learned position embedding, pre-norm blocks with
LayerNorm eps 1e-6, qkv bias, exact GELU, final norm, class-token or mean
pooling), the same step as `vit bench` times (cross-entropy with label
smoothing 0.1, clipping to global norm 1, AdamW lr 1e-4, weight decay 0.05 on
matrices), on random images, batch 128, with torch.set_num_threads(THREADS).

  /usr/bin/python3 bench/pytorch_train.py [--threads 2] [--steps 20] [--warmup 3]
      [--batch 128] [--config CONFIG.json]

--config takes a vitkit config.json or recipe file (imageSize, patchSize, inChannels,
embedDim, depth, numHeads, mlpDim, numClasses, pooling); without it the
trainer's default model (28x28x1, patch 7, dim 64, depth 4, 4 heads, MLP 128).
Prints one JSON line: {"img_per_s", "ms_per_step", "batch", "threads", "blas", ...}.
Written for Debian's python3-torch (1.13); needs nothing else. Debian's build
links the system BLAS: with only the reference BLAS (libblas3) installed it
trains ~4x slower than with OpenBLAS (apt-get install libopenblas0-pthread),
so "blas" names the library that was loaded.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT = dict(imageSize=28, patchSize=7, inChannels=1, embedDim=64, depth=4, numHeads=4, mlpDim=128, numClasses=10, pooling='token')


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, mlp_dim)
        self.fc2 = nn.Linear(mlp_dim, dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self, c):
        super().__init__()
        size, patch, dim = c['imageSize'], c['patchSize'], c['embedDim']
        size = size if isinstance(size, int) else size[0]
        self.pooling = c.get('pooling', 'token')
        self.proj = nn.Conv2d(c['inChannels'], dim, patch, stride=patch)
        n = (size // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, c['numHeads'], c['mlpDim']) for _ in range(c['depth'])])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, c['numClasses'])

    def forward(self, x):
        x = self.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        x = x[:, 1:].mean(dim=1) if self.pooling == 'avg' or self.pooling == 'mean' else x[:, 0]
        return self.head(x)


def loaded_blas():
    """The BLAS library this process mapped (Linux), e.g. 'openblas-pthread' or 'reference (netlib)'."""
    try:
        with open('/proc/self/maps') as f:
            paths = {line.split()[-1] for line in f if 'blas' in line.lower() or 'mkl' in line.lower()}
    except OSError:
        return 'unknown'
    for p in sorted(paths):
        low = p.lower()
        if 'openblas' in low:
            return low.split('/')[-2] if 'openblas-' in low else 'openblas'
        if 'mkl' in low:
            return 'mkl'
        if 'blis' in low:
            return 'blis'
        if 'atlas' in low:
            return 'atlas'
    return 'reference (netlib)' if paths else 'unknown'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--config')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    c = dict(DEFAULT)
    if args.config:
        with open(args.config) as f:
            spec = json.load(f)
        # A vitkit recipe file holds the architecture under "model".
        if isinstance(spec.get('model'), dict) and 'train' in spec:
            spec = spec['model']
        c.update({k: v for k, v in spec.items() if k in DEFAULT})
    model = ViT(c).train()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.05}, {'params': no_decay, 'weight_decay': 0.0}], lr=1e-4)
    size = c['imageSize'] if isinstance(c['imageSize'], int) else c['imageSize'][0]
    x = torch.randn(args.batch, c['inChannels'], size, size)
    y = torch.arange(args.batch) % c['numClasses']

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    for _ in range(args.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    ms = (time.perf_counter() - t0) * 1000 / args.steps
    print(json.dumps({
        'engine': 'pytorch', 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'batch': args.batch,
        'model': f"{size}x{size}x{c['inChannels']}, patch {c['patchSize']}, dim {c['embedDim']}, depth {c['depth']}",
        'ms_per_step': round(ms, 2), 'img_per_s': round(args.batch * 1000 / ms, 2), 'blas': loaded_blas(),
    }))


if __name__ == '__main__':
    main()
