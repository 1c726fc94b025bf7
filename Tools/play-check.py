#!/usr/bin/env python3
"""Drives `framecast play` in a real browser (Debian's chromium through playwright).

check: loads the page, holds ArrowLeft for 2 s then ArrowRight for 2 s, and checks that frames
arrive at >= 12 frames/s, that the frames under TURN_LEFT differ from those under TURN_RIGHT, that
every frame was predicted under the action of the keys the page had sent, and that Record yields
an MP4 (and actions.csv) with exactly the frames shown and the actions applied. Exit status 1 on a
failed check; the figures are printed as JSON.

bench: opens N tabs that each press a key every 0.5 s for S seconds and prints frames/s and the
key-to-frame latency (median and 95th percentile) per tab.

Usage: Tools/setup-browser; .venv-play/bin/python Tools/play-check.py check --framecast PATH [--out DIR]
       .venv-play/bin/python Tools/play-check.py bench --framecast PATH --sessions 4 [--seconds 20]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from playwright.sync_api import sync_playwright


def start_server(framecast, extra):
    proc = subprocess.Popen([framecast, "play", "--port", "0"] + extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = None
    deadline = time.time() + 120
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"(http://\S+/)", line)
        if m:
            url = m.group(1)
            break
    if url is None:
        proc.kill()
        sys.exit("play-check: framecast play did not print its URL: " + proc.stderr.read())
    log = []
    threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True).start()
    return proc, url, log


def launch(p):
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("play-check: chromium is not installed (Tools/setup-browser)")
    return p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])


def wait_for(page, expression, timeout=60):
    page.wait_for_function(expression, timeout=timeout * 1000)


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))]


def mean_abs_diff(a, b):
    return sum(abs(x - y) for x, y in zip(a, b)) / max(1, len(a))


def check(args):
    proc, url, log = start_server(args.framecast, ["--max-sessions", "1"])
    failures, figures = [], {}
    try:
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1100, "height": 700})
            page.goto(url)
            wait_for(page, "window.framecast.contextShown > 0 && window.framecast.shown >= 8")
            hello = page.evaluate("window.framecast.hello")
            names = hello["actions"]
            t0 = time.time()
            for key in ("ArrowLeft", "ArrowRight"):
                page.keyboard.down(key)
                time.sleep(2)
                page.keyboard.up(key)
            seconds = time.time() - t0
            time.sleep(0.5)
            stats = page.evaluate("({frames: window.framecast.frames, sent: window.framecast.sent, latencies: window.framecast.latencies})")
            arrived = [f for f in stats["frames"] if f["time"] >= stats["sent"][0]["time"]] if stats["sent"] else []
            window = [f for f in arrived if f["time"] <= stats["sent"][0]["time"] + seconds * 1000]
            fps = len(window) / seconds
            figures["frames_per_second"] = round(fps, 2)
            if fps < 12:
                failures.append(f"frames arrived at {fps:.2f} frames/s while keys were held (< 12)")
            # Every frame's action is the one of the keys it applied (its ack sequence number).
            held_by_seq = {s["seq"]: s["held"] for s in stats["sent"]}
            expected = {(): hello["idle"], ("ArrowLeft",): names.index("TURN_LEFT"), ("ArrowRight",): names.index("TURN_RIGHT")}
            wrong = 0
            for f in stats["frames"]:
                held = tuple(held_by_seq.get(f["ack"], [])) if f["ack"] > 0 else ()
                if expected.get(held, -2) != f["action"]:
                    wrong += 1
            figures["frames_checked"] = len(stats["frames"])
            figures["frames_with_wrong_action"] = wrong
            if wrong:
                failures.append(f"{wrong} frames were predicted under another action than the keys sent")
            # Frames under TURN_LEFT against frames under TURN_RIGHT, step by step from each key press.
            pictures = page.evaluate("window.framecast.pictures.map(p => Array.from(p))")
            offset = len(stats["frames"]) - len(pictures)
            left = [pictures[i - offset] for i, f in enumerate(stats["frames"]) if f["action"] == names.index("TURN_LEFT") and i >= offset]
            right = [pictures[i - offset] for i, f in enumerate(stats["frames"]) if f["action"] == names.index("TURN_RIGHT") and i >= offset]
            n = min(len(left), len(right))
            diffs = [mean_abs_diff(left[k], right[k]) for k in range(n // 2, n)]
            figures["turn_frames"] = {"left": len(left), "right": len(right)}
            figures["left_vs_right_mean_abs_difference"] = round(sum(diffs) / max(1, len(diffs)), 2)
            if n < 10 or figures["left_vs_right_mean_abs_difference"] < 3:
                failures.append(f"frames under TURN_LEFT and TURN_RIGHT hardly differ ({figures['left_vs_right_mean_abs_difference']} of 255 over {n} pairs)")
            figures["latency_ms_p50"] = percentile(stats["latencies"], 0.5)
            figures["latency_ms_p95"] = percentile(stats["latencies"], 0.95)
            # Pause, let the frames in flight land, then record: the MP4 holds exactly the frames shown.
            page.click("#pause")
            time.sleep(1.0)
            shown = page.evaluate("window.framecast.contextShown + window.framecast.shown")
            page.click("#record")
            wait_for(page, "window.framecast.recording !== null", timeout=120)
            recording = page.evaluate("window.framecast.recording")
            out = args.out or tempfile.mkdtemp(prefix="play-check-")
            os.makedirs(out, exist_ok=True)
            mp4 = page.request.get(url.rstrip("/") + recording["mp4"]).body()
            csv = page.request.get(url.rstrip("/") + recording["actions"]).body().decode()
            with open(os.path.join(out, "play.mp4"), "wb") as f:
                f.write(mp4)
            with open(os.path.join(out, "play.actions.csv"), "w") as f:
                f.write(csv)
            probe = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                                    "stream=nb_read_frames", "-of", "csv=p=0", os.path.join(out, "play.mp4")],
                                   capture_output=True, text=True)
            mp4_frames = int(probe.stdout.strip() or -1)
            figures.update({"frames_shown": shown, "recording_frames": recording["frames"], "mp4_frames": mp4_frames})
            if not (mp4_frames == shown == recording["frames"]):
                failures.append(f"the MP4 has {mp4_frames} frames, the page showed {shown}, the server recorded {recording['frames']}")
            # The sidecar's played actions are the frames' actions, in order.
            rows = [line.split(",") for line in csv.strip().splitlines()[1:]]
            context = hello["context"]
            played = [int(r[1]) for r in rows[context - 1:len(rows) - 1]]
            all_actions = [f["action"] for f in page.evaluate("window.framecast.frames")]
            figures["sidecar_rows"] = len(rows)
            if len(rows) != mp4_frames or played != all_actions:
                failures.append(f"the actions sidecar ({len(rows)} rows) does not list the {len(all_actions)} actions applied")
            page.screenshot(path=os.path.join(out, "play.png"))
            figures["out"] = out
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            failures.append("framecast play did not stop within 20 s of SIGTERM")
    figures["server_exit"] = proc.returncode
    if proc.returncode not in (0, 143):   # framecast ends on SIGTERM with 128 + 15 after its clean-up
        failures.append(f"framecast play exited with {proc.returncode}: {''.join(log)[-500:]}")
    print(json.dumps({"figures": figures, "failures": failures}, indent=1))
    return 1 if failures else 0


def bench(args):
    proc, url, log = start_server(args.framecast, ["--max-sessions", str(args.sessions)])
    try:
        with sync_playwright() as p:
            browser = launch(p)
            pages = []
            for _ in range(args.sessions):
                page = browser.new_page()
                page.goto(url)
                pages.append(page)
            for page in pages:
                wait_for(page, "window.framecast.shown >= 8")
            starts = [page.evaluate("window.framecast.frames.length") for page in pages]
            t0 = time.time()
            keys = ["ArrowLeft", "ArrowUp", "ArrowRight", "ArrowDown"]
            k = 0
            while time.time() - t0 < args.seconds:
                for page in pages:
                    page.keyboard.down(keys[k % 4])
                time.sleep(0.25)
                for page in pages:
                    page.keyboard.up(keys[k % 4])
                time.sleep(0.25)
                k += 1
            seconds = time.time() - t0
            rows = []
            for page, start in zip(pages, starts):
                s = page.evaluate("({frames: window.framecast.frames.length, latencies: window.framecast.latencies, status: window.framecast.status})")
                lat = s["latencies"]
                rows.append({"frames_per_second": round((s["frames"] - start) / seconds, 2), "latency_ms_p50": round(percentile(lat, 0.5), 1),
                             "latency_ms_p95": round(percentile(lat, 0.95), 1), "presses": len(lat),
                             "dropped": (s["status"] or {}).get("dropped")})
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(json.dumps({"sessions": args.sessions, "seconds": round(seconds, 1), "tabs": rows}, indent=1))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["check", "bench"])
    ap.add_argument("--framecast", required=True, help="the framecast executable")
    ap.add_argument("--out", help="folder for the recording and the screenshot (check)")
    ap.add_argument("--sessions", type=int, default=1, help="tabs (bench)")
    ap.add_argument("--seconds", type=float, default=20, help="seconds of key presses (bench)")
    args = ap.parse_args()
    sys.exit(check(args) if args.mode == "check" else bench(args))


if __name__ == "__main__":
    main()
