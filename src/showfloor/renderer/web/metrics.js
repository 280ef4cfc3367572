// Frame times, measured with requestAnimationFrame only while an animation
// runs (a cross-fade, an attract transition, a 3-D scene), so that 2-D scenes
// stay idle between changes. Reported every 10 s as a `metrics` message.

const MAX_SAMPLES = 4000;

export class FrameMeter {
  constructor() {
    this.running = 0;     // how many animations are running now
    this.samples = [];    // frame times since the last report (ms)
    this.frames = 0;
    this.last = 0;
    this.loop = (t) => {
      if (this.last) {
        this.frames += 1;
        if (this.samples.length < MAX_SAMPLES) this.samples.push(t - this.last);
      }
      this.last = t;
      if (this.running > 0) requestAnimationFrame(this.loop);
      else this.last = 0;
    };
  }

  /** An animation starts; call the returned function when it ends (idempotent). */
  begin() {
    this.running += 1;
    if (this.running === 1 && !this.last) requestAnimationFrame(this.loop);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.running = Math.max(0, this.running - 1);
    };
  }

  /** Measure for `ms` milliseconds (a fixed-length transition). */
  during(ms) {
    const end = this.begin();
    setTimeout(end, ms + 50);
  }

  /** The fields of a `metrics` message; starts a new period. */
  report() {
    const s = this.samples.sort((a, b) => a - b);
    const pick = (q) => (s.length ? round(s[Math.min(s.length - 1, Math.floor(q * s.length))]) : 0);
    const out = {frames: this.frames, p50: pick(0.5), p99: pick(0.99)};
    const mem = performance.memory;
    if (mem && mem.usedJSHeapSize) out.memory = round(mem.usedJSHeapSize / 1048576);
    this.samples = [];
    this.frames = 0;
    return out;
  }
}

function round(x) {
  return Math.round(x * 100) / 100;
}
