"""PyTorch reference of framecast's action-conditioned transformer prior (Sources/Prior).

Same architecture, parameter names and arithmetic as the Swift code, so a framecast prior
checkpoint loads with `load_state_dict` and gives the same logits; `rollout` is the Swift
PriorSampler's KV-cache sampling loop (when the window is full the cache drops its oldest frame).
Shapes: B windows/samples, F frames, hw codes per frame, T tokens = F*(hw+1), C width, K codes.
"""
import json
import math
from dataclasses import dataclass, fields

import torch
import torch.nn as nn
import torch.nn.functional as F

from safetensors_io import config_of, read

PRIOR_FORMAT = "framecast-prior"


@dataclass
class PriorConfig:
    """PriorConfig.swift; field names as in the checkpoint's JSON."""
    layers: int = 4
    width: int = 192
    heads: int = 4
    contextFrames: int = 8
    gridWidth: int = 8
    gridHeight: int = 8
    codebookSize: int = 512
    actionCount: int = 1
    dropout: float = 0.0
    actionIntoFrame: bool = True
    actionModulation: bool = True
    framePositions: str = "rotary"      # RoPE of the frame index, attention banded to contextFrames (the only kind)
    trainingFrames: int = 16            # frames per training window

    @classmethod
    def from_dict(cls, d):
        known = {f.name for f in fields(cls)}
        config = cls(**{k: v for k, v in d.items() if k in known})
        if d.get("framePositions") != "rotary":
            raise ValueError("the prior uses learned frame positions, which framecast no longer has")
        return config

    @property
    def codes_per_frame(self):
        return self.gridWidth * self.gridHeight

    @property
    def tokens_per_frame(self):
        return self.codes_per_frame + 1

    @property
    def no_action(self):
        return self.actionCount

    @property
    def training_window(self):
        """PriorConfig.trainingWindow: frames per training window."""
        return self.trainingFrames


class KVCache:
    """Keys and values of the tokens fed so far, per layer: [S, H, T, d]."""

    def __init__(self, layers):
        self.layers = [[None, None] for _ in range(layers)]

    def expand(self, samples):
        for kv in self.layers:
            if kv[0] is not None:
                kv[0] = kv[0].expand(samples, -1, -1, -1)
                kv[1] = kv[1].expand(samples, -1, -1, -1)

    def drop_first(self, tokens):
        for kv in self.layers:
            kv[0], kv[1] = kv[0][:, :, tokens:], kv[1][:, :, tokens:]


ROTARY_BASE = 100.0     # FrameRotation.swift


def rotary_tables(frames, d):
    """FrameRotation.tables: per token of frame frames[t], [cos, cos] and [-sin, sin] of the angles
    f * base^(-2i/d), computed in float64 and rounded once -> [T, d] each."""
    i = torch.arange(d // 2, dtype=torch.float64)
    angles = torch.tensor(frames, dtype=torch.float64).unsqueeze(1) * ROTARY_BASE ** (-2 * i / d)   # [T, d/2]
    cos, sin = angles.cos().float(), angles.sin().float()
    return torch.cat([cos, cos], dim=1), torch.cat([-sin, sin], dim=1)


def rotate(x, tables):
    """x [..., T, d]: (x1 cos - x2 sin, x2 cos + x1 sin) for the halves x1, x2 of d."""
    half = x.shape[-1] // 2
    return x * tables[0] + torch.cat([x[..., half:], x[..., :half]], dim=-1) * tables[1]


class CausalSelfAttention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x, cache=None, tables=None, band=None):
        """x [B, T, C] -> [B, T, C]. With a cache ([keys, values] of one layer) the T new tokens
        also attend to the cached ones (causal mask aligned to the end) and are appended to it.
        `tables` (rotary_tables of the T tokens) turn queries and keys; `band` = (group, groups) hides
        the keys before the start of the group `groups - 1` groups before the query's own."""
        b, t, c = x.shape
        d = c // self.heads
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, d).permute(2, 0, 3, 1, 4)  # each [B, H, T, d]
        if tables is not None:
            q, k = rotate(q, tables), rotate(k, tables)
        if cache is not None:
            if cache[0] is not None:
                k = torch.cat([cache[0], k], dim=2)                                    # [B, H, T_cache + T, d]
                v = torch.cat([cache[1], v], dim=2)
            cache[0], cache[1] = k, v
        scores = q.matmul(k.transpose(-2, -1)) * (1.0 / math.sqrt(d))                 # [B, H, T, T_k]
        if t > 1:
            tk = k.shape[2]
            keep = torch.ones(t, tk, dtype=torch.bool).tril(tk - t)                    # query i sees keys j <= i + tk - t
            if band is not None:
                group, groups = band
                position = torch.arange(t) + (tk - t)
                first = ((position // group - (groups - 1)) * group).clamp(min=0)       # [T]
                keep &= torch.arange(tk).unsqueeze(0) >= first.unsqueeze(1)
            scores = scores.masked_fill(~keep, float("-inf"))
        y = scores.softmax(-1).matmul(v)                                               # [B, H, T, d]
        return self.proj(y.transpose(1, 2).reshape(b, t, c))


class MLP(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, 4 * width)
        self.proj = nn.Linear(4 * width, width)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x)))              # exact (erf) GELU


class TransformerBlock(nn.Module):
    """Pre-LayerNorm: x + attn(ln1(x)), then + mlp(ln2(.)). With `conditions` (actions + 1 ids), each
    LayerNorm output n becomes n * (1 + scale) + shift, from the position's row of `modulation`."""

    def __init__(self, width, heads, dropout, conditions=None):
        super().__init__()
        self.ln1 = nn.LayerNorm(width, eps=1e-5)
        self.attn = CausalSelfAttention(width, heads)
        self.ln2 = nn.LayerNorm(width, eps=1e-5)
        self.mlp = MLP(width)
        self.modulation = nn.Embedding(conditions, 4 * width) if conditions else None   # [A + 1, 4C]
        self.drop = nn.Dropout(dropout)

    def forward(self, x, conditions=None, cache=None, tables=None, band=None):   # [B, T, C], [B, T] -> [B, T, C]
        m = self.modulation(conditions).chunk(4, dim=-1) if self.modulation is not None else None  # 4 x [B, T, C]

        def modulate(n, part):
            return n if m is None else n * (1 + m[2 * part]) + m[2 * part + 1]

        h = x + self.drop(self.attn(modulate(self.ln1(x), 0), cache, tables, band))
        return h + self.drop(self.mlp(modulate(self.ln2(h), 1)))


class PriorModel(nn.Module):
    """Decoder-only transformer over windows `c(0,0..hw-1) a(0) c(1,...) a(1) ...`; every position
    predicts the next code. Token embedding = token table + slot within the frame, plus, for the codes
    of frame f+1, action_projection(action_embedding(a(f))). The frame index turns queries and keys
    (rotary) and attention is banded to contextFrames frames."""

    def __init__(self, config: PriorConfig):
        super().__init__()
        self.config = c = config
        self.code_embedding = nn.Embedding(c.codebookSize, c.width)            # [K, C]
        self.action_embedding = nn.Embedding(c.actionCount + 1, c.width)       # [A + 1, C]; last = no action
        self.slot_embedding = nn.Embedding(c.tokens_per_frame, c.width)        # [hw + 1, C]
        self.action_projection = nn.Linear(c.width, c.width)
        self.drop = nn.Dropout(c.dropout)
        conditions = c.actionCount + 1 if c.actionModulation else None
        self.blocks = nn.ModuleList(TransformerBlock(c.width, c.heads, c.dropout, conditions) for _ in range(c.layers))
        self.ln_final = nn.LayerNorm(c.width, eps=1e-5)
        self.head = nn.Linear(c.width, c.codebookSize)                         # C -> K
        self._init_weights()

    def _init_weights(self):
        """GPT-2 style, as PriorModel.swift: N(0, 0.02), residual projections N(0, 0.02/sqrt(2L)), biases
        and action modulation 0."""
        residual = 0.02 / math.sqrt(2 * self.config.layers)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if "ln" in name:
                    continue
                if name.endswith(".bias") or name.endswith("modulation.weight"):
                    p.zero_()
                elif name.startswith("blocks.") and name.endswith("proj.weight"):
                    p.normal_(0, residual)
                elif name != "action_projection.weight":
                    p.normal_(0, 0.02)

    def conditioning(self, actions):                     # [...] -> [..., C]
        return self.action_projection(self.action_embedding(actions))

    def embed(self, codes, actions):
        """codes [B, F, hw], actions [B, F] (int64; no_action for none) -> tokens [B, F*(hw+1), C]."""
        c = self.config
        b, f, hw = codes.shape
        slots = self.slot_embedding.weight                                     # [hw+1, C]
        x = self.code_embedding(codes) + slots[:hw]                            # [B, F, hw, C]
        if c.actionIntoFrame:
            none = torch.full((b, 1), c.no_action, dtype=torch.int64)
            previous = torch.cat([none, actions[:, :f - 1]], dim=1)            # action that led to each frame
            x = x + self.conditioning(previous).unsqueeze(2)                   # + [B, F, 1, C]
        a = self.action_embedding(actions).unsqueeze(2) + slots[hw:hw + 1]     # [B, F, 1, C]
        tokens = torch.cat([x, a], dim=2)                                      # [B, F, hw+1, C]
        return tokens.reshape(b, f * c.tokens_per_frame, c.width)

    def conditions(self, actions):
        """Each position's action for the modulated blocks, [B, F] -> [B, F*(hw+1)]: frame f's codes get
        the action after frame f-1 (no_action for f = 0), its action token its own action; None without."""
        c = self.config
        if not c.actionModulation:
            return None
        b, f = actions.shape
        none = torch.full((b, 1), c.no_action, dtype=torch.int64)
        previous = torch.cat([none, actions[:, :f - 1]], dim=1)                # [B, F]
        codes = previous.unsqueeze(2).expand(b, f, c.codes_per_frame)         # [B, F, hw]
        return torch.cat([codes, actions.unsqueeze(2)], dim=2).reshape(b, f * c.tokens_per_frame)

    def embed_code(self, codes, slot, previous_action):
        """One code token per sample: codes [S] -> [S, 1, C]."""
        x = self.code_embedding(codes) + self.slot_embedding.weight[slot]
        if self.config.actionIntoFrame:
            x = x + self.conditioning(previous_action)
        return x.unsqueeze(1)

    def embed_action(self, actions):
        """One action token per sample: actions [S] -> [S, 1, C]."""
        c = self.config
        x = self.action_embedding(actions) + self.slot_embedding.weight[c.codes_per_frame]
        return x.unsqueeze(1)

    def hidden(self, x, conditions=None, cache=None, frames=None):    # [B, T, C], [B, T] -> [B, T, C]
        """frames: each token's frame index (default whole frames from 0)."""
        c = self.config
        frames = frames if frames is not None else [t // c.tokens_per_frame for t in range(x.shape[1])]
        tables = rotary_tables(frames, c.width // c.heads)
        band = (c.tokens_per_frame, c.contextFrames)
        h = self.drop(x)
        for i, block in enumerate(self.blocks):
            h = block(h, conditions, cache.layers[i] if cache is not None else None, tables, band)
        return self.ln_final(h)

    def all_logits(self, codes, actions):                # -> [B, F*(hw+1), K]
        return self.head(self.hidden(self.embed(codes, actions), self.conditions(actions)))

    def predicting_positions(self, frames):
        """Positions whose next token is a code of frames 1..F-1 (target at p + 1)."""
        n, hw = self.config.tokens_per_frame, self.config.codes_per_frame
        return [f * n + j - 1 for f in range(1, max(1, frames)) for j in range(hw)]

    def code_logits(self, codes, actions):               # -> [B, (F-1)*hw, K]
        h = self.hidden(self.embed(codes, actions), self.conditions(actions))
        positions = torch.tensor(self.predicting_positions(codes.shape[1]), dtype=torch.int64)
        return self.head(h.index_select(1, positions))

    @torch.no_grad()
    def rollout(self, context_codes, context_actions, actions, samples=1, pick=None, observe=None):
        """PriorSampler.rollout: context_codes [n, hw] and context_actions [n] (lists or tensors; -1 =
        unknown), one generated frame per entry of `actions`. `pick(logits [S, K]) -> [S]` chooses
        codes (default: sample at temperature 1); `observe(frame, slot, logits)` sees every step's
        logits. Returns codes [S, len(actions), hw]."""
        c = self.config
        hw = c.codes_per_frame
        pick = pick or (lambda logits: torch.multinomial(logits.softmax(-1), 1).squeeze(1))
        was_training = self.training
        self.eval()

        def model_action(a):
            return c.no_action if a < 0 else int(a)

        context_codes = torch.as_tensor(context_codes, dtype=torch.int64).reshape(-1, hw)
        context_actions = [int(a) for a in context_actions]
        n = context_codes.shape[0]
        frame_codes = [context_codes[f].expand(samples, hw) for f in range(n)]              # each [S, hw]
        frame_actions = [torch.full((samples,), model_action(actions[0] if f == n - 1 and actions else
                                                              (context_actions[f] if f < n - 1 else -1)), dtype=torch.int64)
                         for f in range(n)]
        cache = KVCache(c.layers)
        start = max(0, n - (c.contextFrames - 1))

        def prefill(end, batch):
            nonlocal cache
            cache = KVCache(c.layers)
            codes = torch.stack([x[:batch] for x in frame_codes[start:end]], dim=1)          # [batch, F, hw]
            acts = torch.stack([x[:batch] for x in frame_actions[start:end]], dim=1)         # [batch, F]
            return self.hidden(self.embed(codes, acts), self.conditions(acts), cache)[:, -1]  # [batch, C]

        last = prefill(n, 1).expand(samples, c.width)                                        # [S, C]
        cache.expand(samples)
        output = []
        cached = n - start                               # frames in the cache
        for g in range(len(actions)):
            m = n + g                                    # absolute index of the frame being generated
            f = m - start
            previous = frame_actions[m - 1]
            codes = torch.zeros(samples, hw, dtype=torch.int64)
            for j in range(hw):
                logits = self.head(last)                                                     # [S, K]
                if observe is not None:
                    observe(m, j, logits)
                chosen = pick(logits)
                codes[:, j] = chosen
                x = self.embed_code(chosen, j, previous)                                     # [S, 1, C]
                conditions = previous.unsqueeze(1)                                           # [S, 1]
                if j == hw - 1:
                    if not g + 1 < len(actions):
                        break
                    nxt = torch.full((samples,), model_action(actions[g + 1]), dtype=torch.int64)
                    x = torch.cat([x, self.embed_action(nxt)], dim=1)                        # [S, 2, C]
                    conditions = torch.cat([conditions, nxt.unsqueeze(1)], dim=1)            # [S, 2]
                last = self.hidden(x, conditions if c.actionModulation else None, cache, [f] * x.shape[1])[:, -1]
            if g + 1 < len(actions):
                cached += 1
                if cached == c.contextFrames:            # the window slides by forgetting its oldest frame
                    cache.drop_first(c.tokens_per_frame)
                    cached -= 1
            frame_codes.append(codes)
            frame_actions.append(torch.full((samples,), model_action(actions[g + 1] if g + 1 < len(actions) else -1),
                                            dtype=torch.int64))
            output.append(codes)
        self.train(was_training)
        return torch.stack(output, dim=1)                                                    # [S, G, hw]


def load_prior(path):
    """A framecast prior checkpoint (prior.safetensors or a training checkpoint; F32 or compact
    F16) -> PriorModel in eval mode, plus the file's metadata (source, action names, ...)."""
    tensors, metadata = read(path)
    config = PriorConfig.from_dict(config_of(metadata, path, PRIOR_FORMAT))
    model = PriorModel(config)
    state = {k: v.float() for k, v in tensors.items() if not k.startswith("optimizer.")}
    model.load_state_dict(state, strict=True)
    return model.eval(), metadata


def action_names(metadata):
    return json.loads(metadata.get("action_names", "[]"))
