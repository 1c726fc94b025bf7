#!/usr/bin/env python3
"""Throughput of the PyTorch reference, measured as `framecast bench tokenizer|prior` measures framecast.

    bench.py tokenizer [--tokenizer TOK] [--batch 32] [--steps 10] [--coding-batches 4] [--runs 1] [--threads 2] [--json]
    bench.py prior [--prior PRIOR] [--tokenizer TOK] [--frames 16] [--train-steps 5] [--runs 1] [--threads 2]
                   [--sampling-threads 1] [--json]
    bench.py fresh --tokenizer-out TOK --prior-out PRIOR   # freshly initialised checkpoints for both sides

Same work on both sides: random frames / random codes (speed does not depend on them), the same
training step (losses, gradient clipping, AdamW with the same decay groups, the tokenizer's EMA
codebook update), encode = RGB bytes in memory -> codes (no video decoding), decode = codes -> RGB
bytes, both in batches of 64; sampling = the KV-cache rollout at batch 1; predict = sampling then
decoding the sampled frames. JSON keys are those of framecast's reports.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import prior as prior_ref  # noqa: E402
import tokenizer as tokenizer_ref  # noqa: E402
from safetensors_io import write  # noqa: E402


def warmup_cosine(step, peak, warmup, total, floor):
    """WarmupCosine (Optim.swift): linear warmup to `peak`, cosine decay to `floor` at `total`."""
    if warmup > 0 and step <= warmup:
        return peak * step / max(1, warmup)
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * t))


def adamw(model, lr, betas, weight_decay, decays):
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [{"params": [p for n, p in named if decays(n)], "weight_decay": weight_decay},
              {"params": [p for n, p in named if not decays(n)], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=1e-8)


def edge_loss(a, b):
    """Mean |difference| of horizontal and vertical image gradients (TokenizerTrainer.edgeLoss)."""
    def dx(t):
        return t[..., :, 1:] - t[..., :, :-1]

    def dy(t):
        return t[..., 1:, :] - t[..., :-1, :]
    return F.l1_loss(dx(a), dx(b)) + F.l1_loss(dy(a), dy(b))


class TokenizerTrainer:
    """TokenizerTrainer.trainStep in PyTorch: MSE + beta*commitment + 0.5*edge, clip 1.0, AdamW, EMA update."""

    def __init__(self, model, bank, batch, steps, lr=1e-3, warmup=100):
        self.model, self.bank, self.batch = model, bank, batch
        self.steps, self.lr, self.warmup = steps, lr, warmup
        self.step = 0
        self.optimizer = adamw(model, lr, (0.9, 0.99), 1e-4, lambda n: n.endswith(".weight") and "norm" not in n)

    def train_step(self):
        self.step += 1
        c = self.model.config
        model = self.model.train()
        x = tokenizer_ref.frames_to_tensor(self.bank[torch.randint(0, self.bank.shape[0], (self.batch,))])
        recon, latents, (_, indices, commitment, codebook_loss) = model(x)
        mse = F.mse_loss(recon, x)
        loss = mse + c.beta * commitment
        if c.emaDecay == 0:
            loss = loss + codebook_loss
        loss = loss + 0.5 * edge_loss(recon, x)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        for group in self.optimizer.param_groups:
            group["lr"] = warmup_cosine(self.step, self.lr, self.warmup, self.steps, 0.1 * self.lr)
        self.optimizer.step()
        cells = self.batch * c.gridWidth * c.gridHeight
        model.quantizer.update(latents, indices.reshape(-1), 0.1 * cells / c.codebookSize)
        # The figures framecast's step reports (they synchronise on the values, as there).
        used = int((indices.reshape(-1).bincount(minlength=c.codebookSize) > 0).sum())
        return float(loss), float(mse), float(commitment), float(codebook_loss), used


class PriorTrainer:
    """PriorTrainer.trainStep in PyTorch: teacher-forced cross-entropy over frames 1..C-1 of random
    windows with 10% action dropout, clip 1.0, AdamW (betas 0.9/0.95, decay 0.1 on matrices)."""

    def __init__(self, model, codes, actions, steps=5000, lr=5e-4, warmup=100):
        self.model, self.codes, self.actions = model, codes, actions    # codes [frames, hw], actions [frames]
        self.batch = max(1, 128 // model.config.training_window)          # 128 frames a batch, as `train prior`
        self.steps, self.lr, self.warmup = steps, lr, warmup
        self.step = 0
        self.optimizer = adamw(model, lr, (0.9, 0.95), 0.1,
                               lambda n: (n.startswith("blocks.") and n.endswith(".weight") and ".ln" not in n)
                               or n == "head.weight")

    def train_step(self):
        """-> (loss in nats, target tokens)."""
        self.step += 1
        c = self.model.config
        frames = c.training_window
        starts = torch.randint(0, self.codes.shape[0] - frames + 1, (self.batch,))
        window = starts.unsqueeze(1) + torch.arange(frames)                  # [B, F]
        codes = self.codes[window]                                            # [B, F, hw]
        actions = self.actions[window].clone()                                # [B, F]
        actions[(actions < 0) | (torch.rand(actions.shape) < 0.1)] = c.no_action
        targets = codes[:, 1:].reshape(-1)                                    # [B*(F-1)*hw]
        model = self.model.train()
        logits = model.code_logits(codes, actions)                           # [B, (F-1)*hw, K]
        loss = F.cross_entropy(logits.reshape(-1, c.codebookSize), targets, reduction="sum") / targets.numel()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        for group in self.optimizer.param_groups:
            group["lr"] = warmup_cosine(self.step, self.lr, self.warmup, self.steps, 0.1 * self.lr)
        self.optimizer.step()
        return float(loss), targets.numel()


def bench_tokenizer(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = tokenizer_ref.load_tokenizer(args.tokenizer)[0] if args.tokenizer else tokenizer_ref.VQVAE(tokenizer_ref.VQVAEConfig())
    c = model.config
    bank = torch.randint(0, 256, (256, c.frameHeight, c.frameWidth, 3), dtype=torch.uint8)
    trainer = TokenizerTrainer(model, bank, args.batch, args.runs * args.steps + 3)
    for _ in range(3):
        trainer.train_step()
    frames = bank[:64]
    model.eval()
    codes = model.encode(frames)
    model.decode(codes)
    train, encode, decode = [], [], []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        for _ in range(args.steps):
            trainer.train_step()
        train.append(args.steps * args.batch / (time.perf_counter() - t0))
        model.eval()
        t0 = time.perf_counter()
        for _ in range(args.coding_batches):
            codes = model.encode(frames)
        encode.append(64 * args.coding_batches / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _ in range(args.coding_batches):
            model.decode(codes)
        decode.append(64 * args.coding_batches / (time.perf_counter() - t0))
    forward = tokenizer_ref.forward_flops_per_frame(c)
    return {
        "parameters": sum(p.numel() for n, p in model.state_dict().items() if not n.startswith("quantizer.ema")),
        "batch": args.batch, "threads": args.threads,
        "forward_flops_per_frame": forward, "encoder_flops_per_frame": tokenizer_ref.encoder_flops_per_frame(c),
        "train_frames_per_second": statistics.median(train),
        "train_gflop_per_second": statistics.median(train) * 3 * forward / 1e9,
        "encode_frames_per_second": statistics.median(encode), "decode_frames_per_second": statistics.median(decode),
        "runs": {"train_frames_per_second": train, "encode_frames_per_second": encode, "decode_frames_per_second": decode},
    }


def bench_prior(args):
    torch.manual_seed(0)
    if args.prior:
        model = prior_ref.load_prior(args.prior)[0]
    else:
        model = prior_ref.PriorModel(prior_ref.PriorConfig(codebookSize=512, gridWidth=8, gridHeight=8, actionCount=8,
                                                              actionModulation=True))
    c = model.config
    if args.tokenizer:
        decoder = tokenizer_ref.load_tokenizer(args.tokenizer)[0]
    else:
        decoder = tokenizer_ref.VQVAE(tokenizer_ref.VQVAEConfig(
            frameWidth=8 * c.gridWidth, frameHeight=8 * c.gridHeight, gridWidth=c.gridWidth, gridHeight=c.gridHeight,
            codebookSize=c.codebookSize))
    decoder.eval()
    hw = c.codes_per_frame
    frame_count = max(c.contextFrames + args.frames + 1, c.training_window + 1)
    clip_codes = torch.randint(0, c.codebookSize, (frame_count, hw))
    clip_actions = torch.randint(0, max(1, c.actionCount), (frame_count,))
    # One random clip; framecast's bench trains on four copies of such a clip: the same windows.
    trainer = PriorTrainer(model, clip_codes, clip_actions, steps=1 + args.runs * args.train_steps)
    context_codes, context_actions = clip_codes[:c.contextFrames], clip_actions[:c.contextFrames].tolist()
    actions = clip_actions[c.contextFrames - 1:c.contextFrames - 1 + args.frames].tolist()
    train, cached, sampled, predicted = [], [], [], []
    tokens_per_step = 0
    for r in range(args.runs):
        torch.set_num_threads(args.threads)
        if r == 0:
            trainer.train_step()
        t0 = time.perf_counter()
        tokens = 0
        for _ in range(args.train_steps):
            tokens += trainer.train_step()[1]
        train.append(tokens / (time.perf_counter() - t0))
        tokens_per_step = tokens // args.train_steps

        torch.set_num_threads(args.sampling_threads)
        if r == 0:
            model.rollout(context_codes, context_actions, actions[:1])
            decoder.decode(clip_codes[:args.frames].reshape(args.frames, c.gridHeight, c.gridWidth))
        t0 = time.perf_counter()
        out = model.rollout(context_codes, context_actions, actions)                   # [1, G, hw]
        seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        decoder.decode(out[0].reshape(args.frames, c.gridHeight, c.gridWidth))         # [G, H, W, 3] uint8
        decode_seconds = time.perf_counter() - t0
        cached.append(args.frames * c.tokens_per_frame / seconds)
        sampled.append(args.frames / seconds)
        predicted.append(args.frames / (seconds + decode_seconds))
    torch.set_num_threads(args.sampling_threads)
    model.eval()
    codes, acts = context_codes.unsqueeze(0), clip_actions[:c.contextFrames].unsqueeze(0)
    with torch.no_grad():
        model.all_logits(codes, acts)
        t0 = time.perf_counter()
        for _ in range(5):
            model.all_logits(codes, acts)
        uncached = 5 / (time.perf_counter() - t0)
    return {
        "parameters": sum(p.numel() for p in model.parameters()), "threads": args.threads,
        "sampling_threads": args.sampling_threads, "train_tokens_per_step": tokens_per_step,
        "train_tokens_per_second": statistics.median(train), "cached_tokens_per_second": statistics.median(cached),
        "uncached_tokens_per_second": uncached, "cache_speedup": statistics.median(cached) / uncached,
        "sampled_frames_per_second": statistics.median(sampled), "predict_frames_per_second": statistics.median(predicted),
        "runs": {"train_tokens_per_second": train, "cached_tokens_per_second": cached,
                 "sampled_frames_per_second": sampled, "predict_frames_per_second": predicted},
    }


def write_fresh(args):
    """Freshly initialised checkpoints in framecast's format: the default tokenizer and a prior of the
    measured shape (4 layers, width 192, 4 heads, context 8, 8x8 grid, K = 512, 8 actions)."""
    torch.manual_seed(0)
    tc = tokenizer_ref.VQVAEConfig()
    tok = tokenizer_ref.VQVAE(tc)
    write(args.tokenizer_out, tok.state_dict(),
          {"format": tokenizer_ref.TOKENIZER_FORMAT, "version": "1", "config": json.dumps(vars(tc), sort_keys=True)})
    pc = prior_ref.PriorConfig(layers=4, width=192, heads=4, contextFrames=8, gridWidth=tc.gridWidth,
                               gridHeight=tc.gridHeight, codebookSize=tc.codebookSize, actionCount=8,
                               actionModulation=True)
    names = [f"A{i}" for i in range(pc.actionCount)]
    source = {"tokenizerHash": "fresh", "codebookSize": pc.codebookSize, "gridHeight": pc.gridHeight,
              "gridWidth": pc.gridWidth, "actionNames": names, "fps": 15}
    write(args.prior_out, prior_ref.PriorModel(pc).state_dict(),
          {"format": prior_ref.PRIOR_FORMAT, "version": "1", "config": json.dumps(vars(pc), sort_keys=True),
           "source": json.dumps(source, sort_keys=True), "tokenizer_sha256": "fresh",
           "codebook_size": str(pc.codebookSize), "grid": f"{pc.gridHeight}x{pc.gridWidth}",
           "action_names": json.dumps(names)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    t = sub.add_parser("tokenizer")
    t.add_argument("--tokenizer")
    t.add_argument("--batch", type=int, default=32)
    t.add_argument("--steps", type=int, default=10)
    t.add_argument("--coding-batches", type=int, default=4)
    p = sub.add_parser("prior")
    p.add_argument("--prior")
    p.add_argument("--tokenizer")
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--train-steps", type=int, default=5)
    p.add_argument("--sampling-threads", type=int, default=1)
    for s in (t, p):
        s.add_argument("--runs", type=int, default=1)
        s.add_argument("--threads", type=int, default=os.cpu_count() or 1)
        s.add_argument("--json", action="store_true")
    f = sub.add_parser("fresh")
    f.add_argument("--tokenizer-out", required=True)
    f.add_argument("--prior-out", required=True)
    args = ap.parse_args()
    if args.what == "fresh":
        return write_fresh(args)
    report = bench_tokenizer(args) if args.what == "tokenizer" else bench_prior(args)
    report["torch"] = torch.__version__
    if args.json:
        print(json.dumps(report, sort_keys=True))
    else:
        for k, v in report.items():
            if k != "runs":
                print(f"{k}: {v}")


if __name__ == "__main__":
    main()
