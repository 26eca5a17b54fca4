"""Two tiny backbones with seeded random weights, for tests and the demo (each well under 1 MB).

  tiny-cnn: four conv stages (stride 2) at 64 x 64 input, outputs stage1..stage4 [B, C, H, W]
            and logits [B, 10]; ImageNet statistics, shorter side 73 (bilinear) + centre crop 64.
  tiny-vit: 8 x 8 patches of a 64 x 64 input, a CLS token, two transformer blocks; outputs
            block1, block2 [B, 65, 32] tokens; CLIP statistics, bicubic, shorter side 64 + crop.

Also builds bench-sized graphs (ResNet-50 at 224, ViT-B/16 at 224, random weights) on request.

  /usr/bin/python3 models/backbones/test_backbones.py            # writes models/backbones/tiny-*.onnx
  /usr/bin/python3 models/backbones/test_backbones.py --bench DIR # writes DIR/resnet50.onnx, DIR/vit_b16.onnx
"""
import argparse
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_backbone import export  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class TinyCnn(torch.nn.Module):
    names = ["stage1", "stage2", "stage3", "stage4", "logits"]

    def __init__(self):
        super().__init__()
        widths = [3, 8, 16, 24, 32]
        self.stages = torch.nn.ModuleList(
            torch.nn.Sequential(torch.nn.Conv2d(widths[i], widths[i + 1], 3, stride=2, padding=1), torch.nn.BatchNorm2d(widths[i + 1]), torch.nn.ReLU())
            for i in range(4)
        )
        self.head = torch.nn.Linear(32, 10)

    def forward(self, x):
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        outs.append(self.head(x.mean(dim=(2, 3))))
        return tuple(outs)


class Block(torch.nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = torch.nn.LayerNorm(width)
        self.qkv = torch.nn.Linear(width, 3 * width)
        self.proj = torch.nn.Linear(width, width)
        self.norm2 = torch.nn.LayerNorm(width)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(width, 4 * width), torch.nn.GELU(), torch.nn.Linear(4 * width, width))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(B, T, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(C // self.heads), dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(B, T, C))
        return x + self.mlp(self.norm2(x))


class TinyVit(torch.nn.Module):
    def __init__(self, size=64, patch=8, width=32, depth=2, heads=4):
        super().__init__()
        self.names = [f"block{i + 1}" for i in range(depth)]
        self.patch = torch.nn.Conv2d(3, width, patch, stride=patch)
        self.cls = torch.nn.Parameter(torch.randn(1, 1, width) * 0.5)
        self.pos = torch.nn.Parameter(torch.randn(1, 1 + (size // patch) ** 2, width) * 0.5)
        self.blocks = torch.nn.ModuleList(Block(width, heads) for _ in range(depth))

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        outs = []
        for block in self.blocks:
            x = block(x)
            outs.append(x)
        return tuple(outs)


def randomise_batchnorm(model, seed):
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)


def tiny_cnn():
    torch.manual_seed(12)
    m = TinyCnn()
    randomise_batchnorm(m, 12)
    return m.eval()


def tiny_vit():
    torch.manual_seed(13)
    return TinyVit().eval()


CNN_PREPROCESS = {"preset": "imagenet", "inputSize": 64, "resizeSize": 73}
VIT_PREPROCESS = {"preset": "clip", "inputSize": 64, "resizeSize": 64}
VIT_POOLING = {"block1": "cls", "block2": "mean"}


def bench_graphs(out_dir):
    import torchvision

    torch.manual_seed(0)
    resnet = torchvision.models.resnet50(weights=None).eval()
    from torchvision.models.feature_extraction import create_feature_extractor
    from export_backbone import LayerOutputs

    layers = ["layer2", "layer3", "layer4"]
    export(LayerOutputs(create_feature_extractor(resnet, {l: l for l in layers}), layers), layers, os.path.join(out_dir, "resnet50.onnx"), {"preset": "imagenet"})
    torch.save(resnet.state_dict(), os.path.join(out_dir, "resnet50.pt"))
    vit = TinyVit(size=224, patch=16, width=768, depth=12, heads=12).eval()
    names = vit.names[3::4]  # block4, block8, block12

    class Picked(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.vit = vit

        def forward(self, x):
            outs = self.vit(x)
            return tuple(outs[int(n[5:]) - 1] for n in names)

    export(Picked(), names, os.path.join(out_dir, "vit_b16.onnx"), {"preset": "clip"}, {n: "cls" for n in names})
    torch.save(vit.state_dict(), os.path.join(out_dir, "vit_b16.pt"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bench", help="directory for the bench-sized graphs")
    a = p.parse_args()
    if a.bench:
        bench_graphs(a.bench)
        return
    export(tiny_cnn(), TinyCnn.names, os.path.join(HERE, "tiny-cnn.onnx"), CNN_PREPROCESS, size=(64, 64), metadata={"brainalign.architecture": "tiny-cnn"})
    vit = tiny_vit()
    export(vit, vit.names, os.path.join(HERE, "tiny-vit.onnx"), VIT_PREPROCESS, VIT_POOLING, size=(64, 64), metadata={"brainalign.architecture": "tiny-vit"})


if __name__ == "__main__":
    main()
