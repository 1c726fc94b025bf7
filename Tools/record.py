#!/usr/bin/env python3
"""Record an action-conditioned ViZDoom clip for framecast.

Outputs, for --out PATH:
  PATH.mp4          H.264 (libx264), yuv420p, tagged BT.601 limited range, +faststart
  PATH.actions.csv  frame,action_id,action_name,reward,episode_start  (one row per frame)
  PATH.json         recording settings (no timestamps: same seed => byte-identical files)

Convention: row i is the action taken AFTER seeing frame i (and the reward it earned).
Frame 0 is a reset observation; episode_start=1 marks the first frame of every episode.

Run through the Tools/record wrapper, which provides the venv with vizdoom, numpy and pillow.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

# One action vocabulary for every scenario: ids mean the same thing everywhere.
BUTTONS = ["MOVE_FORWARD", "MOVE_BACKWARD", "TURN_LEFT", "TURN_RIGHT", "ATTACK"]
ACTIONS = [  # (name, buttons pressed)
    ("NOOP", ()),
    ("MOVE_FORWARD", ("MOVE_FORWARD",)),
    ("MOVE_BACKWARD", ("MOVE_BACKWARD",)),
    ("TURN_LEFT", ("TURN_LEFT",)),
    ("TURN_RIGHT", ("TURN_RIGHT",)),
    ("MOVE_FORWARD+TURN_LEFT", ("MOVE_FORWARD", "TURN_LEFT")),
    ("MOVE_FORWARD+TURN_RIGHT", ("MOVE_FORWARD", "TURN_RIGHT")),
    ("ATTACK", ("ATTACK",)),
]
ACTION_NAMES = [name for name, _ in ACTIONS]
# Human-like preference: mostly moving and turning so the footage has motion.
ACTION_WEIGHTS = [0.04, 0.26, 0.05, 0.13, 0.13, 0.17, 0.17, 0.05]
# When the view stops changing: turn left, turn right or back off (ids 3, 4, 2), held a while.
ESCAPE_ACTIONS = [3, 4, 2]
ESCAPE_WEIGHTS = [0.4, 0.4, 0.2]
MOVING = {1, 2, 5, 6}  # actions that walk
NATIVE = (160, 120)  # ViZDoom render resolution used for every clip
CONVENTION = ("row i of the CSV: action taken after observing frame i, and the reward it earned; "
              "episode_start=1 on the first frame of each episode")
PSNR_CAP_DB = 50.0


class RecordError(Exception):
    pass


def scenarios_dir():
    import vizdoom
    return vizdoom.scenarios_path


def list_scenarios():
    try:
        return sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(scenarios_dir(), "*.cfg")))
    except ImportError:
        return []


def parse_args(argv):
    names = list_scenarios()
    ap = argparse.ArgumentParser(
        prog="Tools/record",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Record an action-conditioned ViZDoom clip: OUT.mp4 (H.264 yuv420p) + "
                    "OUT.actions.csv + OUT.json, then decode the MP4 back and check it.",
        epilog="actions (same ids in every scenario):\n"
               + "".join(f"  {i}  {n}\n" for i, n in enumerate(ACTION_NAMES))
               + "\nscenarios: " + (", ".join(names) if names else "(vizdoom not importable)")
               + "\n\nexample:\n  Tools/record --scenario my_way_home --frames 300 --seed 1 "
                 "--out Clips/my_way_home_s1\n"
               + "\nstdout: one JSON summary line; errors: stderr and a non-zero exit code.")
    ap.add_argument("--scenario", default="my_way_home",
                    help="ViZDoom scenario (a .cfg name from vizdoom's scenarios folder), e.g. "
                         "my_way_home, health_gathering, basic (default: %(default)s)")
    ap.add_argument("--frames", type=int, default=300, help="number of frames to record (default: %(default)s)")
    ap.add_argument("--size", default="native",
                    help="output size WxH (even numbers, resized from the 160x120 render) or 'native' "
                         "(160x120, default)")
    ap.add_argument("--fps", type=int, default=15, help="frame rate written to the MP4 (default: %(default)s)")
    ap.add_argument("--frameskip", type=int, default=4,
                    help="game tics per recorded frame; the action is repeated for all of them "
                         "(default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0,
                    help="seeds both the game and the action policy (default: %(default)s)")
    ap.add_argument("--hold", default="3,10", metavar="MIN,MAX",
                    help="an action is held for a random MIN..MAX frames, like a human (default: %(default)s)")
    ap.add_argument("--still", type=float, default=4.0,
                    help="re-pick the action early when the mean |frame diff| stays below this for 2 "
                         "frames, e.g. walking into a wall (default: %(default)s; 0 disables)")
    ap.add_argument("--bump", type=float, default=2.0,
                    help="also re-pick when a walking action moved the player less than this many map "
                         "units per frame for 2 frames (default: %(default)s; 0 disables)")
    ap.add_argument("--buttons", choices=("framecast", "scenario"), default="framecast",
                    help="framecast: the fixed 8-action vocabulary above in every scenario; scenario: the "
                         "scenario's own buttons from its .cfg, one action per button plus NOOP, named by "
                         "button, chosen uniformly (default: %(default)s)")
    ap.add_argument("--crf", type=int, default=18, help="libx264 constant rate factor (default: %(default)s)")
    ap.add_argument("--out", required=True, metavar="PATH_WITHOUT_EXT",
                    help="output path without extension, e.g. Clips/my_way_home_s1")
    a = ap.parse_args(argv)

    if names and a.scenario not in names:
        ap.error(f"unknown scenario {a.scenario!r}; choose from: {', '.join(names)}")
    if a.frames < 1:
        ap.error("--frames must be at least 1")
    if a.fps < 1 or a.frameskip < 1:
        ap.error("--fps and --frameskip must be at least 1")
    if not 0 <= a.crf <= 51:
        ap.error("--crf must be in 0..51")
    try:
        hold = tuple(int(x) for x in a.hold.split(","))
        if len(hold) != 2 or not 1 <= hold[0] <= hold[1]:
            raise ValueError
    except ValueError:
        ap.error(f"--hold must be MIN,MAX with 1 <= MIN <= MAX, got {a.hold!r}")
    a.hold = hold
    if a.size == "native":
        a.wh = NATIVE
    else:
        try:
            w, h = (int(x) for x in a.size.lower().split("x"))
        except ValueError:
            ap.error(f"--size must be WxH or 'native', got {a.size!r}")
        if w < 2 or h < 2 or w % 2 or h % 2:
            ap.error(f"--size {w}x{h}: width and height must be even and >= 2 (yuv420p)")
        a.wh = (w, h)
    if a.out.endswith((".mp4", ".json", ".csv")):
        ap.error("--out is a path WITHOUT extension")
    return a


class Game:
    """A ViZDoom scenario with an action table: the fixed vocabulary, or the scenario's own
    buttons. Runs with cwd in a temp dir, because ViZDoom writes _vizdoom.ini and _vizdoom/ into
    the working directory."""

    def __init__(self, scenario, seed, frameskip, workdir, own_buttons=False):
        import vizdoom as vzd
        self.frameskip = frameskip
        g = vzd.DoomGame()
        cwd = os.getcwd()
        os.chdir(workdir)
        try:
            if not g.load_config(os.path.join(scenarios_dir(), scenario + ".cfg")):
                raise RecordError(f"could not load scenario config {scenario}.cfg")
            g.set_doom_config_path(os.path.join(workdir, "_vizdoom.ini"))
            g.set_window_visible(False)
            g.set_sound_enabled(False)
            g.set_mode(vzd.Mode.PLAYER)
            g.set_screen_format(vzd.ScreenFormat.RGB24)
            g.set_screen_resolution(vzd.ScreenResolution.RES_160X120)
            g.set_render_hud(False)
            g.set_render_crosshair(False)
            g.set_render_weapon(True)
            if own_buttons:
                buttons = [b.name for b in g.get_available_buttons()]
                if not buttons:
                    raise RecordError(f"scenario {scenario} declares no buttons")
                self.actions = [("NOOP", ())] + [(b, (b,)) for b in buttons]
                self.weights = [0.5] + [1.0] * len(buttons)
                turns = [i for i, (name, _) in enumerate(self.actions) if name in ("TURN_LEFT", "TURN_RIGHT")]
                self.escape = (turns, [1.0 / len(turns)] * len(turns)) if turns else None
                self.moving = {i for i, (name, _) in enumerate(self.actions)
                               if name in ("MOVE_FORWARD", "MOVE_BACKWARD", "MOVE_LEFT", "MOVE_RIGHT")}
            else:
                buttons = BUTTONS
                g.set_available_buttons([getattr(vzd.Button, b) for b in BUTTONS])
                self.actions, self.weights = ACTIONS, ACTION_WEIGHTS
                self.escape, self.moving = (ESCAPE_ACTIONS, ESCAPE_WEIGHTS), MOVING
            g.set_available_game_variables([vzd.GameVariable.POSITION_X, vzd.GameVariable.POSITION_Y])
            g.set_seed(seed)
            g.init()
        finally:
            os.chdir(cwd)
        self.game = g
        self.names = [name for name, _ in self.actions]
        self.masks = [[float(b in pressed) for b in buttons] for _, pressed in self.actions]

    def reset(self):
        """Returns (first frame, player x, y)."""
        self.game.new_episode()
        st = self.game.get_state()
        return st.screen_buffer, st.game_variables[0], st.game_variables[1]

    def step(self, action_id):
        """Returns (frame, player x, y, reward); frame is None when the episode ended."""
        r = self.game.make_action(self.masks[action_id], self.frameskip)
        if self.game.is_episode_finished():
            return None, 0.0, 0.0, r
        st = self.game.get_state()
        return st.screen_buffer, st.game_variables[0], st.game_variables[1], r

    def close(self):
        self.game.close()


def play(a, raw_path, workdir):
    """Plays the policy, appends frames (rgb24) to raw_path; returns CSV rows."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(a.seed)
    game = Game(a.scenario, a.seed, a.frameskip, workdir, own_buttons=a.buttons == "scenario")
    weights = np.asarray(game.weights, np.float64)
    weights /= weights.sum()
    hmin, hmax = a.hold

    def pick():
        return int(rng.choice(len(weights), p=weights)), int(rng.integers(hmin, hmax + 1))

    def prep(frame):
        if a.wh == NATIVE:
            return frame
        w, h = a.wh
        shrink = w <= frame.shape[1] and h <= frame.shape[0]
        return np.asarray(Image.fromarray(frame).resize((w, h), Image.BOX if shrink else Image.BICUBIC))

    rows = []
    try:
        with open(raw_path, "wb") as raw_out:
            frame, x, y = game.reset()
            start = 1
            action, left, still, escaping = 0, 0, 0, False
            for i in range(a.frames):
                if still >= 2 and not escaping and game.escape:
                    # The view stopped changing (e.g. walking into a wall, or so close to one that it
                    # fills the view): turn away in one direction for a while, or back off.
                    action = int(rng.choice(game.escape[0], p=game.escape[1]))
                    left, escaping = int(rng.integers((hmin + hmax + 1) // 2, hmax + 1)), True
                elif left == 0:
                    action, left = pick()
                    escaping = False
                left -= 1
                raw_out.write(np.ascontiguousarray(prep(frame)).tobytes())
                nxt, nx, ny, reward = game.step(action)
                rows.append((i, action, game.names[action], reward, start))
                if nxt is None:  # episode over: the next recorded frame starts a new one
                    (nxt, nx, ny), start, left, still, escaping = game.reset(), 1, 0, 0, False
                else:
                    # Stuck: the view barely changed (on native frames, so the trajectory does not
                    # depend on --size), or we tried to walk but did not move (bumping a wall).
                    diff = np.abs(nxt.astype(np.int16) - frame.astype(np.int16)).mean()
                    bumped = a.bump > 0 and action in game.moving and np.hypot(nx - x, ny - y) < a.bump
                    stuck = (a.still > 0 and diff < a.still) or bumped
                    start, still = 0, (still + 1 if stuck else 0)
                frame, x, y = nxt, nx, ny
    finally:
        game.close()
    return rows, game


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, **kw)
    if p.returncode != 0:
        raise RecordError(f"{cmd[0]} failed ({p.returncode}): {p.stderr.decode(errors='replace').strip()}")
    return p.stdout


def encode(raw_path, mp4_path, a):
    w, h = a.wh
    run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-framerate", str(a.fps), "-i", raw_path,
         "-vf", "scale=out_color_matrix=bt601:out_range=tv,format=yuv420p",
         "-c:v", "libx264", "-preset", "medium", "-crf", str(a.crf), "-threads", "1", "-pix_fmt", "yuv420p",
         "-colorspace", "smpte170m", "-color_primaries", "smpte170m", "-color_trc", "smpte170m",
         "-color_range", "tv",
         "-map_metadata", "-1", "-fflags", "+bitexact", "-movflags", "+faststart", "-f", "mp4", mp4_path])


def check(raw_path, mp4_path, a, n_rows):
    """Decodes the MP4 back to rgb24 and compares it with the frames that were encoded.
    Returns (frames decoded, mean per-frame PSNR capped at 50 dB, PSNR of the mean MSE)."""
    import numpy as np
    w, h = a.wh
    fsize = w * h * 3
    dec = subprocess.Popen(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1",
                            "-i", mp4_path, "-vf", "scale=in_color_matrix=bt601:in_range=tv",
                            "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    n, psnrs, mse_sum = 0, [], 0.0
    with open(raw_path, "rb") as src:
        while True:
            got = dec.stdout.read(fsize)
            if not got:
                break
            if len(got) != fsize:
                raise RecordError(f"{mp4_path}: truncated frame {n} in decode-back")
            want = src.read(fsize)
            n += 1
            if len(want) != fsize:
                continue  # more decoded frames than written: counted, reported as a mismatch below
            d = np.frombuffer(got, np.uint8).astype(np.float32) - np.frombuffer(want, np.uint8)
            mse = float(np.mean(d * d))
            mse_sum += mse
            psnrs.append(PSNR_CAP_DB if mse == 0 else min(PSNR_CAP_DB, 10 * np.log10(255.0 ** 2 / mse)))
    err = dec.stderr.read().decode(errors="replace").strip()
    if dec.wait() != 0:
        raise RecordError(f"decoding {mp4_path} back failed: {err}")
    if n != n_rows:
        raise RecordError(f"{mp4_path}: decoded {n} frames but wrote {n_rows} action rows")
    mean_mse = mse_sum / max(len(psnrs), 1)
    psnr_mse = PSNR_CAP_DB if mean_mse == 0 else 10 * np.log10(255.0 ** 2 / mean_mse)
    return n, float(np.mean(psnrs)), float(psnr_mse)


def show(path):
    """Path for the summary: relative to the working directory when below it, else absolute."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def fmt_reward(r):
    r = round(float(r), 6)
    return "0" if r == 0 else f"{r:.6g}"


def record(a):
    import vizdoom
    t0 = time.perf_counter()
    out = os.path.abspath(a.out)
    out_dir = os.path.dirname(out)
    os.makedirs(out_dir, exist_ok=True)
    final = {k: out + ext for k, ext in (("mp4", ".mp4"), ("csv", ".actions.csv"), ("json", ".json"))}
    tag = f".{os.path.basename(out)}.partial-{os.getpid()}"
    temp = {k: os.path.join(out_dir, tag + ext) for k, ext in
            (("mp4", ".mp4"), ("csv", ".actions.csv"), ("json", ".json"))}
    workdir = tempfile.mkdtemp(prefix="framecast-record-")
    try:
        raw_path = os.path.join(workdir, "frames.rgb")
        rows, game = play(a, raw_path, workdir)
        encode(raw_path, temp["mp4"], a)

        with open(temp["csv"], "w", newline="\n") as fh:
            fh.write("frame,action_id,action_name,reward,episode_start\n")
            for i, aid, name, r, start in rows:
                fh.write(f"{i},{aid},{name},{fmt_reward(r)},{start}\n")
        episodes = sum(r[4] for r in rows)
        w, h = a.wh
        meta = {
            "env": "vizdoom",
            "env_version": vizdoom.__version__,
            "scenario": a.scenario,
            "fps": a.fps,
            "frames": len(rows),
            "width": w,
            "height": h,
            "render": f"{NATIVE[0]}x{NATIVE[1]}",
            "frameskip": a.frameskip,
            "seed": a.seed,
            "hold": list(a.hold),
            "still_threshold": a.still,
            "bump_threshold": a.bump,
            "episodes": episodes,
            "action_names": game.names,
            "action_weights": list(game.weights),
            "escape_actions": [game.names[i] for i in game.escape[0]] if game.escape else [],
            "escape_weights": list(game.escape[1]) if game.escape else [],
            "codec": "h264",
            "encoder": "libx264 -preset medium -threads 1",
            "pix_fmt": "yuv420p",
            "color": "bt601 (smpte170m), limited (tv) range",
            "crf": a.crf,
            "convention": CONVENTION,
        }
        if a.buttons == "scenario":   # (absent for the fixed vocabulary, so older recordings stay byte-identical)
            meta["buttons"] = "scenario"

        with open(temp["json"], "w", newline="\n") as fh:
            json.dump(meta, fh, indent=1)
            fh.write("\n")

        n_dec, psnr, psnr_mse = check(raw_path, temp["mp4"], a, len(rows))
        for k in ("csv", "json", "mp4"):  # the MP4 last: its presence means the clip is complete
            os.replace(temp[k], final[k])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        for p in temp.values():
            if os.path.exists(p):
                os.remove(p)
    return {
        "mp4": show(final["mp4"]),
        "actions": show(final["csv"]),
        "json": show(final["json"]),
        "scenario": a.scenario,
        "seed": a.seed,
        "frames": len(rows),
        "frames_decoded": n_dec,
        "size": f"{a.wh[0]}x{a.wh[1]}",
        "bytes": os.path.getsize(final["mp4"]),
        "psnr_db": round(psnr, 2),
        "psnr_mean_mse_db": round(psnr_mse, 2),
        "episodes": episodes,
        "seconds": round(time.perf_counter() - t0, 2),
    }


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if shutil.which("ffmpeg") is None:
        print("record: ffmpeg not found on PATH", file=sys.stderr)
        return 1
    try:
        summary = record(a)
    except KeyboardInterrupt:
        print("record: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # RecordError, OSError, ViZDoom errors: one line, non-zero exit
        print(f"record: {a.out}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
