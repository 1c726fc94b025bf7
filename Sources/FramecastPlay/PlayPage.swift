/// The page `framecast play` serves at `/`: HTML, CSS and JavaScript in one document, no external
/// URLs and no build step. It draws the frames the server sends (nearest-neighbour enlarged),
/// sends the held keys, and shows the action applied, frames/s, key-to-frame latency, the real
/// context the game started from, and the controls (restart, pause, temperature, record).
/// `window.framecast` holds its figures for tests.
enum PlayPage {
    static let html = """
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <title>framecast play</title>
    <style>
      body { background: #141414; color: #ddd; font: 14px system-ui, sans-serif; margin: 24px; }
      h1 { font-size: 18px; margin: 0 0 12px; font-weight: 600; }
      #main { display: flex; gap: 24px; align-items: flex-start; }
      #screen { width: 512px; height: 512px; image-rendering: crisp-edges; image-rendering: pixelated; background: #000; border: 1px solid #333; }
      #side { min-width: 300px; max-width: 520px; }
      .row { margin: 6px 0; }
      .big { font-size: 22px; color: #f0e68c; font-family: monospace; }
      #context canvas { width: 56px; height: 56px; image-rendering: crisp-edges; image-rendering: pixelated; margin-right: 3px; border: 1px solid #333; }
      table { border-collapse: collapse; }
      td { padding: 2px 10px 2px 0; font-family: monospace; }
      td.on { color: #f0e68c; }
      button { background: #2a2a2a; color: #ddd; border: 1px solid #555; padding: 6px 12px; margin-right: 6px; cursor: pointer; }
      button:hover { background: #3a3a3a; }
      #message { color: #f88; }
      a { color: #9cf; }
      .dim { color: #888; }
    </style>
    </head>
    <body>
    <h1>framecast play <span class="dim" id="source"></span></h1>
    <div id="message"></div>
    <div id="main">
      <canvas id="screen" width="64" height="64"></canvas>
      <div id="side">
        <div class="row">action <span class="big" id="action">-</span></div>
        <div class="row"><span id="fps">0.0</span> frames/s · latency p50 <span id="p50">-</span> ms, p95 <span id="p95">-</span> ms · server <span id="cost">-</span> ms/frame</div>
        <div class="row dim">frame <span id="index">0</span> · dropped <span id="dropped">0</span> · ignored messages <span id="ignored">0</span></div>
        <div class="row">
          <button id="restart">Restart</button><button id="pause">Pause</button><button id="record">Record</button>
        </div>
        <div class="row">temperature <input id="temperature" type="range" min="0" max="2" step="0.05" value="1"> <span id="temperatureValue">1.00</span></div>
        <div class="row" id="recording"></div>
        <div class="row">keys (nothing held: <span id="idle"></span>)</div>
        <table id="keys"></table>
        <div class="row">real context it started from</div>
        <div id="context"></div>
      </div>
    </div>
    <script>
    "use strict";
    const state = { actions: [], keys: [], held: [], seq: 0, pressed: new Map(), latencies: [], times: [], width: 64, height: 64 };
    const stats = window.framecast = { shown: 0, contextShown: 0, frames: [], pictures: [], latencies: state.latencies, sent: [], recording: null, status: null, hello: null };
    const $ = (id) => document.getElementById(id);
    const screen = $("screen"), screenContext = screen.getContext("2d");
    const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/play");
    socket.binaryType = "arraybuffer";

    function send(object) { if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(object)); }

    function picture(bytes, offset, canvas) {
      const image = canvas.getContext("2d").createImageData(state.width, state.height);
      for (let i = 0, j = offset; i < state.width * state.height; i++, j += 3) {
        image.data[4 * i] = bytes[j]; image.data[4 * i + 1] = bytes[j + 1]; image.data[4 * i + 2] = bytes[j + 2]; image.data[4 * i + 3] = 255;
      }
      canvas.getContext("2d").putImageData(image, 0, 0);
    }

    function percentile(values, p) {
      if (values.length === 0) return "-";
      const sorted = [...values].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(0);
    }

    socket.onmessage = (event) => {
      if (typeof event.data === "string") { return onText(JSON.parse(event.data)); }
      const view = new DataView(event.data), bytes = new Uint8Array(event.data);
      const kind = view.getUint8(0), count = view.getUint8(1), action = view.getInt16(2, true);
      const index = view.getUint32(4, true), ack = view.getUint32(8, true), cost = view.getUint32(12, true) / 10;
      const size = state.width * state.height * 3;
      if (kind === 1) {
        const strip = $("context"); strip.innerHTML = "";
        for (let c = 0; c < count; c++) {
          const canvas = document.createElement("canvas"); canvas.width = state.width; canvas.height = state.height;
          picture(bytes, 16 + c * size, canvas); strip.appendChild(canvas);
        }
        picture(bytes, 16 + (count - 1) * size, screen);
        stats.contextShown = count; stats.shown = 0;
        return;
      }
      picture(bytes, 16, screen);
      const now = performance.now();
      for (const [seq, time] of state.pressed) {
        if (seq <= ack) { state.latencies.push(now - time); state.pressed.delete(seq); }
      }
      if (state.latencies.length > 300) state.latencies.splice(0, state.latencies.length - 300);
      state.times.push(now);
      while (state.times.length && state.times[0] < now - 1000) state.times.shift();
      stats.shown++;
      stats.frames.push({ index, action, ack, time: now });
      stats.pictures.push(bytes.slice(16, 16 + size));
      if (stats.pictures.length > 400) { stats.pictures.shift(); }
      $("action").textContent = action >= 0 ? state.actions[action] : "(none)";
      $("fps").textContent = state.times.length.toFixed(1);
      $("p50").textContent = percentile(state.latencies, 0.5);
      $("p95").textContent = percentile(state.latencies, 0.95);
      $("cost").textContent = cost.toFixed(1);
      $("index").textContent = index;
    };

    function onText(message) {
      if (message.type === "hello") {
        stats.hello = message;
        state.actions = message.actions; state.keys = message.keys; state.width = message.width; state.height = message.height;
        screen.width = message.width; screen.height = message.height;
        $("source").textContent = "· " + message.clip + " from frame " + message.start + " · " + message.fps + " frames/s";
        $("idle").textContent = message.idle >= 0 ? message.actions[message.idle] : "no action";
        $("temperature").value = message.temperature; $("temperatureValue").textContent = Number(message.temperature).toFixed(2);
        $("keys").innerHTML = state.keys.map((k) => "<tr><td id='key-" + k.key + "'>" + k.key + "</td><td>" + k.action + "</td></tr>").join("");
      } else if (message.type === "busy" || message.type === "error") {
        $("message").textContent = message.message;
      } else if (message.type === "status") {
        stats.status = message;
        $("dropped").textContent = message.dropped; $("ignored").textContent = message.ignored;
      } else if (message.type === "recording") {
        stats.recording = message;
        $("recording").innerHTML = "recorded " + message.frames + " frames: <a href='" + message.mp4 + "' download>MP4</a> · <a href='" + message.actions + "' download>actions.csv</a>";
      }
    }
    socket.onclose = () => { if (!$("message").textContent) $("message").textContent = "disconnected from framecast play"; };

    function sendKeys() {
      state.seq++;
      state.pressed.set(state.seq, performance.now());
      stats.sent.push({ seq: state.seq, held: [...state.held], time: performance.now() });
      send({ type: "keys", held: state.held, seq: state.seq });
      for (const k of state.keys) { const cell = $("key-" + k.key); if (cell) cell.className = state.held.includes(k.key) ? "on" : ""; }
    }
    const bound = (code) => state.keys.some((k) => k.key === code);
    window.addEventListener("keydown", (event) => {
      if (!bound(event.code)) return;
      event.preventDefault();
      if (event.repeat || state.held.includes(event.code)) return;
      state.held.push(event.code); sendKeys();
    });
    window.addEventListener("keyup", (event) => {
      if (!state.held.includes(event.code)) return;
      event.preventDefault();
      state.held = state.held.filter((k) => k !== event.code); sendKeys();
    });
    window.addEventListener("blur", () => { if (state.held.length) { state.held = []; sendKeys(); } });
    $("restart").onclick = () => send({ type: "restart" });
    $("pause").onclick = () => { const on = $("pause").textContent === "Pause"; $("pause").textContent = on ? "Resume" : "Pause"; send({ type: "pause", on }); };
    $("record").onclick = () => { $("recording").textContent = "recording…"; send({ type: "record" }); };
    $("temperature").oninput = () => {
      const value = Number($("temperature").value);
      $("temperatureValue").textContent = value.toFixed(2);
      send({ type: "temperature", value });
    };
    </script>
    </body>
    </html>
    """
}
