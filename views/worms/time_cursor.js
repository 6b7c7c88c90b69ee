// The worm room's one time control: play/pause, a slider over the recording's samples, the
// time in seconds and the playback speed. While playing it advances in the browser (speed x
// real time), tells the page's other views on each new sample (a "neural-lab-time" event on
// window, with its channel) and tells the server a few times a second (and when it stops).

const SYNC_MS = 250

function label(times, k) {
  if (!times.length) return "t = — s"
  const end = times[times.length - 1]
  return `t = ${times[k].toFixed(1)} s / ${end.toFixed(0)} s`
}

function nearest(times, t) {
  let lo = 0, hi = times.length - 1
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1
    if (times[mid] <= t) lo = mid; else hi = mid
  }
  return (t - times[lo] <= times[hi] - t) ? lo : hi
}

function make(tag, className, css) {
  const element = document.createElement(tag)
  element.className = className
  element.style.cssText = css
  return element
}

export function render({ model, el }) {
  const bar = make("div", "time-cursor", "display:flex;align-items:center;gap:8px;width:100%;font:13px system-ui,sans-serif")
  const play = make("button", "time-play", "width:34px;height:28px;border:1px solid #888;border-radius:4px;background:#f4f4f4;cursor:pointer")
  const slider = make("input", "time-slider", "flex:1;min-width:120px")
  slider.type = "range"
  const readout = make("span", "time-readout", "min-width:150px;font-variant-numeric:tabular-nums")
  const speed = make("select", "time-speed", "")
  speed.title = "Playback speed (times real time)"
  for (const s of model.speeds) {
    const option = document.createElement("option")
    option.value = String(s)
    option.textContent = `×${s}`
    speed.appendChild(option)
  }
  bar.append(play, slider, readout, speed)
  el.appendChild(bar)

  let k = model.index
  let frame = null, lastTick = 0, playTime = 0, lastSync = 0

  const broadcast = () => {
    window.__labTime = window.__labTime || {}
    window.__labTime[model.channel] = k
    window.dispatchEvent(new CustomEvent("neural-lab-time", { detail: { channel: model.channel, index: k } }))
  }
  const show = () => {
    const times = model.times
    slider.max = String(Math.max(times.length - 1, 0))
    slider.value = String(k)
    readout.textContent = label(times, Math.min(k, Math.max(times.length - 1, 0)))
    play.textContent = model.playing ? "❚❚" : "▶"
    play.title = model.playing ? "Pause" : "Play"
    speed.value = String(model.speed)
  }
  const sync = (force) => {
    const now = performance.now()
    if (force || now - lastSync >= SYNC_MS) {
      lastSync = now
      if (model.index !== k) model.index = k
    }
  }
  const tick = (now) => {
    const times = model.times
    if (!model.playing || times.length < 2) { frame = null; return }
    playTime += (now - lastTick) / 1000 * model.speed
    lastTick = now
    if (playTime > times[times.length - 1]) playTime = times[0]   // loop
    const next = nearest(times, playTime)
    if (next !== k) { k = next; show(); broadcast(); sync(false) }
    frame = requestAnimationFrame(tick)
  }
  const start = () => {
    if (frame !== null || !model.playing) return
    lastTick = performance.now()
    playTime = model.times.length ? model.times[k] : 0
    frame = requestAnimationFrame(tick)
  }

  play.onclick = () => { model.playing = !model.playing }
  slider.oninput = () => { k = parseInt(slider.value); show(); broadcast(); sync(false); playTime = model.times[k] || 0 }
  slider.onchange = () => sync(true)
  speed.onchange = () => { model.speed = parseFloat(speed.value) }

  model.on("playing", () => { show(); if (model.playing) start(); else { sync(true) } })
  model.on("index", () => {
    if (model.index !== k && !model.playing) { k = model.index; playTime = model.times[k] || 0; show(); broadcast() }
  })
  model.on("times", () => { k = Math.min(k, Math.max(model.times.length - 1, 0)); show(); broadcast() })
  model.on("speed", show)
  model.on("remove", () => { if (frame !== null) cancelAnimationFrame(frame) })
  show()
  broadcast()
  start()
}
