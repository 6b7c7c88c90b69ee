// Activity replayed on the connectome, drawn on a canvas in the browser. The server sends the
// graph, its layout and every frame once (engines/worms/activity.py: activity scaled to [0, 1]
// per neuron, as bytes 0-254, 255 = not recorded); this follows the room's time cursor
// ("neural-lab-time" events with the same channel) and draws each new frame:
//   nodes coloured by activity (grey ring: not recorded), edges by synapse count x presynaptic
//   activity (gap junctions: the mean of both ends), a path and the picked neurons on top.
// Frames drawn are counted in window.__labReplay[channel].frames (the benchmark reads it), and
// window.__labReplay[channel].at(name) says where a neuron is drawn (tests point at it).
//
// Speed: every read of `model.x` goes through Panel's model proxy, which rebuilds the Bokeh
// model's attribute table each time (microseconds per read). Reading the graph in the draw loop
// cost ~80% of each frame, so the model is read once per change into `graph` / `look` (plain
// arrays), and a frame only decodes one row of bytes and strokes a few batched paths.

const PAD = 28, BINS = 8, NODE_R = 4.5
const GRAPH = ["node_names", "node_x", "node_y", "node_band", "band_labels", "edge_pre", "edge_post",
               "edge_kind", "edge_count", "max_count", "frame_rows", "n_rows", "n_frames", "stride"]
const LOOK = ["colour_mode", "static_values", "value_range", "value_label", "palette", "marked", "focus", "path"]
const KINDS = [["chemical", "59,110,168"], ["gap junction", "230,120,30"]]

function decode(b64) {
  const text = atob(b64 || "")
  const out = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i)
  return out
}

// The graph as typed arrays: per kind, its edges' ends and weights (count / max count).
function readGraph(model) {
  const g = {}
  for (const name of GRAPH) g[name] = model[name]
  g.n = g.node_names.length
  g.index = new Map(g.node_names.map((m, i) => [m, i]))
  g.rows = Int32Array.from(g.frame_rows.length === g.n ? g.frame_rows : new Array(g.n).fill(-1))
  g.kinds = KINDS.map(([kind, hue]) => {
    const chosen = []
    g.edge_kind.forEach((k, e) => { if (k === kind) chosen.push(e) })
    return { hue, gap: kind !== "chemical", pre: Int32Array.from(chosen, (e) => g.edge_pre[e]),
             post: Int32Array.from(chosen, (e) => g.edge_post[e]),
             weight: Float32Array.from(chosen, (e) => g.edge_count[e] / (g.max_count || 1)) }
  })
  return g
}

function readLook(model) {
  const look = {}
  for (const name of LOOK) look[name] = model[name]
  return look
}

export function render({ model, el }) {
  const make = (tag, className, css) => Object.assign(document.createElement(tag), { className, style: css })
  const wrap = make("div", "replay", "position:relative;width:100%")
  const canvas = make("canvas", "replay-canvas", "display:block;width:100%;cursor:crosshair")
  const tip = make("div", "replay-hover", "position:absolute;display:none;pointer-events:none;" +
    "background:rgba(255,255,255,.93);border:1px solid #999;border-radius:3px;padding:1px 5px;" +
    "font:12px system-ui,sans-serif;white-space:nowrap")
  wrap.append(canvas, tip)
  el.appendChild(wrap)

  let graph = readGraph(model), look = readLook(model), frames = decode(model.frames)
  let height = model.height_px, k = 0, pending = false, staleGraph = false, staleLook = false
  let xs = new Float32Array(0), ys = new Float32Array(0), laidOut = ""
  const now = { k: -1, values: new Float32Array(graph.n) }   // activity at frame k, NaN: not recorded
  const stats = (window.__labReplay = window.__labReplay || {})
  const mine = (stats[model.channel] = stats[model.channel] || { frames: 0, index: 0 })
  mine.at = (name) => { const i = graph.index.get(name); return i === undefined ? null : [xs[i], ys[i]] }

  const activityNow = () => {
    if (now.k === k && now.values.length === graph.n) return now.values
    const values = now.values.length === graph.n ? now.values : new Float32Array(graph.n)
    const f = Math.min(Math.floor(k / graph.stride), graph.n_frames - 1), base = f * graph.n_rows
    for (let i = 0; i < graph.n; i++) {
      const row = graph.rows[i], v = (row < 0 || !frames.length || f < 0) ? 255 : frames[base + row]
      values[i] = v === 255 ? NaN : v / 254
    }
    now.k = k; now.values = values
    return values
  }
  const value = (i) => look.colour_mode === "activity" ? activityNow()[i] : look.static_values[i]
  const colour = (v) => {
    if (v === null || v === undefined || Number.isNaN(v)) return null
    const [lo, hi] = look.value_range
    const t = Math.max(0, Math.min(1, (v - lo) / ((hi - lo) || 1)))
    return look.palette[Math.round(t * (look.palette.length - 1))]
  }
  const layout = (width) => {   // node positions in CSS pixels, recomputed when the size changes
    const key = `${width}x${height}x${graph.n}`
    if (key === laidOut) return
    xs = Float32Array.from(graph.node_x, (x) => PAD + x * (width - 2 * PAD))
    ys = Float32Array.from(graph.node_y, (y) => PAD + (1 - y) * (height - 2 * PAD))
    laidOut = key
  }

  const drawEdges = (g, activity) => {   // binned by strength so each bin is one stroke
    for (const { hue, gap, pre, post, weight } of graph.kinds) {
      const bins = Array.from({ length: BINS }, () => new Path2D())
      for (let e = 0; e < pre.length; e++) {
        const p = pre[e], q = post[e]
        const a = activity[p] || 0, drive = gap ? 0.5 * (a + (activity[q] || 0)) : a
        const s = weight[e] * drive
        if (s <= 0.002) continue
        const b = Math.min(BINS - 1, Math.floor(Math.sqrt(s) * BINS))
        bins[b].moveTo(xs[p], ys[p]); bins[b].lineTo(xs[q], ys[q])
      }
      bins.forEach((path, b) => {
        g.strokeStyle = `rgba(${hue},${0.06 + 0.5 * (b + 1) / BINS})`
        g.lineWidth = 0.4 + 2.6 * (b + 1) / BINS
        g.stroke(path)
      })
    }
  }
  const drawNodes = (g) => {   // one fill per colour, one outline for all
    const byColour = new Map(), outline = new Path2D(), missing = new Path2D()
    for (let i = 0; i < graph.n; i++) {
      const c = colour(value(i)), circle = (path) => { path.moveTo(xs[i] + NODE_R, ys[i]); path.arc(xs[i], ys[i], NODE_R, 0, 2 * Math.PI) }
      if (c === null) { circle(missing); continue }
      if (!byColour.has(c)) byColour.set(c, new Path2D())
      circle(byColour.get(c)); circle(outline)
    }
    g.strokeStyle = "#9a9a9a"; g.lineWidth = 1; g.stroke(missing)
    for (const [c, path] of byColour) { g.fillStyle = c; g.fill(path) }
    g.strokeStyle = "#444"; g.lineWidth = 0.5; g.stroke(outline)
  }
  const at = (m) => graph.index.get(m)
  const drawPath = (g) => {   // the path asked for, on top of the wiring
    g.strokeStyle = "#d62728"; g.lineWidth = 3
    g.beginPath()
    look.path.forEach((m, j) => { const i = at(m); if (i !== undefined) (j ? g.lineTo(xs[i], ys[i]) : g.moveTo(xs[i], ys[i])) })
    g.stroke()
  }
  const drawNames = (g) => {   // marked neurons, the focus and the path named; the band labels
    g.font = "11px system-ui, sans-serif"; g.textAlign = "center"
    for (const m of new Set([...look.marked, ...look.path, look.focus].filter(Boolean))) {
      const i = at(m); if (i === undefined) continue
      g.fillStyle = m === look.focus ? "#d62728" : "#222"
      g.fillText(m, xs[i], ys[i] - NODE_R - 3)
      g.beginPath(); g.arc(xs[i], ys[i], NODE_R + 2.5, 0, 2 * Math.PI); g.strokeStyle = "#d62728"; g.lineWidth = 1.2; g.stroke()
    }
    g.textAlign = "left"; g.fillStyle = "#555"
    graph.band_labels.forEach(([text, y]) => g.fillText(text, 4, PAD + (1 - y) * (height - 2 * PAD) - 14))
  }

  const draw = () => {
    pending = false
    if (staleGraph) { graph = readGraph(model); staleGraph = false; now.k = -1; laidOut = "" }
    if (staleLook) { look = readLook(model); staleLook = false }
    const ratio = window.devicePixelRatio || 1, width = wrap.clientWidth || 800
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio); canvas.height = Math.round(height * ratio)
      canvas.style.height = `${height}px`
    }
    layout(width)
    const g = canvas.getContext("2d")
    g.setTransform(ratio, 0, 0, ratio, 0, 0)
    g.clearRect(0, 0, width, height)
    drawEdges(g, activityNow())
    drawPath(g)
    drawNodes(g)
    drawNames(g)
    mine.frames += 1; mine.index = k
  }
  const request = () => { if (!pending) { pending = true; requestAnimationFrame(draw) } }

  const nearestNode = (event) => {
    const box = canvas.getBoundingClientRect(), x = event.clientX - box.left, y = event.clientY - box.top
    let best = -1, bestD = 64
    for (let i = 0; i < xs.length; i++) {
      const d = (xs[i] - x) ** 2 + (ys[i] - y) ** 2
      if (d < bestD) { bestD = d; best = i }
    }
    return [best, x, y]
  }
  canvas.addEventListener("mousemove", (event) => {
    const [i, x, y] = nearestNode(event)
    if (i < 0) { tip.style.display = "none"; return }
    const v = value(i)
    const shown = (v === null || v === undefined || Number.isNaN(v)) ? "not recorded" : v.toFixed(2)
    tip.textContent = `${graph.node_names[i]} · ${graph.node_band[i]} · ${look.value_label}: ${shown}`
    tip.style.left = `${x + 10}px`; tip.style.top = `${y - 24}px`; tip.style.display = "block"
  })
  canvas.addEventListener("mouseleave", () => { tip.style.display = "none" })
  canvas.addEventListener("click", (event) => {
    const [i] = nearestNode(event)
    if (i >= 0) model.picked = `${graph.node_names[i]}|${Date.now()}`   // a repeat pick still counts
  })

  const follow = (event) => { if (event.detail.channel === model.channel) { k = event.detail.index; request() } }
  window.addEventListener("neural-lab-time", follow)
  if (window.__labTime && model.channel in window.__labTime) k = window.__labTime[model.channel]
  model.on("frames", () => { frames = decode(model.frames); now.k = -1; request() })
  // a new recording changes many properties one by one: read them once, at the next draw
  model.on(GRAPH, () => { staleGraph = true; request() })
  model.on(LOOK, () => { staleLook = true; request() })
  model.on("height_px", () => { height = model.height_px; laidOut = ""; request() })
  const resize = new ResizeObserver(request)
  resize.observe(wrap)
  model.on("remove", () => { window.removeEventListener("neural-lab-time", follow); resize.disconnect() })
  request()
}
