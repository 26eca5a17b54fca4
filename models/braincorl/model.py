"""BraInCoRL's in-context voxelwise encoder, written from the published architecture
("Meta-Learning an In-Context Transformer Model of Human Higher Visual Cortex", NeurIPS 2025).

Per voxel it reads S in-context pairs (unit-norm image embedding, z-scored response) as a set (no
positional encoding) and emits that voxel's linear readout: E weights and a bias.

  tokens  = ResidualMLP(E+1 -> width)([img, response])       one token per context image
  x       = [registers (4 learned tokens); tokens]
  x       = blocks(x)       pre-norm attention (queries scaled by log(sequence length)) + SwiGLU
  weights = ResidualMLP(width -> E+1)(x[:, 0])                register 0 carries the readout

Written for ONNX export (opset 14) with dynamic voxel batch B and context size S: attention is
spelled out with MatMul/Softmax, and the log-length scale is computed from the runtime shape.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# The reference config is small enough to meta-train on two CPU cores; CLIP is the published one.
CONFIGS = {
    'reference': dict(embed_dim=512, width=128, blocks=3, heads=4, ffn_hidden=256, registers=4, mlp_hidden=256),
    'clip': dict(embed_dim=512, width=560, blocks=20, heads=10, ffn_hidden=2048, registers=4, mlp_hidden=1120),
    'vis': dict(embed_dim=512, width=560, blocks=3, heads=10, ffn_hidden=2048, registers=4, mlp_hidden=1120),
}


class ResidualMLP(nn.Module):
    """Pre-activation residual block: (LayerNorm, LeakyReLU 0.1, Linear) twice, plus a linear
    bypass when the widths differ."""

    def __init__(self, d_in, d_out, hidden):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_in)
        self.fc1 = nn.Linear(d_in, hidden)
        self.norm2 = nn.LayerNorm(hidden)
        self.fc2 = nn.Linear(hidden, d_out)
        self.bypass = nn.Linear(d_in, d_out) if d_in != d_out else None

    def forward(self, x):
        h = self.fc1(F.leaky_relu(self.norm1(x), 0.1))
        h = self.fc2(F.leaky_relu(self.norm2(h), 0.1))
        return h + (self.bypass(x) if self.bypass is not None else x)


class SwiGLU(nn.Module):
    def __init__(self, width, hidden):
        super().__init__()
        self.gate_value = nn.Linear(width, 2 * hidden)  # first half gate (SiLU), second half value
        self.out = nn.Linear(hidden, width)
        self.hidden = hidden

    def forward(self, x):
        h = self.gate_value(x)
        return self.out(F.silu(h[..., : self.hidden]) * h[..., self.hidden :])


class LogScaledAttention(nn.Module):
    """Multi-head self-attention whose query input is multiplied by log(sequence length) before the
    projection (as BraInCoRL does), so attention sharpens as the context grows; then the usual
    1/sqrt(head_dim)."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = width // heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x):
        B, T, D = x.shape
        # log(T) from the runtime shape as a tensor, so an exported graph stays valid for any S.
        log_len = torch.log(torch.ones_like(x[:, :, :1]).sum(dim=1, keepdim=True))  # [B, 1, 1]
        w_q, w_k, w_v = self.qkv.weight.chunk(3, dim=0)
        b_q, b_k, b_v = self.qkv.bias.chunk(3, dim=0)
        # 1/sqrt(head_dim) folded into the queries: cheaper than scaling the [T, T] logits.
        q = F.linear(x * log_len, w_q, b_q) * (1.0 / math.sqrt(self.head_dim))
        k = F.linear(x, w_k, b_k)
        v = F.linear(x, w_v, b_v)
        split = lambda t: t.reshape(B, T, self.heads, self.head_dim).transpose(1, 2)  # [B, H, T, dh]
        q, k, v = split(q), split(k), split(v)
        att = torch.softmax(torch.matmul(q, k.transpose(-1, -2)), dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(B, T, D)
        return self.out(y)


class Block(nn.Module):
    def __init__(self, width, heads, ffn_hidden):
        super().__init__()
        self.norm_attn = nn.LayerNorm(width)
        self.attn = LogScaledAttention(width, heads)
        self.norm_ffn = nn.LayerNorm(width)
        self.ffn = SwiGLU(width, ffn_hidden)

    def forward(self, x):
        x = x + self.attn(self.norm_attn(x))
        return x + self.ffn(self.norm_ffn(x))


class InContextEncoder(nn.Module):
    """ic_img [B, S, E] (unit-norm rows), ic_nrn [B, S] (z-scored per voxel) -> weights [B, E+1]."""

    def __init__(self, embed_dim, width, blocks, heads, ffn_hidden, registers, mlp_hidden):
        super().__init__()
        self.embed_dim = embed_dim
        self.embed = ResidualMLP(embed_dim + 1, width, mlp_hidden)
        self.registers = nn.Parameter(torch.randn(1, registers, width) / math.sqrt(width + 1))
        self.blocks = nn.ModuleList(Block(width, heads, ffn_hidden) for _ in range(blocks))
        self.readout = ResidualMLP(width, embed_dim + 1, mlp_hidden)

    def forward(self, ic_img, ic_nrn):
        x = self.embed(torch.cat([ic_img, ic_nrn.unsqueeze(-1)], dim=-1))
        x = torch.cat([self.registers.expand(x.shape[0], -1, -1), x], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.readout(x[:, 0])


class WithPrediction(nn.Module):
    """The three-input variant: also predicts responses to unknown_img [B, Q, E] -> pred [B, Q]."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, ic_img, ic_nrn, unknown_img):
        weights = self.encoder(ic_img, ic_nrn)
        return weights, predict(weights, unknown_img)


def predict(weights, img):
    """weights [B, E+1], img [B, Q, E] -> [B, Q]: w.x + b per voxel."""
    return torch.matmul(img, weights[:, :-1].unsqueeze(-1)).squeeze(-1) + weights[:, -1:]


def build(name='reference'):
    return InContextEncoder(**CONFIGS[name])
