// showfloor hub dashboard: live station rows on the halls page, a live station page,
// and a copy button. The halls page writes cells the way display.py does (keep the two
// in step), text only; the station page swaps in parts the hub rendered (autoescaped)
// from the same templates as the page itself.
"use strict";

(function () {
  const EVERY = 2000;

  function ago(at, now) {
    if (at === null || at === undefined) return "—";
    const s = Math.max(now - at, 0);
    if (s < 60) return Math.floor(s) + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h ago";
    return Math.floor(s / 86400) + " d ago";
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function badge(state, names, cls) {
    const b = el("span", cls + " " + cls + "--" + state);
    const icon = el("span", cls === "badge" ? "badge__icon" : "", names.icon[state] || "");
    icon.setAttribute("aria-hidden", "true");
    b.append(icon, " " + (cls === "count" ? "" : (names.label[state] || state)));
    return b;
  }

  function set(cell, content) {
    if (!cell) return;
    if (typeof content === "string") {
      if (cell.textContent !== content || cell.children.length) cell.textContent = content;
    } else {
      cell.replaceChildren(...content);
    }
  }

  function updateRow(row, s, now, names) {
    const f = (name) => row.querySelector('[data-f="' + name + '"]');
    const cell = f("state");
    if (cell && cell.dataset.state !== s.state) {
      cell.dataset.state = s.state;
      set(cell, [badge(s.state, names, "badge")]);
    }
    set(f("scene"), s.scene || "—");
    set(f("session"), s.session_active ? "in session" : "—");
    set(f("today"), String(s.sessions_today));
    if (s.last_error) {
      const e = el("span", "err", s.last_error);
      e.title = s.last_error;
      set(f("error"), [e, " ", el("span", "sub", ago(s.last_error_at, now))]);
    } else {
      set(f("error"), "—");
    }
    set(f("outbox"), s.outbox === null || s.outbox === undefined ? "—" : String(s.outbox));
    set(f("fps"), s.fps === null || s.fps === undefined ? "—" : s.fps.toFixed(0));
    set(f("seen"), ago(s.last_seen, now));
  }

  function updateHall(item, hall, names) {
    const counts = item.querySelector('[data-f="counts"]');
    const parts = [];
    for (const state of names.order) {
      const n = hall.states[state];
      if (!n) continue;
      const c = badge(state, names, "count");
      c.append(n + " " + names.label[state]);
      parts.push(c);
    }
    if (!parts.length) parts.push(el("span", "muted", "no stations"));
    set(counts, parts);
    set(item.querySelector('[data-f="sessions"]'), String(hall.sessions_today));
  }

  function live(box) {
    const url = box.dataset.live;
    const text = document.getElementById("live-text");
    const problem = document.getElementById("live-problem");
    const names = JSON.parse(document.getElementById("state-labels").textContent);
    let failures = 0;

    function trouble(message) {
      box.classList.add("live--lost");
      text.textContent = "Not live";
      if (problem.textContent !== message) problem.textContent = message;
      problem.hidden = false;
    }

    async function poll() {
      try {
        const r = await fetch(url, { credentials: "same-origin", cache: "no-store",
                                     headers: { Accept: "application/json" } });
        if (r.status === 401) {
          trouble("Your session has ended: sign in again to see live states.");
          return;  // no more polling
        }
        if (!r.ok) throw new Error("HTTP " + r.status);
        const halls = await r.json();
        const now = parseFloat(r.headers.get("X-Showfloor-Time")) || Date.now() / 1000;
        let unknown = 0;
        for (const hall of halls) {
          const item = document.querySelector('[data-hall="' + CSS.escape(hall.id) + '"]');
          if (item) updateHall(item, hall, names); else unknown++;
          for (const s of hall.stations) {
            const row = document.querySelector('tr[data-station="' + CSS.escape(s.id) + '"]');
            if (row) updateRow(row, s, now, names); else unknown++;
          }
        }
        failures = 0;
        box.classList.remove("live--lost");
        text.textContent = "Live: updated every 2 s";
        if (unknown) {
          problem.textContent = "New halls or stations have appeared: reload the page to see them.";
          problem.hidden = false;
        } else {
          problem.hidden = true;
        }
      } catch (err) {
        failures++;
        if (failures >= 2) trouble("Cannot reach the hub (" + err.message + "); still trying.");
      }
      window.setTimeout(poll, EVERY);
    }
    window.setTimeout(poll, EVERY);
  }

  // -- one station's page: state, details, commands and events every 5 s -------------
  const STATION_EVERY = 5000;

  function liveStation(box) {
    const url = box.dataset.liveStation;
    // a page may ask more often (a final's board: data-every="1000"), never less often
    const every = Math.max(500, Number(box.dataset.every) || STATION_EVERY);
    const words = every === STATION_EVERY ? "every 5 s" : "every " +
      (every % 1000 === 0 && every > 1000 ? every / 1000 + " s" : "second");
    const text = document.getElementById("live-text");
    const parts = new Map();
    for (const el of document.querySelectorAll("[data-part]")) parts.set(el.dataset.part, el);
    const shown = new Map();
    let failures = 0;

    function lost(message) {
      box.classList.add("live--lost");
      text.textContent = message;
    }

    function swap(el, html) {
      // never under the operator's hands: a part with focus (or a pressed button) waits
      if (el.contains(document.activeElement) && document.activeElement !== document.body) {
        return false;
      }
      const doc = new DOMParser().parseFromString(html, "text/html");
      el.replaceChildren(...doc.body.childNodes);
      return true;
    }

    async function poll() {
      try {
        const r = await fetch(url, { credentials: "same-origin", cache: "no-store",
                                     headers: { Accept: "application/json" } });
        if (r.status === 401) {
          lost("Not live: your session has ended; sign in again.");
          return;
        }
        if (!r.ok) throw new Error("HTTP " + r.status);
        const data = await r.json();
        for (const [name, html] of Object.entries(data.parts)) {
          const el = parts.get(name);
          if (!el || shown.get(name) === html) continue;
          if (swap(el, html)) shown.set(name, html);
        }
        failures = 0;
        box.classList.remove("live--lost");
        text.textContent = "Live: updated " + words;
      } catch (err) {
        failures++;
        if (failures >= 2) lost("Not live: cannot reach the hub (" + err.message + "); still trying.");
      }
      window.setTimeout(poll, every);
    }
    window.setTimeout(poll, every);
  }

  function copyButtons() {
    if (!navigator.clipboard) return;
    for (const button of document.querySelectorAll("[data-copy]")) {
      const source = document.getElementById(button.dataset.copy);
      if (!source) continue;
      button.hidden = false;
      button.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(source.textContent.trim());
          button.textContent = "Copied";
        } catch (err) {
          button.textContent = "Select and copy it";
        }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const box = document.querySelector("[data-live]");
    if (box) live(box);
    const station = document.querySelector("[data-live-station]");
    if (station) liveStation(station);
    copyButtons();
  });
})();
