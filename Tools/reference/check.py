#!/usr/bin/env python3
"""Recomputes framecast's outputs with the PyTorch reference and reports the differences.

    check.py IO.safetensors --tokenizer TOK.safetensors --prior PRIOR.safetensors [--tolerance 1e-4] [--json]

IO.safetensors holds inputs and framecast's outputs (written by Tests/ReferenceTests):
  tokenizer: frames U8 [N, H, W, 3]; latents F32 [N, D, h, w] (z_e); codes I64 [N, h, w];
             reconstructions F32 [N, 3, H, W] (decoder output of the forward pass)
  prior:     prior.codes I64 [B, F, hw]; prior.actions I64 [B, F]; prior.logits F32 [B, F*(hw+1), K];
             prior.code_logits F32 [B, (F-1)*hw, K]
  rollout:   rollout.context_codes I64 [n, hw]; rollout.context_actions I64 [n]; rollout.actions I64 [G];
             rollout.codes I64 [G, hw]; rollout.logits F32 [G*hw, K] (greedy, one sample, KV cache)
  training:  train.grad.NAME (every parameter's gradient of the loss on prior.codes/prior.actions at the
             start), train.losses F32 [3] (the loss before each of 3 AdamW steps), train.param.NAME
             (every parameter after them); see train_prior below
Any group may be absent. Prints one line per figure and exits 1 when a float difference exceeds
the tolerance or a code differs. --perturb deliberately breaks the reference (to show the check fails).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import prior as prior_ref  # noqa: E402
import tokenizer as tokenizer_ref  # noqa: E402
from safetensors_io import read  # noqa: E402

PERTURBATIONS = {
    # A plausible porting slip in each model.
    "gelu-tanh": "prior MLP uses the tanh approximation of GELU",
    "upsample-bilinear": "tokenizer decoder upsamples bilinearly instead of nearest",
}


def perturb(name):
    if name == "gelu-tanh":
        prior_ref.MLP.forward = lambda self, x: self.proj(F.gelu(self.fc(x), approximate="tanh"))
    elif name == "upsample-bilinear":
        original = F.interpolate
        tokenizer_ref.F.interpolate = lambda x, scale_factor, mode: original(
            x, scale_factor=scale_factor, mode="bilinear", align_corners=False)


def max_abs(a, b):
    if a.shape != b.shape:
        raise SystemExit(f"check: shape mismatch {list(a.shape)} vs {list(b.shape)}")
    return float((a.double() - b.double()).abs().max()) if a.numel() else 0.0


def train_prior(model, codes, actions, steps=3, lr=1e-3, weight_decay=0.1):
    """PriorTrainer's step at a fixed learning rate: mean cross-entropy of the codes of frames 1..F-1,
    global-norm clip at 1, AdamW (betas 0.9/0.95) with weight decay on the blocks' and head's
    matrices only. Returns (losses, the gradients at the start, the parameters after `steps`)."""
    params = dict(model.named_parameters())
    decays = [n for n in params if (n.startswith("blocks.") and n.endswith(".weight") and ".ln" not in n) or n == "head.weight"]
    optimizer = torch.optim.AdamW([{"params": [params[n] for n in decays], "weight_decay": weight_decay},
                                   {"params": [p for n, p in params.items() if n not in decays], "weight_decay": 0.0}],
                                  lr=lr, betas=(0.9, 0.95), eps=1e-8)
    k = model.config.codebookSize
    targets = codes[:, 1:].reshape(-1)
    losses, grads = [], {}
    model.train()
    with torch.enable_grad():
        for step in range(steps):
            optimizer.zero_grad()
            loss = F.cross_entropy(model.code_logits(codes, actions).reshape(-1, k), targets)
            losses.append(float(loss))
            loss.backward()
            if step == 0:
                grads = {n: p.grad.detach().clone() for n, p in params.items()}
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
    model.eval()
    return losses, grads, {n: p.detach() for n, p in params.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("io", help="safetensors file with inputs and framecast outputs")
    ap.add_argument("--tokenizer", help="framecast tokenizer checkpoint")
    ap.add_argument("--prior", help="framecast prior checkpoint")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--json", action="store_true", help="also print the figures as one JSON line (last line)")
    ap.add_argument("--perturb", choices=sorted(PERTURBATIONS), help="break the reference on purpose")
    args = ap.parse_args()
    if args.perturb:
        perturb(args.perturb)
    torch.set_grad_enabled(False)
    io, _ = read(args.io)
    report = {"tolerance": args.tolerance, "torch": torch.__version__}
    failures = []

    def figure(key, value, limit=None):
        report[key] = value
        bad = value > (args.tolerance if limit is None else limit)
        print(f"{key}: {value:.3g}{'  FAIL' if bad else ''}")
        if bad:
            failures.append(key)

    if "frames" in io:
        if not args.tokenizer:
            raise SystemExit("check: the file has tokenizer data: pass --tokenizer")
        model, _ = tokenizer_ref.load_tokenizer(args.tokenizer)
        x = tokenizer_ref.frames_to_tensor(io["frames"])                 # [N, 3, H, W]
        recon, latents, (_, codes, _, _) = model(x)
        figure("tokenizer_latents_max_abs_diff", max_abs(model.encoder(x), io["latents"]))
        figure("tokenizer_codes_mismatched", float((codes != io["codes"]).sum()), limit=0)
        figure("tokenizer_reconstruction_max_abs_diff", max_abs(recon, io["reconstructions"]))
        report["tokenizer_frames"] = int(x.shape[0])

    if "prior.codes" in io or "rollout.codes" in io:
        if not args.prior:
            raise SystemExit("check: the file has prior data: pass --prior")
        model, _ = prior_ref.load_prior(args.prior)
    if "prior.codes" in io:
        codes, actions = io["prior.codes"], io["prior.actions"]
        figure("prior_logits_max_abs_diff", max_abs(model.all_logits(codes, actions), io["prior.logits"]))
        figure("prior_code_logits_max_abs_diff", max_abs(model.code_logits(codes, actions), io["prior.code_logits"]))
        report["prior_logit_scale"] = float(io["prior.logits"].abs().max())
    if "rollout.codes" in io:
        seen = []
        out = model.rollout(io["rollout.context_codes"], io["rollout.context_actions"].tolist(),
                            io["rollout.actions"].tolist(), samples=1,
                            pick=lambda logits: logits.argmax(-1), observe=lambda f, j, logits: seen.append(logits[0]))
        figure("rollout_codes_mismatched", float((out[0] != io["rollout.codes"]).sum()), limit=0)
        figure("rollout_logits_max_abs_diff", max_abs(torch.stack(seen), io["rollout.logits"]))

    if "train.losses" in io:
        model, _ = prior_ref.load_prior(args.prior)
        losses, grads, params = train_prior(model, io["prior.codes"], io["prior.actions"])
        figure("train_loss_max_abs_diff", max(abs(a - b) for a, b in zip(losses, io["train.losses"].tolist())))
        missing = [n for n in params if "train.grad." + n not in io or "train.param." + n not in io]
        figure("train_parameters_missing", float(len(missing)), limit=0)
        figure("train_grad_max_abs_diff", max(max_abs(g, io["train.grad." + n]) for n, g in grads.items() if n not in missing))
        figure("train_param_after_3_steps_max_abs_diff",
               max(max_abs(p, io["train.param." + n]) for n, p in params.items() if n not in missing))
        report["train_grad_scale"] = max(float(g.abs().max()) for g in grads.values())
        report["train_loss_drop"] = losses[0] - losses[-1]

    report["passed"] = not failures
    print("check: " + ("PASS" if not failures else "FAIL " + ", ".join(failures))
          + f" (tolerance {args.tolerance:g}{', perturbed: ' + args.perturb if args.perturb else ''})")
    if args.json:
        print(json.dumps(report, sort_keys=True))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
