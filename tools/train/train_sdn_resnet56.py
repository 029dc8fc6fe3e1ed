#!/usr/bin/env python3
"""Generator of SPINN's progressive model: a CIFAR-style ResNet-56 with six SDN early exits, trained jointly on
Fashion-MNIST and exported to one ONNX model whose outputs are every exit's logits.

Why this file exists: the rest of SPINN-TS (splitter, profiler, scheduler, client, backend) runs on the artifact it
produces. It is a one-off: the trained weights are committed and CI never trains. See tools/train/README.md.

Runs with Debian's PyTorch (`/usr/bin/python3`, CPU, `torch.set_num_threads(2)`) or on a CUDA machine, where it keeps
the whole dataset on the GPU and augments there so the input pipeline never starves the GPU.
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import random
import struct
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

# Pixel statistics of the Fashion-MNIST training split after scaling to [0, 1]. The 2-pixel zero border is added in
# raw pixel space (value 0 = background), then everything is normalised; the manifest records exactly this.
MEAN = 0.2860
STD = 0.3530
PAD = 2
EXIT_TARGETS = (0.15, 0.30, 0.45, 0.60, 0.75, 0.90)  # Shallow-Deep Networks' placement, as fractions of MACs
EXIT_MAX_WEIGHTS = (0.15, 0.30, 0.45, 0.60, 0.75, 0.90)  # SDN's weighted loss; the final classifier weighs 1


# ---------------------------------------------------------------------------------------------------------- data
def read_idx(path: Path) -> torch.Tensor:
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim :]), dtype=torch.uint8).reshape(dims)


def load_split(root: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(root / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(root / f"{prefix}-labels-idx1-ubyte.gz").long()
    x = images.float().div_(255.0)
    x = F.pad(x, (PAD, PAD, PAD, PAD), value=0.0)  # 28x28 -> 32x32, zero = background
    x = (x - MEAN) / STD
    return x.unsqueeze(1).contiguous(), labels


def augment(x: torch.Tensor) -> torch.Tensor:
    """Random 32x32 crop from a 4-pixel-padded image, and a random horizontal flip, vectorised per sample."""
    b = x.shape[0]
    fill = (0.0 - MEAN) / STD
    padded = F.pad(x, (4, 4, 4, 4), value=fill)
    ar = torch.arange(32, device=x.device)
    oy = torch.randint(0, 9, (b,), device=x.device)
    ox = torch.randint(0, 9, (b,), device=x.device)
    rows = (oy[:, None] + ar)[:, :, None]
    cols = (ox[:, None] + ar)[:, None, :]
    flip = torch.rand(b, device=x.device) < 0.5
    cols = torch.where(flip[:, None, None], (ox[:, None] + 31 - ar)[:, None, :], cols)
    out = padded[torch.arange(b, device=x.device)[:, None, None], 0, rows, cols]
    return out.unsqueeze(1)


# --------------------------------------------------------------------------------------------------------- model
class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            # Projection shortcut (ResNet "option B"): a 1x1 conv exports to plain ONNX Conv, unlike option A's
            # strided slicing and channel padding.
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class InternalClassifier(nn.Module):
    """SDN's internal classifier: mixed max/avg pooling down to 4x4 with a learnable mix, then one linear layer."""

    def __init__(self, channels: int, size: int, classes: int):
        super().__init__()
        self.kernel = max(1, size // 4)
        out_size = size // self.kernel
        self.alpha = nn.Parameter(torch.zeros(1))
        self.linear = nn.Linear(channels * out_size * out_size, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mix = torch.sigmoid(self.alpha)
        pooled = mix * F.max_pool2d(x, self.kernel) + (1 - mix) * F.avg_pool2d(x, self.kernel)
        return self.linear(torch.flatten(pooled, 1))


def block_layout(depth: int = 56) -> list[tuple[int, int, int, int]]:
    """(cin, cout, stride, output size) of each residual block of a CIFAR ResNet of this depth."""
    n = (depth - 2) // 6
    layout, cin, size = [], 16, 32
    for stage, cout in enumerate((16, 32, 64)):
        for i in range(n):
            stride = 2 if stage > 0 and i == 0 else 1
            size //= stride
            layout.append((cin, cout, stride, size))
            cin = cout
    return layout


def block_macs(cin: int, cout: int, stride: int, size: int) -> int:
    macs = cin * cout * 9 * size * size + cout * cout * 9 * size * size
    if stride != 1 or cin != cout:
        macs += cin * cout * size * size
    return macs


def exit_positions(layout: list[tuple[int, int, int, int]]) -> list[int]:
    """Indices of the residual blocks after which the exits hang: the block whose cumulative backbone MACs (stem
    included, heads excluded) come nearest each SDN target fraction."""
    stem = 1 * 16 * 9 * 32 * 32
    cum, total = [], stem + sum(block_macs(*b) for b in layout)
    acc = stem
    for b in layout:
        acc += block_macs(*b)
        cum.append(acc / total)
    return [min(range(len(cum)), key=lambda i: abs(cum[i] - t)) for t in EXIT_TARGETS]


class SDNResNet(nn.Module):
    def __init__(self, depth: int = 56, classes: int = 10):
        super().__init__()
        self.layout = block_layout(depth)
        self.exit_after = exit_positions(self.layout)
        self.conv = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.blocks = nn.ModuleList(BasicBlock(cin, cout, s) for cin, cout, s, _ in self.layout)
        self.exits = nn.ModuleList(
            InternalClassifier(self.layout[i][1], self.layout[i][3], classes) for i in self.exit_after
        )
        self.fc = nn.Linear(64, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        # Zero-init the last BN of each residual branch: each block starts as identity, which steadies deep training.
        for blk in self.blocks:
            nn.init.zeros_(blk.bn2.weight)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = F.relu(self.bn(self.conv(x)))
        logits = []
        k = 0
        for i, blk in enumerate(self.blocks):
            out = blk(out)
            if k < len(self.exit_after) and i == self.exit_after[k]:
                logits.append(self.exits[k](out))
                k += 1
        pooled = torch.flatten(F.adaptive_avg_pool2d(out, 1), 1)
        logits.append(self.fc(pooled))
        return tuple(logits)


# ------------------------------------------------------------------------------------------------------ training
def exit_weights(epoch: int, epochs: int) -> list[float]:
    """SDN's schedule: each exit's weight rises linearly from 0.01 to its maximum over the first half of training."""
    ramp = min(1.0, epoch / max(1.0, epochs / 2))
    return [0.01 + (w - 0.01) * ramp for w in EXIT_MAX_WEIGHTS] + [1.0]


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int, amp: bool) -> list[float]:
    model.eval()
    correct = None
    for i in range(0, x.shape[0], batch):
        xb, yb = x[i : i + batch], y[i : i + batch]
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
            outs = model(xb)
        hits = torch.stack([(o.argmax(1) == yb).sum() for o in outs])
        correct = hits if correct is None else correct + hits
    model.train()
    return (correct.float() / x.shape[0]).tolist()


def export_onnx(model: SDNResNet, path: Path) -> None:
    model = model.cpu().float().eval()
    names = [f"exit{i}" for i in range(len(model.exits))] + ["final"]
    dummy = torch.zeros(1, 1, 32, 32)
    kwargs = dict(
        input_names=["input"],
        output_names=names,
        opset_version=17,
        dynamic_axes={"input": {0: "batch"}, **{n: {0: "batch"} for n in names}},
        do_constant_folding=True,
    )
    try:
        torch.onnx.export(model, dummy, str(path), dynamo=False, **kwargs)  # torch >= 2.5: keep the TorchScript path
    except TypeError:
        torch.onnx.export(model, dummy, str(path), **kwargs)  # torch 1.13 (Debian) has no `dynamo` argument


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    p.add_argument("--out", type=Path, default=Path("models/resnet56-fmnist/train"))
    p.add_argument("--epochs", type=int, default=60, help="upper bound on epochs (cosine schedule spans them)")
    p.add_argument("--time-budget-min", type=float, default=0.0,
                   help="if > 0, after the first epoch shrink --epochs so training fits this many minutes")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--wd", type=float, default=5e-4)
    p.add_argument("--seed", type=int, default=56)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=0, help="train on the first N images only (smoke test)")
    p.add_argument("--export-only", type=Path, default=None, help="export this checkpoint to ONNX and stop")
    args = p.parse_args()

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    amp = device.type == "cuda"
    args.out.mkdir(parents=True, exist_ok=True)

    model = SDNResNet()
    if args.export_only:
        model.load_state_dict(torch.load(args.export_only, map_location="cpu"))
        export_onnx(model, args.out / "model.onnx")
        print(f"exported {args.out / 'model.onnx'}")
        return

    xtr, ytr = load_split(args.data, "train")
    xte, yte = load_split(args.data, "test")
    if args.limit:
        xtr, ytr = xtr[: args.limit], ytr[: args.limit]
    xtr, ytr, xte, yte = (t.to(device) for t in (xtr, ytr, xte, yte))
    model = model.to(device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        model = model.to(memory_format=torch.channels_last)
    print(f"device={device} torch={torch.__version__} exits after blocks {model.exit_after} "
          f"train={xtr.shape[0]} test={xte.shape[0]}", flush=True)

    decay, no_decay = [], []
    for name, prm in model.named_parameters():
        (no_decay if prm.ndim <= 1 else decay).append(prm)
    opt = torch.optim.SGD([{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0}],
                          lr=args.lr, momentum=0.9, nesterov=True)
    steps_per_epoch = math.ceil(xtr.shape[0] / args.batch)
    epochs = args.epochs
    history = []
    t_start = time.time()
    gen = torch.Generator(device="cpu").manual_seed(args.seed)
    epoch = 0
    while epoch < epochs:
        t0 = time.time()
        weights = exit_weights(epoch, epochs)
        perm = torch.randperm(xtr.shape[0], generator=gen).to(device)
        total_loss = 0.0
        for step in range(steps_per_epoch):
            # Cosine decay over the whole run after a linear warm-up during the first epoch.
            t = epoch + step / steps_per_epoch
            lr = args.lr * (t if epoch == 0 else 0.5 * (1 + math.cos(math.pi * (t - 1) / max(1, epochs - 1))))
            for g in opt.param_groups:
                g["lr"] = lr
            idx = perm[step * args.batch : (step + 1) * args.batch]
            xb = augment(xtr[idx])
            if device.type == "cuda":
                xb = xb.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                outs = model(xb)
                loss = sum(w * F.cross_entropy(o.float(), ytr[idx]) for w, o in zip(weights, outs))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if step % 50 == 0:
                total_loss += loss.item()
                print(f"\repoch {epoch + 1}/{epochs} step {step}/{steps_per_epoch} loss {loss.item():.3f}",
                      end="", flush=True)
        dt = time.time() - t0
        if epoch == 0 and args.time_budget_min > 0:
            fit = max(2, int(args.time_budget_min * 60 // dt))
            if fit < epochs:
                print(f"\nfirst epoch took {dt:.1f}s: shrinking the run from {epochs} to {fit} epochs", flush=True)
                epochs = fit
        accs = evaluate(model, xte, yte, 1000, amp) if (epoch % 5 == 4 or epoch == epochs - 1) else None
        history.append({"epoch": epoch + 1, "seconds": round(dt, 2), "lr": lr, "exitWeights": weights,
                        "testAccuracy": accs})
        acc_txt = " ".join(f"{a:.4f}" for a in accs) if accs else "-"
        print(f"\repoch {epoch + 1}/{epochs} {dt:.1f}s test acc per exit: {acc_txt}", flush=True)
        epoch += 1

    final_accs = history[-1]["testAccuracy"]
    model = model.float().to(memory_format=torch.contiguous_format)
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, args.out / "checkpoint.pt")
    log = {
        "model": "resnet56-fmnist",
        "recipe": "tools/train/train_sdn_resnet56.py",
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "epochsRun": epochs,
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "trainSeconds": round(time.time() - t_start, 1),
        "exitAfterBlock": model.exit_after,
        "testAccuracyPerExit": final_accs,
        "history": history,
    }
    (args.out / "train-log.json").write_text(json.dumps(log, indent=1))
    try:
        export_onnx(model, args.out / "model.onnx")
    except Exception as e:  # export can also be redone later with --export-only
        print(f"ONNX export failed here ({e!r}); re-run with --export-only", flush=True)
    print(json.dumps({"epochs": epochs, "testAccuracyPerExit": final_accs, "trainSeconds": log["trainSeconds"]}))


if __name__ == "__main__":
    main()
