// The WebSocket to the station (docs/protocol.md, version 1).
//
// Every message carries `v: 1` and a `seq` that increases by one per message
// in each direction of a connection. After a drop the page tries again every
// 250 ms for the first 20 s of the outage (a station restart takes well under
// that, and the kiosk should be back the moment it is), then backs off
// (doubling to 5 s, with a little jitter); once back it says `hello` again
// with `resume` (the seq of the last view it drew).

export const PROTOCOL = 1;
const MIN_DELAY = 250;
const MAX_DELAY = 5000;
const STEADY_FOR = 20_000;  // ms of an outage with a try every MIN_DELAY

export class Connection {
  /**
   * @param {object} o
   * @param {string} o.url                 ws(s)://host/ws
   * @param {() => object} o.hello         fields of the hello message (surface, resume)
   * @param {(msg: object) => void} o.onMessage
   * @param {(state: string) => void} o.onState   "connecting" | "open" | "closed"
   */
  constructor({url, hello, onMessage, onState}) {
    this.url = url;
    this.hello = hello;
    this.onMessage = onMessage;
    this.onState = onState;
    this.ws = null;
    this.seqOut = 0;  // last seq sent on this connection
    this.seqIn = 0;   // last seq received on this connection
    this.delay = MIN_DELAY;
    this.downSince = 0;  // when the outage began (performance.now()); 0 while up
    this.timer = 0;
    this.state = "closed";
  }

  get open() { return this.ws !== null && this.ws.readyState === WebSocket.OPEN; }

  connect() {
    clearTimeout(this.timer);
    this.setState("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.retry();
      return;
    }
    this.ws = ws;
    this.seqOut = 0;
    this.seqIn = 0;
    ws.addEventListener("open", () => {
      if (this.ws !== ws) return;
      this.setState("open");
      this.send("hello", this.hello());
    });
    ws.addEventListener("message", (event) => {
      if (this.ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;  // not ours to fix; the station only sends JSON
      }
      if (!msg || typeof msg !== "object") return;
      if (typeof msg.seq === "number") this.seqIn = msg.seq;
      if (msg.type === "welcome") {  // a good connection: the next outage starts over
        this.delay = MIN_DELAY;
        this.downSince = 0;
      }
      this.onMessage(msg);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setState("closed");
      this.retry();
    });
    ws.addEventListener("error", () => { /* a close event follows */ });
  }

  retry() {
    clearTimeout(this.timer);
    const now = performance.now();
    if (!this.downSince) this.downSince = now;
    const jitter = 0.8 + Math.random() * 0.4;
    let wait = MIN_DELAY * jitter;
    if (now - this.downSince >= STEADY_FOR) {
      // a long outage: back off, so that a station that stays away is not hammered
      wait = Math.min(MAX_DELAY, this.delay) * jitter;
      this.delay = Math.min(MAX_DELAY, this.delay * 2);
    }
    this.timer = setTimeout(() => this.connect(), wait);
  }

  /** Send a message; returns its seq, or 0 when there is no open connection. */
  send(type, fields = {}) {
    if (!this.open) return 0;
    const seq = ++this.seqOut;
    this.ws.send(JSON.stringify({v: PROTOCOL, seq, type, ...fields}));
    return seq;
  }

  setState(state) {
    this.state = state;
    this.onState(state);
  }
}
