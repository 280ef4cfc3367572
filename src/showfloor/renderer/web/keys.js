// Keyboard layer for button-panel stations: arrow keys move focus between the
// visible actions (spatially: the nearest action in that direction, else the
// next/previous one in reading order, wrapping), Enter/Space activate them
// (they are real <button>s). Each action group ([data-keys-group]) is one Tab
// stop with a roving tabindex: the group's current action has tabindex=0,
// the others -1.
//
// The scope is the whole page, or the open modal dialog (everything else is
// `inert` then).

const ARROWS = {ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0]};
const ACTIONS = "button:not([disabled]), [data-action]:not([aria-disabled='true'])";

export class Keys {
  constructor(root = document) {
    this.root = root;
    this.usedKeys = false;
    document.addEventListener("keydown", (e) => this.onKey(e), true);
    document.addEventListener("pointerdown", () => { this.usedKeys = false; }, true);
    document.addEventListener("focusin", (e) => this.onFocus(e));
  }

  /** The element arrows move within: an open modal dialog, else the page. */
  scope() {
    return this.root.querySelector("[aria-modal='true']:not([hidden])") || this.root.body || this.root;
  }

  /** Visible, enabled actions in the scope, in reading (DOM) order. */
  actions(scope = this.scope()) {
    return [...scope.querySelectorAll(ACTIONS)].filter((el) => visible(el));
  }

  onKey(e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const arrow = ARROWS[e.key];
    if (arrow) {
      e.preventDefault();
      this.usedKeys = true;
      this.move(arrow);
      return;
    }
    if (e.key === "Tab" || e.key === "Enter" || e.key === " ") this.usedKeys = true;
    if ((e.key === "Enter" || e.key === " ") && !isAction(document.activeElement)) {
      // nothing focused yet (a new scene on a touch screen): the first press
      // shows where focus is instead of doing something unseen
      e.preventDefault();
      const list = this.actions();
      if (list.length) focus(preferred(list));
    }
  }

  move([dx, dy]) {
    const list = this.actions();
    if (!list.length) return;
    const current = document.activeElement;
    const index = list.indexOf(current);
    if (index < 0) {
      focus(preferred(list));
      return;
    }
    const from = current.getBoundingClientRect();
    const cx = from.left + from.width / 2;
    const cy = from.top + from.height / 2;
    let best = null;
    let bestScore = Infinity;
    for (const el of list) {
      if (el === current) continue;
      const r = el.getBoundingClientRect();
      // the nearest edge of the candidate in the direction of travel
      const along = dx ? (dx > 0 ? r.left - from.right : from.left - r.right)
        : (dy > 0 ? r.top - from.bottom : from.top - r.bottom);
      if (along < -4) continue;  // not in that direction
      const ex = Math.max(r.left - cx, 0, cx - r.right);   // distance across the travel axis
      const ey = Math.max(r.top - cy, 0, cy - r.bottom);
      const across = dx ? ey : ex;
      const score = Math.max(along, 0) + across * 3;
      if (score < bestScore) { bestScore = score; best = el; }
    }
    if (!best) {
      const step = dx > 0 || dy > 0 ? 1 : -1;
      best = list[(index + step + list.length) % list.length];
    }
    focus(best);
  }

  onFocus(e) {
    const el = e.target;
    if (!(el instanceof Element) || !isAction(el)) return;
    const group = el.closest("[data-keys-group]");
    if (!group) return;
    for (const item of group.querySelectorAll(ACTIONS)) item.tabIndex = item === el ? 0 : -1;
  }

  /**
   * Set the roving tabindex of every group under `root` (call after drawing).
   * The group's primary action (data-primary) or its first action is its Tab stop.
   */
  refresh(root = this.root) {
    for (const group of root.querySelectorAll("[data-keys-group]")) {
      const items = [...group.querySelectorAll(ACTIONS)];
      const keep = items.find((el) => el.tabIndex === 0 && el === document.activeElement) ||
        items.find((el) => el.hasAttribute("data-primary")) || items[0];
      for (const item of items) item.tabIndex = item === keep ? 0 : -1;
    }
  }

  /** Put focus on the scene's main action (primary, else the first), without scrolling. */
  focusFirst(root) {
    const list = this.actions(root);
    if (list.length) focus(preferred(list));
  }
}

function preferred(list) {
  return list.find((el) => el.hasAttribute("data-autofocus")) ||
    list.find((el) => el.closest("[data-keys-group='scene']") && !el.hasAttribute("data-late")) ||
    list[0];
}

function isAction(el) {
  return el instanceof Element && el.matches(ACTIONS);
}

function visible(el) {
  if (el.closest("[inert], [hidden], [aria-hidden='true']")) return false;
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0;
}

function focus(el) {
  if (!el) return;
  el.focus({preventScroll: true});
}
