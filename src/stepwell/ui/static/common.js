"use strict";
// Shared helpers of the stepwell UI pages: the JSON API, safe DOM building, formatting.
// Every value from the API goes in as text (textContent), never as HTML.

const SW = {};

SW.api = async function (path) {
  const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = (body.error && body.error.message) || response.statusText;
    throw new Error(message);
  }
  return body;
};

SW.el = function (tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
};

SW.svg = function (tag, attrs, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
};

SW.param = (name) => new URLSearchParams(location.search).get(name);
SW.enc = (parts) => parts.map(encodeURIComponent).join("/");

SW.time = function (epoch) {
  if (epoch === null || epoch === undefined) return "—";
  return new Date(epoch * 1000).toLocaleString();
};

SW.duration = function (seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  if (m < 60) return `${m}m ${s}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
};

SW.size = function (bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024, i = 0;
  while (value >= 1024 && i < units.length - 1) { value /= 1024; i += 1; }
  return `${value.toFixed(1)} ${units[i]}`;
};

SW.status = (status) => SW.el("span", { class: `status ${status}` }, status);
SW.tags = (tags) => (tags || []).map((t) => SW.el("span", { class: "tag" }, t));
SW.runLink = (flow, id) => SW.el("a", { href: `run.html?flow=${encodeURIComponent(flow)}&run=${encodeURIComponent(id)}` }, `${flow}/${id}`);
SW.taskLink = (pathspec, text) => SW.el("a", { href: `task.html?path=${encodeURIComponent(pathspec)}` }, text || pathspec);

SW.table = function (headers, rows) {
  return SW.el("table", {},
    SW.el("thead", {}, SW.el("tr", {}, headers.map((h) => SW.el("th", {}, h)))),
    SW.el("tbody", {}, rows.map((cells) => SW.el("tr", {}, cells.map((c) =>
      c instanceof Node && c.tagName === "TD" ? c : SW.el("td", {}, c))))));
};

SW.show = function (id, ...children) {
  const node = document.getElementById(id);
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
  return node;
};

SW.fail = function (error) {
  SW.show("error", SW.el("div", { class: "error" }, error.message || String(error)));
};

// Poll `fn` every `ms` while it returns true (e.g. while a run is running).
SW.poll = function (fn, ms) {
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    let again = false;
    try { again = await fn(); document.getElementById("error").replaceChildren(); } catch (e) { SW.fail(e); again = false; }
    if (again) setTimeout(tick, ms);
  };
  tick();
  return () => { stopped = true; };
};

SW.preview = function (preview) {
  if (!preview) return "";
  switch (preview.kind) {
    case "value": return SW.el("pre", {}, preview.text);
    case "array": return SW.el("div", {}, SW.el("div", {}, `array shape (${preview.shape.join(", ")}) dtype ${preview.dtype}`),
      SW.el("pre", {}, preview.head));
    case "table": return SW.el("div", {},
      SW.el("div", {}, `DataFrame ${preview.shape[0]} rows × ${preview.shape[1]} columns`),
      SW.el("table", { class: "preview" },
        SW.el("tr", {}, SW.el("th", {}, ""), preview.columns.map((c, i) => SW.el("th", { title: preview.dtypes[i] }, c))),
        preview.rows.map((row, i) => SW.el("tr", {}, SW.el("th", {}, preview.index[i]), row.map((v) => SW.el("td", {}, v))))));
    case "image": return SW.el("img", { class: "preview-image", src: preview.src, alt: `image, ${preview.bytes} bytes` });
    case "too_large": return SW.el("span", { class: "muted" }, "too large to preview");
    default: return SW.el("span", { class: "muted" }, `no preview: ${preview.message || preview.kind}`);
  }
};

// The signed-in user and a sign-out button, in the header of every page (servers with accounts).
SW.showSession = async function () {
  let session;
  try { session = await SW.api("/api/session"); } catch (e) { return; }
  const header = document.querySelector("header.top");
  if (!session.user || !header) return;
  const signOut = SW.el("form", { method: "post", action: "/logout", class: "signout" },
    SW.el("button", { type: "submit" }, "Sign out"));
  header.append(SW.el("span", { class: "session", id: "session" },
    SW.el("span", { class: "user", title: `token ${session.token_id}` }, session.user), signOut));
};
SW.showSession();
