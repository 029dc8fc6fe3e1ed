#!/usr/bin/env python3
"""A MobileNetV2-style classifier (stride-2 stem, inverted residual blocks with linear bottlenecks) for colour
3x96x96 input, trained on Fashion-MNIST upscaled to 96x96 and replicated to three channels, exported WITHOUT early
exits to one ONNX model (opset 17, eval mode, dynamic batch) whose only output is `logits`.

Why this file exists: SPINN-TS's second model stands for "a CNN a user already trained": its exits are attached
afterwards by `npm run model:exits` on the frozen network (SDN's IC-only training), never by this recipe. Its input
(27,648 uint8 values) is larger than its deeper activations, which is SPINN's regime. See tools/train/README.md.

Runs on Debian's PyTorch 1.13 on CPU (`/usr/bin/python3`, `--threads 2`, under `nice -n 19`). Saves a checkpoint
after every epoch and resumes from it with `--resume`, so a crash or a kill loses at most one epoch.

Preprocessing (recorded in meta.json, applied identically by core/preprocess.ts): the 28x28 grey image is resized
to 96x96 bilinearly with half-pixel centres (PyTorch's align_corners=False; upscaling, so no antialiasing), rounded
to uint8 (floor(v + 0.5)), replicated to R, G and B, scaled by 1/255 and normalised per channel with the training
split's mean and std of the resized images.
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import platform
import random
import struct
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

MODEL_ID = "mobilenetv2-fmnist96"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
SOURCE = 28
# Inverted residual settings as in MobileNetV2's Table 2: (expansion t, output channels c, repeats n, first stride s).
# Narrow and downsampling early: 96 -> 48 (stem) -> 24 -> 12 -> 6 -> 3. 24x24 already holds the 28x28 source's detail.
DEFAULT_CFG = "1:16:1:1,4:24:2:2,4:32:3:2,4:64:3:2,4:96:2:1,4:160:2:2"


# ---------------------------------------------------------------------------------------------------------- data
def read_idx(path: Path) -> torch.Tensor:
    with gzip.open(path, "rb") as f:
        data = f.read()
    (magic,) = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim :]), dtype=torch.uint8).reshape(dims)


def load_split(root: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(root / f"{prefix}-images-idx3-ubyte.gz")  # N x 28 x 28 uint8
    labels = read_idx(root / f"{prefix}-labels-idx1-ubyte.gz").long()
    return images.unsqueeze(1).contiguous(), labels


def resize_u8(x: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 N x 1 x h x w -> uint8 N x 1 x size x size: bilinear, half-pixel centres, round half up, as
    core/preprocess.ts does."""
    y = F.interpolate(x.float(), size=(size, size), mode="bilinear", align_corners=False)
    return torch.floor(y + 0.5).clamp_(0, 255).to(torch.uint8)


def to_input(x_u8: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """uint8 N x 1 x S x S -> normalised float N x 3 x S x S (grey replicated to R, G, B)."""
    x = (x_u8.float() / 255.0 - mean) / std
    return x.expand(-1, 3, -1, -1).contiguous()


def augment_u8(x: torch.Tensor, gen: torch.Generator, shift: int) -> torch.Tensor:
    """Random shifts of up to `shift` source pixels (zero fill) and horizontal flips, on the 28x28 uint8 images."""
    b, _, h, w = x.shape
    padded = F.pad(x, (shift, shift, shift, shift), value=0)
    ar = torch.arange(h)
    oy = torch.randint(0, 2 * shift + 1, (b,), generator=gen)
    ox = torch.randint(0, 2 * shift + 1, (b,), generator=gen)
    rows = (oy[:, None] + ar)[:, :, None]
    cols = (ox[:, None] + ar)[:, None, :]
    flip = torch.rand(b, generator=gen) < 0.5
    cols = torch.where(flip[:, None, None], (ox[:, None] + w - 1 - ar)[:, None, :], cols)
    return padded[torch.arange(b)[:, None, None], 0, rows, cols].unsqueeze(1)


# --------------------------------------------------------------------------------------------------------- model
def conv_bn_relu(cin: int, cout: int, k: int, stride: int, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1x1 expansion (skipped when t = 1), 3x3 depthwise, 1x1 linear projection (no
    activation: the linear bottleneck), identity shortcut when stride 1 and channels match. ReLU instead of ReLU6:
    ReLU6 exports as Clip, and SPINN's splitter cuts after Relu layers."""

    def __init__(self, cin: int, cout: int, stride: int, t: int):
        super().__init__()
        hidden = cin * t
        layers: list[nn.Module] = [] if t == 1 else [conv_bn_relu(cin, hidden, 1, 1)]
        layers += [conv_bn_relu(hidden, hidden, 3, stride, groups=hidden)]
        layers += [nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) if self.residual else self.body(x)


def parse_cfg(text: str) -> list[tuple[int, int, int, int]]:
    return [tuple(int(v) for v in part.split(":")) for part in text.split(",")]  # type: ignore[misc]


class MobileNetV2Style(nn.Module):
    def __init__(self, cfg: list[tuple[int, int, int, int]], stem: int, last: int, classes: int, dropout: float):
        super().__init__()
        layers: list[nn.Module] = [conv_bn_relu(3, stem, 3, 2)]
        cin = stem
        for t, c, n, s in cfg:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(conv_bn_relu(cin, last, 1, 1))
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(last, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(self.dropout(x))


def count_macs(model: nn.Module, size: int) -> int:
    """Multiply-accumulates of convolutions and linear layers for one sample (what tools/split/cost.ts counts)."""
    macs = 0

    def hook(m: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal macs
        if isinstance(m, nn.Conv2d):
            macs += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            macs += m.in_features * m.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, size, size))
    model.train()
    for h in handles:
        h.remove()
    return macs


# ------------------------------------------------------------------------------------------------------ training
@torch.no_grad()
def evaluate(model: nn.Module, x_u8: torch.Tensor, y: torch.Tensor, args: argparse.Namespace, norm) -> float:
    model.eval()
    correct = 0
    for i in range(0, x_u8.shape[0], 500):
        xb = to_input(resize_u8(x_u8[i : i + 500], args.size), *norm)
        correct += int((model(xb).argmax(1) == y[i : i + 500]).sum())
    model.train()
    return correct / x_u8.shape[0]


def export_onnx(model: nn.Module, path: Path, size: int) -> None:
    model = model.cpu().float().eval()
    kwargs = dict(
        input_names=["input"],
        output_names=["logits"],
        opset_version=17,
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        do_constant_folding=True,
    )
    dummy = torch.zeros(1, 3, size, size)
    try:
        torch.onnx.export(model, dummy, str(path), dynamo=False, **kwargs)  # torch >= 2.5: keep TorchScript export
    except TypeError:
        torch.onnx.export(model, dummy, str(path), **kwargs)  # torch 1.13 (Debian) has no `dynamo` argument


def write_meta(out: Path, args: argparse.Namespace, norm: tuple[float, float]) -> None:
    mean, std = norm
    meta = {
        "id": MODEL_ID,
        "description": (
            f"MobileNetV2-style CNN (stride-2 stem, inverted residual blocks) for 3x{args.size}x{args.size} colour "
            f"input, trained on Fashion-MNIST resized to {args.size}x{args.size} and replicated to three channels "
            "by tools/train/train_mobilenetv2.py; early exits attached by `npm run model:exits` on the frozen network"
        ),
        "classes": CLASSES,
        "preprocessing": {
            "sourceSize": [SOURCE, SOURCE],
            "padding": 0,
            "resize": [args.size, args.size],
            "channelOrder": "rgb",
            "scale": 1 / 255,
            "mean": [mean] * 3,
            "std": [std] * 3,
        },
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    p.add_argument("--out", type=Path, default=Path("models/mobilenetv2-fmnist96/train"))
    p.add_argument("--size", type=int, default=96, help="model input height and width")
    p.add_argument("--cfg", default=DEFAULT_CFG, help="inverted residual stages t:c:n:s, comma separated")
    p.add_argument("--stem", type=int, default=16, help="stem output channels")
    p.add_argument("--last", type=int, default=384, help="channels of the last 1x1 conv before pooling")
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--wd", type=float, default=4e-5)
    p.add_argument("--shift", type=int, default=2, help="random shift in source pixels")
    p.add_argument("--label-smoothing", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=0, help="train on the first N images only (smoke test)")
    p.add_argument("--epoch-fraction", type=float, default=1.0,
                   help="each epoch draws this share of the (shuffled) training images; the schedule follows")
    p.add_argument("--probe-steps", type=int, default=0, help="time this many training steps, print the epoch estimate, stop")
    p.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint-last.pt")
    p.add_argument("--export-only", action="store_true", help="export <out>/checkpoint-last.pt to ONNX and stop")
    return p


def main() -> None:
    args = build_parser().parse_args()
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    ckpt_path = args.out / "checkpoint-last.pt"

    model = MobileNetV2Style(parse_cfg(args.cfg), args.stem, args.last, len(CLASSES), args.dropout)
    macs = count_macs(model, args.size)
    params = sum(p.numel() for p in model.parameters())
    if args.export_only:
        ckpt = torch.load(ckpt_path, map_location="cpu")
        model.load_state_dict(ckpt["model"])
        export_onnx(model, args.out / "model.onnx", args.size)
        write_meta(args.out, args, tuple(ckpt["norm"]))
        print(f"exported {args.out / 'model.onnx'}")
        return

    xtr, ytr = load_split(args.data, "train")
    xte, yte = load_split(args.data, "test")
    if args.limit:
        xtr, ytr = xtr[: args.limit], ytr[: args.limit]
    # Normalisation statistics of the resized training images (what the client's pixels will look like).
    sample = resize_u8(xtr[:10000], args.size).float() / 255.0
    norm = (round(float(sample.mean()), 4), round(float(sample.std()), 4))
    print(f"torch={torch.__version__} threads={args.threads} macs={macs / 1e6:.2f}M params={params / 1e6:.3f}M "
          f"norm={norm} train={xtr.shape[0]} test={xte.shape[0]}", flush=True)

    decay, no_decay = [], []
    for prm in model.parameters():
        (no_decay if prm.ndim <= 1 else decay).append(prm)
    opt = torch.optim.SGD([{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0}],
                          lr=args.lr, momentum=0.9, nesterov=True)
    steps_per_epoch = math.ceil(xtr.shape[0] * args.epoch_fraction / args.batch)
    gen = torch.Generator().manual_seed(args.seed)
    history: list[dict] = []
    start_epoch, spent = 0, 0.0
    if args.resume and ckpt_path.exists():
        ckpt = torch.load(ckpt_path, map_location="cpu")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["opt"])
        gen.set_state(ckpt["gen"])
        torch.set_rng_state(ckpt["torch_rng"])
        history, start_epoch, spent = ckpt["history"], ckpt["epoch"], ckpt["spent"]
        print(f"resumed after epoch {start_epoch}", flush=True)

    t_start = time.time()
    for epoch in range(start_epoch, args.epochs):
        t0 = time.time()
        perm = torch.randperm(xtr.shape[0], generator=gen)
        loss_sum, loss_n = 0.0, 0
        for step in range(steps_per_epoch):
            # Linear warm-up over the first epoch, then cosine decay to zero at the end of the run.
            t = epoch + step / steps_per_epoch
            lr = args.lr * (t if epoch == 0 else 0.5 * (1 + math.cos(math.pi * (t - 1) / max(1, args.epochs - 1))))
            for g in opt.param_groups:
                g["lr"] = lr
            idx = perm[step * args.batch : (step + 1) * args.batch]
            xb = to_input(resize_u8(augment_u8(xtr[idx], gen, args.shift), args.size), *norm)
            loss = F.cross_entropy(model(xb), ytr[idx], label_smoothing=args.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum, loss_n = loss_sum + loss.item(), loss_n + 1
            if step % 20 == 0:
                el = time.time() - t0
                print(f"epoch {epoch + 1}/{args.epochs} step {step}/{steps_per_epoch} loss {loss_sum / loss_n:.3f} "
                      f"{el:.0f}s ({el / (step + 1):.2f}s/step)", flush=True)
            if args.probe_steps and step + 1 >= args.probe_steps:
                per_step = (time.time() - t0) / args.probe_steps
                print(json.dumps({"probeSteps": args.probe_steps, "secondsPerStep": round(per_step, 3),
                                  "epochSecondsEstimate": round(per_step * steps_per_epoch), "macs": macs,
                                  "params": params}), flush=True)
                return
        train_s = time.time() - t0
        acc = evaluate(model, xte, yte, args, norm)
        dt = time.time() - t0
        history.append({"epoch": epoch + 1, "trainSeconds": round(train_s, 1), "seconds": round(dt, 1),
                        "lr": lr, "trainLoss": round(loss_sum / loss_n, 4), "testAccuracy": acc})
        print(f"epoch {epoch + 1}/{args.epochs} done in {dt:.0f}s (train {train_s:.0f}s) "
              f"loss {loss_sum / loss_n:.3f} test acc {acc:.4f}", flush=True)
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                    "torch_rng": torch.get_rng_state(), "history": history, "epoch": epoch + 1,
                    "spent": spent + time.time() - t_start, "norm": norm}, ckpt_path)
        write_log(args, history, macs, params, norm, spent + time.time() - t_start)

    torch.save(model.state_dict(), args.out / "weights.pt")
    export_onnx(model, args.out / "model.onnx", args.size)
    write_meta(args.out, args, norm)
    print(json.dumps({"epochs": args.epochs, "testAccuracy": history[-1]["testAccuracy"],
                      "trainSeconds": round(spent + time.time() - t_start, 1)}), flush=True)


def write_log(args: argparse.Namespace, history: list[dict], macs: int, params: int, norm, seconds: float) -> None:
    log = {
        "model": MODEL_ID,
        "recipe": "tools/train/train_mobilenetv2.py",
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "macs": macs,
        "params": params,
        "normalisation": {"mean": norm[0], "std": norm[1]},
        "device": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "trainSeconds": round(seconds, 1),
        "testAccuracy": history[-1]["testAccuracy"],
        "history": history,
    }
    (args.out / "train-log.json").write_text(json.dumps(log, indent=1) + "\n")


if __name__ == "__main__":
    main()
