"""PyTorch reference of framecast's per-frame VQ-VAE tokenizer (Sources/VQVAE).

Same architecture, parameter names and arithmetic as the Swift code, so a framecast tokenizer
checkpoint loads with `load_state_dict` and gives the same codes and reconstructions.
Shapes: B frames, H×W pixels, D code dimension, K codes, h×w code grid (H/h = W/w = stride).
"""
from dataclasses import dataclass, fields
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from safetensors_io import config_of, read

TOKENIZER_FORMAT = "framecast-tokenizer"


@dataclass
class VQVAEConfig:
    """VQVAEConfig.swift; field names as in the checkpoint's JSON."""
    frameWidth: int = 64
    frameHeight: int = 64
    gridWidth: int = 8
    gridHeight: int = 8
    codebookSize: int = 512
    codeDim: int = 16
    baseChannels: int = 64
    maxChannels: int = 128
    blocksPerLevel: int = 1
    encoderBlocksPerLevel: Optional[int] = None  # None: blocksPerLevel
    beta: float = 0.25
    emaDecay: float = 0.99
    fit: Optional[str] = None  # how videos become frames (stretch, pad, crop); None: crop. Not used by the model.

    @classmethod
    def from_dict(cls, d):
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    @property
    def encoderBlocks(self):
        return self.blocksPerLevel if self.encoderBlocksPerLevel is None else self.encoderBlocksPerLevel

    @property
    def stride(self):
        return self.frameWidth // self.gridWidth

    @property
    def level_channels(self):
        """Channels per resolution level below the 2x space-to-depth stem (frame/2 first, grid last)."""
        levels, size, channels = [], self.stride // 2, self.baseChannels
        while True:
            levels.append(channels)
            if size <= 1:
                return levels
            size //= 2
            channels = min(channels * 2, self.maxChannels)


def norm_groups(*channels):
    """The largest of 32, 16, 8, 4, 2, 1 that divides every channel count."""
    return next(g for g in (32, 16, 8, 4, 2, 1) if all(c % g == 0 for c in channels))


class ResidualBlock(nn.Module):
    """GroupNorm -> SiLU -> conv3x3 -> GroupNorm -> SiLU -> conv3x3, plus the input (1x1 `skip` if channels change)."""

    def __init__(self, cin, cout):
        super().__init__()
        g = norm_groups(cin, cout)
        self.norm1 = nn.GroupNorm(g, cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(g, cout, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):                                # [B, Cin, H, W] -> [B, Cout, H, W]
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (self.skip(x) if self.skip is not None else x)


class Encoder(nn.Module):
    """Frame -> z_e: pixel_unshuffle(2) stem, residual levels with stride-2 convs between them."""

    def __init__(self, c: VQVAEConfig):
        super().__init__()
        ch = c.level_channels
        last = len(ch) - 1
        self.stem = nn.Conv2d(12, ch[0], 3, padding=1)  # [B, 12, H/2, W/2] -> [B, C0, H/2, W/2]
        self.levels = nn.ModuleList(
            nn.ModuleList(ResidualBlock(n, n) for _ in range(c.encoderBlocks + (1 if i == last else 0)))
            for i, n in enumerate(ch))
        self.downs = nn.ModuleList(nn.Conv2d(ch[i - 1], ch[i], 3, stride=2, padding=1) for i in range(1, len(ch)))
        self.norm = nn.GroupNorm(norm_groups(ch[-1]), ch[-1], eps=1e-5)
        self.project = nn.Conv2d(ch[-1], c.codeDim, 1)

    def forward(self, x):                                # x: [B, 3, H, W] in [-1, 1]
        h = self.stem(F.pixel_unshuffle(x, 2))           # [B, C0, H/2, W/2]
        for i, blocks in enumerate(self.levels):
            for block in blocks:
                h = block(h)
            if i < len(self.downs):
                h = self.downs[i](h)                     # halve the resolution
        return self.project(F.silu(self.norm(h)))        # z_e: [B, D, h, w]


class Decoder(nn.Module):
    """z_q -> frame: residual levels (lowest resolution first), nearest 2x upsample + conv3x3 between
    them, GroupNorm -> SiLU -> conv3x3 to 12 channels and pixel_shuffle(2). Output is unbounded."""

    def __init__(self, c: VQVAEConfig):
        super().__init__()
        ch = list(reversed(c.level_channels))
        self.input = nn.Conv2d(c.codeDim, ch[0], 3, padding=1)  # [B, D, h, w] -> [B, C_last, h, w]
        self.levels = nn.ModuleList(
            nn.ModuleList(ResidualBlock(n, n) for _ in range(c.blocksPerLevel + (1 if i == 0 else 0)))
            for i, n in enumerate(ch))
        self.ups = nn.ModuleList(nn.Conv2d(ch[i - 1], ch[i], 3, padding=1) for i in range(1, len(ch)))
        self.norm = nn.GroupNorm(norm_groups(ch[-1]), ch[-1], eps=1e-5)
        self.head = nn.Conv2d(ch[-1], 12, 3, padding=1)  # -> [B, 12, H/2, W/2]

    def forward(self, z):                                # z: [B, D, h, w]
        h = self.input(z)
        for i, blocks in enumerate(self.levels):
            for block in blocks:
                h = block(h)
            if i < len(self.ups):
                h = self.ups[i](F.interpolate(h, scale_factor=2, mode="nearest"))  # double the resolution
        return F.pixel_shuffle(self.head(F.silu(self.norm(h))), 2)                # [B, 3, H, W]


class VectorQuantizer(nn.Module):
    """Nearest code (L2) with a straight-through gradient; codebook trained by EMA (emaDecay > 0)
    or by its loss term. Dead codes are restarted at random encodings of the batch."""

    def __init__(self, codebook_size, code_dim, ema_decay):
        super().__init__()
        self.codebook_size, self.code_dim, self.ema_decay = codebook_size, code_dim, ema_decay
        bound = 1.0 / codebook_size
        codebook = torch.empty(codebook_size, code_dim).uniform_(-bound, bound)      # [K, D]
        if ema_decay > 0:
            self.register_buffer("codebook", codebook)
        else:
            self.codebook = nn.Parameter(codebook)
        self.register_buffer("ema_count", torch.zeros(codebook_size))               # [K]
        self.register_buffer("ema_sum", torch.zeros(codebook_size, code_dim))       # [K, D]

    @torch.no_grad()
    def nearest(self, z):                                # z: [N, D] -> [N] int64
        e = self.codebook.detach()
        # ||z - e||^2 = ||z||^2 - 2 z.e + ||e||^2; ||z||^2 is the same for every code.
        scores = e.square().sum(1).unsqueeze(0) - 2 * z.matmul(e.t())               # [N, K]
        return scores.argmin(1)

    def forward(self, ze):                               # ze: [B, D, h, w]
        b, d, h, w = ze.shape
        z = ze.permute(0, 2, 3, 1).reshape(b * h * w, d)                             # [N, D]
        indices = self.nearest(z.detach())                                           # [N]
        e = F.embedding(indices, self.codebook)                                      # [N, D]
        commitment = F.mse_loss(z, e.detach())
        codebook_loss = F.mse_loss(z.detach(), e)
        straight = z + (e - z).detach()                                              # value e, gradient to z
        quantized = straight.reshape(b, h, w, d).permute(0, 3, 1, 2).contiguous()    # [B, D, h, w]
        return quantized, indices.reshape(b, h, w), commitment, codebook_loss

    def lookup(self, indices):                           # [B, h, w] int64 -> [B, D, h, w]
        return F.embedding(indices, self.codebook).permute(0, 3, 1, 2).contiguous()

    @torch.no_grad()
    def update(self, z, indices, dead_threshold):
        """One EMA step from encodings z [N, D] and their codes [N], then dead-code restarts."""
        z = z.detach()
        k = self.codebook_size
        if self.ema_decay > 0:
            onehot = F.one_hot(indices, k).float()                                   # [N, K]
            self.ema_count.mul_(self.ema_decay).add_(onehot.sum(0), alpha=1 - self.ema_decay)
            self.ema_sum.mul_(self.ema_decay).add_(onehot.t().matmul(z), alpha=1 - self.ema_decay)
            total = self.ema_count.sum()
            smoothed = (self.ema_count + 1e-5) / (total + 1e-5 * k) * total          # Laplace smoothing
            self.codebook.copy_(self.ema_sum / smoothed.unsqueeze(1))
        else:
            self.ema_count.mul_(0.99).add_(F.one_hot(indices, k).float().sum(0), alpha=0.01)
        dead = self.ema_count < dead_threshold                                       # [K] bool
        count = int(dead.sum())
        if count:
            candidates = z[torch.randint(0, z.shape[0], (k,))]                       # [K, D]
            mask = dead.unsqueeze(1)
            self.codebook.copy_(torch.where(mask, candidates, self.codebook))
            self.ema_sum.copy_(torch.where(mask, candidates * dead_threshold, self.ema_sum))
            self.ema_count.copy_(torch.where(dead, torch.full((k,), dead_threshold), self.ema_count))
        return count


class VQVAE(nn.Module):
    def __init__(self, config: VQVAEConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        self.quantizer = VectorQuantizer(config.codebookSize, config.codeDim, config.emaDecay)

    def forward(self, x):
        """x: [B, 3, H, W] in [-1, 1] -> (reconstruction [B, 3, H, W], z_e [N, D], quantizer outputs)."""
        ze = self.encoder(x)                                                         # [B, D, h, w]
        q = self.quantizer(ze)
        recon = self.decoder(q[0])                                                   # [B, 3, H, W]
        latents = ze.permute(0, 2, 3, 1).reshape(-1, self.config.codeDim)            # [N, D]
        return recon, latents, q

    @torch.no_grad()
    def encode(self, frames):
        """uint8 frames [B, H, W, 3] -> codes [B, h, w] int64."""
        ze = self.encoder(frames_to_tensor(frames))
        codes = self.quantizer.nearest(ze.permute(0, 2, 3, 1).reshape(-1, self.config.codeDim))
        return codes.reshape(frames.shape[0], self.config.gridHeight, self.config.gridWidth)

    @torch.no_grad()
    def decode(self, codes):
        """codes [B, h, w] int64 -> uint8 frames [B, H, W, 3]."""
        return tensor_to_frames(self.decoder(self.quantizer.lookup(codes)))


def frames_to_tensor(frames):
    """FrameTensor.fromBytes: uint8 [B, H, W, 3] -> float [B, 3, H, W] in [-1, 1]."""
    return frames.permute(0, 3, 1, 2).float() / 127.5 - 1


def tensor_to_frames(x):
    """FrameTensor.toBytes: [B, 3, H, W] in [-1, 1] -> uint8 [B, H, W, 3] (clamped, rounded half to even)."""
    return ((x + 1) * 127.5).clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def load_tokenizer(path):
    """A framecast tokenizer checkpoint (tokenizer.safetensors or a training checkpoint; F32 or
    compact F16) -> VQVAE in eval mode, plus the file's metadata."""
    tensors, metadata = read(path)
    config = VQVAEConfig.from_dict(config_of(metadata, path, TOKENIZER_FORMAT))
    model = VQVAE(config)
    state = {k: v.float() for k, v in tensors.items() if not k.startswith("optimizer.")}
    model.load_state_dict(state, strict=True)
    return model.eval(), metadata


def encoder_flops_per_frame(c: VQVAEConfig):
    """Forward FLOPs of the encoder's convolutions per frame (multiply-add = 2), as VQVAE+FLOPs.swift."""
    ch = c.level_channels
    pixels = (c.frameWidth // 2) * (c.frameHeight // 2)
    def conv(cin, cout, k, px):
        return 2 * cin * cout * k * k * px
    flops = conv(12, ch[0], 3, pixels)
    for i, n in enumerate(ch):
        if i > 0:
            pixels //= 4
            flops += conv(ch[i - 1], n, 3, pixels)
        flops += (c.encoderBlocks + (1 if i == len(ch) - 1 else 0)) * 2 * conv(n, n, 3, pixels)
    return flops + conv(ch[-1], c.codeDim, 1, pixels)


def forward_flops_per_frame(c: VQVAEConfig):
    """Encoder + decoder convolution FLOPs per frame, as VQVAE+FLOPs.swift."""
    ch = c.level_channels
    pixels = c.frameWidth * c.frameHeight // 4 // (4 ** (len(ch) - 1))
    def conv(cin, cout, k, px):
        return 2 * cin * cout * k * k * px
    flops = encoder_flops_per_frame(c) + conv(c.codeDim, ch[-1], 3, pixels)
    rev = list(reversed(ch))
    for i, n in enumerate(rev):
        if i > 0:
            pixels *= 4
            flops += conv(rev[i - 1], n, 3, pixels)
        flops += (c.blocksPerLevel + (1 if i == 0 else 0)) * 2 * conv(n, n, 3, pixels)
    return flops + conv(ch[0], 12, 3, pixels)
