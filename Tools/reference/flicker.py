#!/usr/bin/env python3
"""Code flicker: how often a token's code changes between consecutive frames of a manifest's
validation clips, and what "sticky" quantisation (keep the previous frame's code when its squared
distance to the encoding is within (1 + eps) of the nearest code's) does to that rate and to the
reconstruction PSNR (docs/experiments.md). Frames are scaled to 64x64 by the ffmpeg CLI.

Usage: python3 Tools/reference/flicker.py TOKENIZER [MANIFEST]   (default .data/heldout/manifest.json)
"""
import json, os, subprocess, sys, numpy as np, torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenizer import load_tokenizer, frames_to_tensor, tensor_to_frames
torch.set_num_threads(1)
model, _ = load_tokenizer(sys.argv[1])
manifest = sys.argv[2] if len(sys.argv) > 2 else ".data/heldout/manifest.json"
folder = os.path.dirname(manifest)
names = json.load(open(manifest))["validation"]
def frames(path):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-vf", "scale=64:64:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, 64, 64, 3)
def psnr(a, b):
    mse = ((a.astype(np.float64) - b) ** 2).reshape(len(a), -1).mean(1)
    return float(np.mean(np.minimum(50, 10 * np.log10(255 ** 2 / np.maximum(mse, 1e-12)))))
e = model.quantizer.codebook
results = {eps: {"changed": 0, "tokens": 0, "psnr": []} for eps in [0, 0.05, 0.1, 0.2, 0.5]}
for n in names:
    x = frames(os.path.join(folder, n + ".mp4"))
    with torch.no_grad():
        ze = torch.cat([model.encoder(frames_to_tensor(torch.from_numpy(x[i:i+100].copy()))) for i in range(0, len(x), 100)])
        z = ze.permute(0, 2, 3, 1).reshape(len(x), 64, -1)                       # [T, 64, D]
        d = ((z.unsqueeze(2) - e.view(1, 1, *e.shape)) ** 2).sum(-1)              # [T, 64, K]
        best, code = d.min(-1)                                                     # [T, 64]
    for eps, r in results.items():
        c = code.clone()
        for t in range(1, len(x)):
            prev = c[t - 1]
            dprev = d[t].gather(1, prev.unsqueeze(1)).squeeze(1)
            keep = dprev <= (1 + eps) * best[t]
            c[t] = torch.where(keep, prev, code[t])
        r["changed"] += int((c[1:] != c[:-1]).sum()); r["tokens"] += c[1:].numel()
        with torch.no_grad():
            recon = torch.cat([tensor_to_frames(model.decoder(model.quantizer.lookup(c[i:i+100].view(-1, 8, 8)))) for i in range(0, len(x), 100)]).numpy()
        r["psnr"].append(psnr(recon, x) * len(x))
print("eps   tokens whose code changes between consecutive frames   reconstruction PSNR (dB)")
T = sum(len(frames(os.path.join(folder, n + ".mp4"))) for n in names)
for eps, r in results.items():
    print(f"{eps:<5} {r['changed'] / r['tokens'] * 100:6.1f}%   {sum(r['psnr']) / T:6.2f}")
