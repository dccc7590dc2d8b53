"use strict";
// The task page: attempts and exception, live logs (followed while the task runs),
// artifacts with previews, cards in sandboxed iframes, lineage.
(function () {
  const path = SW.param("path") || "";
  const parts = path.split("/");
  const base = `/api/tasks/${SW.enc(parts)}`;
  const log = { stream: "stdout", after: 0, generation: 0 };

  function card(k, v) { return SW.el("div", { class: "card" }, SW.el("div", { class: "k" }, k), SW.el("div", { class: "v" }, v)); }

  function render(data) {
    const t = data.task;
    document.title = `${t.pathspec} · stepwell`;
    document.getElementById("title").replaceChildren(`Task ${t.pathspec} `, SW.status(t.status));
    SW.show("crumbs", " / ", SW.el("a", { href: `/?flow=${encodeURIComponent(t.flow)}` }, t.flow), " / ",
      SW.runLink(t.flow, t.run), ` / ${t.step} / ${t.id}`);
    const end = t.finished_at || Date.now() / 1000;
    SW.show("summary", card("Step", t.step), card("Status", t.status), card("Attempt", String(t.attempt)),
      card("Started", SW.time(t.started_at)), card("Duration", SW.duration(end - t.started_at)),
      t.index !== null ? card("Foreach index", String(t.index)) : null,
      card("Next", t.next_steps.join(", ") || "—"),
      t.origin_pathspec ? card(t.origin_kind === "cache" ? "Reused by @cache from" : "Cloned from",
        SW.taskLink(t.origin_pathspec)) : null);
    SW.show("exception", t.exception ? [SW.el("h2", {}, "Exception"), SW.el("pre", { class: "error" }, t.exception)] : []);
    SW.show("artifacts", data.artifacts.length ? SW.table(["Name", "Type", "Size", "Preview"], data.artifacts.map((a) => [
      SW.el("code", {}, a.name), a.type, SW.size(a.size), SW.preview(a.preview)])) : SW.el("p", { class: "muted" }, "No artifacts."));
    SW.show("attempts", SW.table(["Attempt", "Status", "Started", "Duration", "Exception"], data.attempts.map((a) => [
      a.attempt, SW.status(a.status), SW.time(a.started_at),
      SW.duration((a.finished_at || Date.now() / 1000) - a.started_at),
      a.exception ? SW.el("pre", {}, a.exception.trim().split("\n").slice(-1)[0]) : ""])));
    SW.show("lineage", SW.el("div", {}, "Parents: ", data.parents.length ? data.parents.map((p) => [SW.taskLink(p), " "]) : "—"),
      SW.el("div", {}, "Children: ", data.children.length ? data.children.map((p) => [SW.taskLink(p), " "]) : "—"));
    return t.status === "running";
  }

  // Cards: stored ones once the task ends; while it runs, its live renderings, reloaded
  // every 2 s until the stored cards replace them.
  async function loadCards() {
    let shown = "";
    SW.poll(async () => {
      const data = await SW.api(`${base}/cards`);
      if (!data.available) { SW.show("cards", SW.el("p", { class: "muted" }, "Cards are not available in this installation.")); return false; }
      const live = data.cards.some((c) => c.live);
      const key = JSON.stringify(data.cards) + (live ? Date.now() : "");
      if (key !== shown) {
        shown = key;
        if (!data.cards.length) SW.show("cards", SW.el("p", { class: "muted" }, "No cards."));
        else SW.show("cards", data.cards.map((c) => [SW.el("div", { class: "muted" }, `${c.type || "card"}${c.id ? ` (${c.id})` : ""}${c.live ? " — live" : ""}`),
          SW.el("iframe", { class: "cardframe", sandbox: "allow-scripts", referrerpolicy: "no-referrer",
            src: `${base}/cards/${c.index}${live ? `?t=${Date.now()}` : ""}`, title: `card ${c.index}` })]));
      }
      return live;
    }, 2000);
  }

  function followLogs() {
    const generation = ++log.generation;
    log.after = 0;
    SW.show("log");
    const pre = document.getElementById("log");
    SW.poll(async () => {
      if (generation !== log.generation) return false;
      const data = await SW.api(`${base}/logs?stream=${log.stream}&after=${log.after}`);
      if (generation !== log.generation) return false;
      for (const [ts, text] of data.lines) {
        pre.append(SW.el("span", { class: "ts" }, ts ? ts.slice(11, 23) + " " : ""), text, "\n");
      }
      log.after = data.next;
      if (!log.after && data.finished) pre.replaceChildren(SW.el("span", { class: "ts" }, `(no ${log.stream} output)`));
      document.getElementById("follow").textContent = data.finished ? "" : "following live…";
      if (data.lines.length) pre.scrollTop = pre.scrollHeight;
      return data.more || !data.finished;
    }, 1000);
  }

  for (const stream of ["stdout", "stderr"]) {
    document.getElementById(`tab-${stream}`).addEventListener("click", () => {
      log.stream = stream;
      for (const s of ["stdout", "stderr"]) document.getElementById(`tab-${s}`).classList.toggle("active", s === stream);
      followLogs();
    });
  }

  if (parts.length !== 4) { SW.fail(new Error("Missing ?path=Flow/run/step/task in the URL.")); return; }
  SW.poll(async () => render(await SW.api(base)), 1500);
  followLogs();
  loadCards().catch(SW.fail);
})();
