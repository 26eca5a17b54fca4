"""The PyTorch side of `npm run bench -- features`.

  features_torch.py prepare DIR N      N JPEGs 425 x 425 (seeded scenes) in DIR/images, and the
                                       bench graphs DIR/resnet50.onnx, DIR/vit_b16.onnx (random
                                       weights, with their state dicts) by models/backbones
  features_torch.py run DIR MODEL N    PIL decode + torchvision transforms in a DataLoader with 2
                                       workers, batch 32, forward on CPU, pooled like the ONNX
                                       layers; prints one JSON line
"""
import json
import os
import resource
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "models", "backbones"))


def prepare(out, n):
    from PIL import Image

    import test_backbones as tb

    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:425, 0:425].astype(np.float32) / 425
    for i in range(n):
        f = rng.uniform(0.5, 6, (3, 2))
        ph = rng.uniform(0, 6.3, 3)
        img = np.stack([0.5 + 0.4 * np.sin(2 * np.pi * (f[c, 0] * x + f[c, 1] * y) + ph[c]) for c in range(3)], -1)
        img += rng.normal(0, 0.08, img.shape).astype(np.float32)
        Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(os.path.join(out, "images", f"{i:05d}.jpg"), quality=90)
    if not os.path.exists(os.path.join(out, "resnet50.onnx")):
        tb.bench_graphs(out)


class Images:
    def __init__(self, files, transform):
        self.files, self.transform = files, transform

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        from PIL import Image

        return self.transform(Image.open(self.files[i]).convert("RGB"))


def run(out, model_name, n):
    import torch
    import torchvision
    from torchvision import transforms

    import test_backbones as tb

    files = sorted(os.path.join(out, "images", f) for f in os.listdir(os.path.join(out, "images")))[:n]
    if model_name == "resnet50":
        from torchvision.models.feature_extraction import create_feature_extractor

        net = torchvision.models.resnet50(weights=None)
        net.load_state_dict(torch.load(os.path.join(out, "resnet50.pt")))
        layers = ["layer2", "layer3", "layer4"]
        extractor = create_feature_extractor(net.eval(), {l: l for l in layers})

        def forward(x):
            o = extractor(x)
            return [o[l].mean(dim=(2, 3)) for l in layers]

        tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    else:
        vit = tb.TinyVit(size=224, patch=16, width=768, depth=12, heads=12)
        vit.load_state_dict(torch.load(os.path.join(out, "vit_b16.pt")))
        vit.eval()

        def forward(x):
            o = vit(x)
            return [o[3][:, 0], o[7][:, 0], o[11][:, 0]]

        tf = transforms.Compose([
            transforms.Resize(224, interpolation=transforms.InterpolationMode.BICUBIC),
            transforms.CenterCrop(224),
            transforms.ToTensor(),
            transforms.Normalize([0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]),
        ])
    loader = torch.utils.data.DataLoader(Images(files, tf), batch_size=32, num_workers=2)
    t0 = time.perf_counter()
    rows = 0
    with torch.no_grad():
        for batch in loader:
            feats = forward(batch)
            rows += feats[0].shape[0]
    seconds = time.perf_counter() - t0
    print(json.dumps({
        "model": model_name,
        "images": rows,
        "seconds": seconds,
        "images_per_second": rows / seconds,
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2], int(sys.argv[3]))
    else:
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]))
