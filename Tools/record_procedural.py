#!/usr/bin/env python3
"""Record a clip of a procedurally generated top-down world: a second, non-ViZDoom domain for
measuring generalisation (docs/experiments.md). Redistributable: everything is generated here.

The camera looks down on an endless field of seeded, smoothly varying terrain with scattered
rocks; the player (a ring in the middle of the view) moves with the actions NOOP, UP, DOWN, LEFT,
RIGHT (4 pixels a frame), and a few wanderers drift across the field on their own. The actions
are held for a random 3-10 frames, like Tools/record's policy.

Outputs, for --out PATH: PATH.mp4 (H.264 yuv420p, BT.601 limited range, as Tools/record writes),
PATH.actions.csv (frame,action_id,action_name,reward,episode_start; row i is the action taken
after frame i) and PATH.json. Same seed, same files.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ACTIONS = ["NOOP", "UP", "DOWN", "LEFT", "RIGHT"]
MOVES = {0: (0, 0), 1: (0, -4), 2: (0, 4), 3: (-4, 0), 4: (4, 0)}
W, H = 160, 120


def terrain(seed, size=1024):
    """A tileable colour field: a few random sinusoids per channel, with rocks."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    field = np.zeros((size, size, 3), np.float32)
    base = np.array([70, 110, 60], np.float32)
    for c in range(3):
        for _ in range(4):
            fx, fy = rng.integers(1, 9, 2)
            phase = rng.uniform(0, 2 * np.pi)
            field[..., c] += rng.uniform(8, 22) * np.sin(2 * np.pi * (fx * x + fy * y) / size + phase)
    field += base
    for _ in range(400):   # rocks: grey discs
        cx, cy, r = rng.integers(0, size), rng.integers(0, size), rng.integers(3, 9)
        d = (x - cx) ** 2 + (y - cy) ** 2
        field[d < r * r] = rng.uniform(90, 160)
    return np.clip(field, 0, 255).astype(np.uint8)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="Tools/record-procedural", description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=500, help="frames to record (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="seeds the world, the wanderers and the policy (default: %(default)s)")
    ap.add_argument("--fps", type=int, default=15, help="frame rate written to the MP4 (default: %(default)s)")
    ap.add_argument("--out", required=True, metavar="PATH_WITHOUT_EXT", help="output path without extension")
    a = ap.parse_args(argv)
    if a.frames < 1 or a.fps < 1:
        ap.error("--frames and --fps must be at least 1")
    world = terrain(a.seed)
    size = world.shape[0]
    rng = np.random.default_rng(a.seed + 1)
    px, py = rng.integers(0, size, 2)
    wanderers = [[rng.uniform(0, size), rng.uniform(0, size), rng.uniform(-2, 2), rng.uniform(-2, 2),
                  rng.integers(120, 255, 3)] for _ in range(60)]
    yy, xx = np.mgrid[0:H, 0:W]
    ring = np.abs(np.hypot(xx - W // 2, yy - H // 2) - 6) < 1.5
    out_dir = os.path.dirname(os.path.abspath(a.out))
    os.makedirs(out_dir, exist_ok=True)
    action, left, rows = 0, 0, []
    with tempfile.TemporaryDirectory(prefix="framecast-procedural-") as tmp:
        raw_path = os.path.join(tmp, "frames.rgb")
        with open(raw_path, "wb") as raw:
            for i in range(a.frames):
                ys = (np.arange(H) + py - H // 2) % size
                xs = (np.arange(W) + px - W // 2) % size
                frame = world[np.ix_(ys, xs)].copy()
                for wx, wy, _, _, colour in wanderers:
                    dx = (wx - (px - W // 2)) % size
                    dy = (wy - (py - H // 2)) % size
                    if dx < W and dy < H:
                        frame[(xx - dx) ** 2 + (yy - dy) ** 2 < 16] = colour
                frame[ring] = (250, 240, 40)
                raw.write(frame.tobytes())
                if left == 0:
                    action, left = int(rng.integers(0, len(ACTIONS))), int(rng.integers(3, 11))
                left -= 1
                rows.append((i, action))
                mx, my = MOVES[action]
                px, py = (px + mx) % size, (py + my) % size
                for w in wanderers:
                    w[0], w[1] = (w[0] + w[2]) % size, (w[1] + w[3]) % size
        tmp_mp4 = os.path.join(out_dir, f".{os.path.basename(a.out)}.partial-{os.getpid()}.mp4")
        try:
            subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}",
                            "-framerate", str(a.fps), "-i", raw_path,
                            "-vf", "scale=out_color_matrix=bt601:out_range=tv,format=yuv420p", "-c:v", "libx264", "-preset", "medium",
                            "-crf", "18", "-threads", "1", "-colorspace", "smpte170m", "-color_primaries", "smpte170m",
                            "-color_trc", "smpte170m", "-color_range", "tv", "-map_metadata", "-1", "-fflags", "+bitexact",
                            "-movflags", "+faststart", "-f", "mp4", tmp_mp4], check=True)
            with open(a.out + ".actions.csv", "w", newline="\n") as fh:
                fh.write("frame,action_id,action_name,reward,episode_start\n")
                for i, act in rows:
                    fh.write(f"{i},{act},{ACTIONS[act]},0,{1 if i == 0 else 0}\n")
            with open(a.out + ".json", "w", newline="\n") as fh:
                json.dump({"env": "procedural-topdown", "fps": a.fps, "frames": a.frames, "width": W, "height": H,
                           "seed": a.seed, "hold": [3, 10], "action_names": ACTIONS, "step_pixels": 4}, fh, indent=1)
                fh.write("\n")
            os.replace(tmp_mp4, a.out + ".mp4")   # the MP4 last: its presence means the clip is complete
        finally:
            if os.path.exists(tmp_mp4):
                os.remove(tmp_mp4)
    print(json.dumps({"mp4": a.out + ".mp4", "frames": a.frames, "seed": a.seed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
