#!/usr/bin/env python3
"""Reconstruction PSNR over the picture alone (the letterbox bars left out) of a stretch and a pad
tokenizer on a manifest's validation clips (docs/experiments.md, "stretch or letterbox"). Frames
are scaled by the ffmpeg CLI's area filter for both.

Usage: python3 Tools/reference/fit_compare.py STRETCH_TOKENIZER PAD_TOKENIZER [MANIFEST]
"""
import json, os, subprocess, sys, numpy as np, torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenizer import load_tokenizer
torch.set_num_threads(2)
manifest = sys.argv[3] if len(sys.argv) > 3 else ".data/heldout/manifest.json"
folder = os.path.dirname(manifest)
names = json.load(open(manifest))["validation"]
def frames(path, vf, w, h):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-vf", vf, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
def psnr(a, b):
    mse = ((a.astype(np.float64) - b) ** 2).reshape(len(a), -1).mean(1)
    return np.minimum(50, 10 * np.log10(255 ** 2 / np.maximum(mse, 1e-12)))
for fit, path in [("stretch", sys.argv[1]), ("pad", sys.argv[2])]:
    model, _ = load_tokenizer(path)
    scores, bars = [], []
    for n in names:
        src = os.path.join(folder, n + ".mp4")
        if fit == "stretch":
            x = frames(src, "scale=64:64:flags=area", 64, 64)
        else:
            c = frames(src, "scale=64:48:flags=area", 64, 48)
            x = np.zeros((len(c), 64, 64, 3), np.uint8); x[:, 8:56] = c
        r = np.concatenate([model.decode(model.encode(torch.from_numpy(x[i:i+64].copy()))).numpy() for i in range(0, len(x), 64)])
        if fit == "pad":
            scores += list(psnr(r[:, 8:56], x[:, 8:56])); bars.append(np.abs(r[:, :8].astype(int)).mean())
        else:
            scores += list(psnr(r, x))
    print(f"{fit}: content PSNR {np.mean(scores):.2f} dB over {len(scores)} frames" + (f", mean bar value {np.mean(bars):.2f}" if bars else ""))
