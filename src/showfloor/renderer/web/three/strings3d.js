// Interface strings of the 3-D scenes. A view's `ui` wins when it has the key
// (an exhibit can override any of them with `ui:`), then these, by language.

const STRINGS = {
  "zh-CN": {
    close: "关闭",
    explore: "可以点开的地方",
    drag_hint: "拖动可以转动",
    look_hint: "拖动可以看看四周",
    enter_vr: "进入 VR",
    exit_vr: "退出 VR",
    model_label: "三维模型：{title}。拖动可以转动，用方向键也可以。",
    panorama_label: "360 度全景：{title}。拖动或用方向键看看四周。",
    go: "前往",
  },
  "zh-TW": {
    close: "關閉",
    explore: "可以點開的地方",
    drag_hint: "拖動可以轉動",
    look_hint: "拖動可以看看四周",
    enter_vr: "進入 VR",
    exit_vr: "退出 VR",
    model_label: "立體模型：{title}。拖動可以轉動，用方向鍵也可以。",
    panorama_label: "360 度全景：{title}。拖動或用方向鍵看看四周。",
    go: "前往",
  },
  en: {
    close: "Close",
    explore: "Points to explore",
    drag_hint: "Drag to turn",
    look_hint: "Drag to look around",
    enter_vr: "Enter VR",
    exit_vr: "Exit VR",
    model_label: "3-D model: {title}. Drag to turn it, or use the arrow keys.",
    panorama_label: "360° view: {title}. Drag or use the arrow keys to look around.",
    go: "Go",
  },
};

export function s3(view, key, vars = null) {
  const ui = view && view.ui;
  let text;
  if (ui && typeof ui[key] === "string") text = ui[key];
  else {
    const lang = (view && view.lang) || "en";
    const table = STRINGS[lang] || STRINGS[lang.split("-")[0]] || (lang.startsWith("zh") ? STRINGS["zh-CN"] : STRINGS.en);
    text = table[key] ?? STRINGS.en[key] ?? key;
  }
  if (vars) text = text.replace(/\{(\w+)\}/g, (all, k) => (k in vars ? String(vars[k]) : all));
  return text;
}
