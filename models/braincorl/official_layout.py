"""The published BraInCoRL module layout, restated only to test convert_checkpoint.py offline
(the official checkpoint cannot be downloaded here): same state-dict names and shapes, and an
independent forward through torch's nn.MultiheadAttention, so the conversion is checked against
attention code that is not ours."""
import math
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def residual_block(d_in, d_out, hidden):
    m = nn.Module()
    m.block = nn.Sequential(nn.LayerNorm(d_in), nn.LeakyReLU(0.1), nn.Dropout(0.0), nn.Linear(d_in, hidden),
                            nn.LayerNorm(hidden), nn.LeakyReLU(0.1), nn.Dropout(0.0), nn.Linear(hidden, d_out))
    m.bypass = nn.Linear(d_in, d_out) if d_in != d_out else nn.Identity()
    m.forward = lambda x: m.block(x) + m.bypass(x)
    return m


class OfficialBlock(nn.Module):
    def __init__(self, width, hidden, heads):
        super().__init__()
        self.layer_norm_1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.layer_norm_2 = nn.LayerNorm(width)
        self.ffn = nn.Module()
        self.ffn.linear1 = nn.Linear(width, 2 * hidden)
        self.ffn.linear2 = nn.Linear(hidden, width)

    def forward(self, x):
        h = self.layer_norm_1(x)
        x = x + self.attn(math.log(h.shape[-2]) * h, h, h, need_weights=False)[0]
        a, b = self.ffn.linear1(self.layer_norm_2(x)).chunk(2, dim=-1)
        return x + self.ffn.linear2(F.silu(a) * b)


class OfficialLayout(nn.Module):
    def __init__(self, embed_dim=512, width=560, blocks=20, heads=10, ffn_hidden=2048, registers=4, mlp_hidden=1120):
        super().__init__()
        self.early_layers = nn.Sequential(residual_block(embed_dim + 1, width, mlp_hidden))
        self.cls_token = nn.Parameter(torch.randn(1, registers, width) / math.sqrt(width + 1))
        self.transformer = nn.Sequential(*(OfficialBlock(width, ffn_hidden, heads) for _ in range(blocks)))
        self.weight_pred = nn.Sequential(residual_block(width, embed_dim + 1, mlp_hidden))

    def forward(self, ic_img, ic_nrn, unknown_img):
        x = self.early_layers(torch.cat([ic_img, ic_nrn.unsqueeze(-1)], dim=-1))
        x = self.transformer(torch.cat([self.cls_token.repeat(x.shape[0], 1, 1), x], dim=1))
        w = self.weight_pred(x[:, 0])
        return (w[:, :-1].unsqueeze(1) * unknown_img).sum(-1) + w[:, -1:], w


def self_test(convert, export, blocks=20):
    """Random official-layout CLIP checkpoint (saved as a Lightning-style file) -> our model ->
    ONNX; PyTorch outputs of both layouts must agree."""
    torch.manual_seed(0)
    official = OfficialLayout(blocks=blocks).eval()
    # LayerNorm affine parameters are 1/0 at init; randomise them so a mix-up would show.
    with torch.no_grad():
        for name, p in official.named_parameters():
            if 'layer_norm' in name or '.block.0.' in name or '.block.4.' in name:
                p.add_(0.1 * torch.randn_like(p))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'CLIP_random.pth')
        torch.save({'state_dict': official.state_dict(), 'epoch': 0}, path)
        from convert_checkpoint import official_state_dict

        model, cfg = convert(official_state_dict(torch.load(path)), heads=10)
        B, S, Q = 6, 57, 7
        img = F.normalize(torch.randn(B, S, 512), dim=-1)
        nrn = torch.randn(B, S)
        nrn = (nrn - nrn.mean(1, keepdim=True)) / nrn.std(1, unbiased=False, keepdim=True)
        uk = F.normalize(torch.randn(B, Q, 512), dim=-1)
        with torch.no_grad():
            pred_o, w_o = official(img, nrn, uk)
            w = model(img, nrn)
            pred = (uk @ w[:, :-1].unsqueeze(-1)).squeeze(-1) + w[:, -1:]
        dw = (w - w_o).abs().max().item()
        dp = (pred - pred_o).abs().max().item()
        print(f'config {cfg}; official vs converted: max |dw| {dw:.2e}, max |dpred| {dp:.2e}')
        assert dw < 1e-4 and dp < 1e-4, 'converted model disagrees with the official layout'
        out = os.path.join(tmp, 'converted.onnx')
        export(model, None, out, True, 500, architecture='self-test')
        import onnx

        m = onnx.load(out)
        print('ONNX inputs', [i.name for i in m.graph.input], 'outputs', [o.name for o in m.graph.output],
              'metadata', {p.key: p.value[:20] for p in m.metadata_props}, f'{os.path.getsize(out) / 1e6:.0f} MB')
    print('self-test passed')
