"""Export a vision backbone to the ONNX form BrainAlign registers as a BACKBONE.

The contract (src/compute/vision/backbone.ts): one input, float32 [B, 3, H, W] with B dynamic;
every graph output is a layer, named by its output name ([B, C, H, W] CNN stages, [B, T, C]
transformer tokens with CLS first, or [B, C]); metadata `brainalign.preprocess` (JSON: preset or
inputSize, resize, resizeSize, interpolation, scale, mean, std) and optionally
`brainalign.pooling` (JSON: layer -> cls | mean | gap | flatten | none).

Usage (torch >= 1.13, torchvision >= 0.14; Hugging Face models also need `transformers`):

  # torchvision: intermediate nodes by their torchvision.models.feature_extraction names
  python3 models/backbones/export_backbone.py torchvision resnet50 --weights resnet50.pth \
      --layers layer1,layer2,layer3,layer4 --preset imagenet --out resnet50.onnx

  # Hugging Face CLIP ViT-B/32 (vision tower): hidden states of chosen blocks, CLS pooling
  python3 models/backbones/export_backbone.py hf openai/clip-vit-base-patch32 \
      --layers 4,8,12 --preset clip --pooling cls --out clip-vit-b32.onnx

  # Hugging Face DINOv2 ViT-B/14 (mean over tokens)
  python3 models/backbones/export_backbone.py hf facebook/dinov2-base \
      --layers 4,8,12 --preset imagenet --pooling mean --out dinov2-base.onnx
"""
import argparse
import json

import torch


class LayerOutputs(torch.nn.Module):
    """Wraps a model returning a dict of named tensors so ONNX export keeps the names."""

    def __init__(self, model, names):
        super().__init__()
        self.model = model
        self.names = list(names)

    def forward(self, pixels):
        out = self.model(pixels)
        return tuple(out[n] for n in self.names)


def torchvision_extractor(arch, weights, layers):
    import torchvision
    from torchvision.models.feature_extraction import create_feature_extractor

    model = getattr(torchvision.models, arch)(weights=None)
    if weights:
        model.load_state_dict(torch.load(weights, map_location="cpu"))
    extractor = create_feature_extractor(model.eval(), return_nodes={l: l for l in layers})
    return LayerOutputs(extractor, layers)


class HfHiddenStates(torch.nn.Module):
    """Hidden states of chosen transformer blocks (index 0 = embeddings) as [B, T, C] each."""

    def __init__(self, model, blocks):
        super().__init__()
        self.model = model
        self.blocks = blocks

    def forward(self, pixels):
        states = self.model(pixel_values=pixels, output_hidden_states=True).hidden_states
        return tuple(states[b] for b in self.blocks)


def hf_extractor(name, blocks):
    import transformers

    config = transformers.AutoConfig.from_pretrained(name)
    if config.model_type == "clip":
        model = transformers.CLIPVisionModel.from_pretrained(name)
    else:
        model = transformers.AutoModel.from_pretrained(name)
    return HfHiddenStates(model.eval(), [int(b) for b in blocks])


def export(module, out_names, path, preprocess, pooling=None, size=(224, 224), opset=14, metadata=None):
    """Exports `module` (pixels -> tuple of layer tensors) with a dynamic batch and the metadata set."""
    import onnx

    dummy = torch.zeros(2, 3, *size)
    torch.onnx.export(
        module.eval(),
        dummy,
        path,
        input_names=["pixels"],
        output_names=out_names,
        dynamic_axes={"pixels": {0: "B"}, **{n: {0: "B"} for n in out_names}},
        opset_version=opset,
        do_constant_folding=True,
    )
    model = onnx.load(path)
    props = {"brainalign.preprocess": json.dumps(preprocess)}
    if pooling:
        props["brainalign.pooling"] = json.dumps(pooling)
    props.update(metadata or {})
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", choices=["torchvision", "hf"])
    p.add_argument("name", help="torchvision architecture (resnet50) or Hugging Face model id")
    p.add_argument("--weights", help="torchvision state_dict file (no download happens)")
    p.add_argument("--layers", required=True, help="comma-separated node names (torchvision) or block indices (hf)")
    p.add_argument("--preset", choices=["clip", "imagenet"], required=True)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--pooling", help="pooling for every layer: cls, mean, gap, flatten, none")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    layers = a.layers.split(",")
    if a.source == "torchvision":
        module, names = torchvision_extractor(a.name, a.weights, layers), layers
    else:
        module, names = hf_extractor(a.name, layers), [f"block{l}" for l in layers]
    preprocess = {"preset": a.preset} if a.size == 224 else {"preset": a.preset, "inputSize": a.size}
    pooling = {n: a.pooling for n in names} if a.pooling else None
    export(module, names, a.out, preprocess, pooling, size=(a.size, a.size), metadata={"brainalign.architecture": a.name})


if __name__ == "__main__":
    main()
