"use strict";
// The run page: summary, parameters, the DAG with per-step counts, a timeline and the tasks.
// Polls the API every 1.5 s while the run is running.
(function () {
  const flow = SW.param("flow"), run = SW.param("run");
  const NODE_W = 170, NODE_H = 54, GAP_X = 60, GAP_Y = 20;

  function levels(steps, edges) {
    const level = {}, order = steps.map((s) => s.name);
    const out = {};
    for (const [a, b] of edges) (out[a] = out[a] || []).push(b);
    if (!order.length) return level;
    level[order[0]] = 0;
    const queue = [order[0]];
    while (queue.length) {  // breadth first: back edges (recursion) do not move a step
      const name = queue.shift();
      for (const next of out[name] || []) {
        if (!(next in level)) { level[next] = level[name] + 1; queue.push(next); }
      }
    }
    for (const name of order) if (!(name in level)) level[name] = 0;
    return level;
  }

  function drawDag(dag) {
    const level = levels(dag.steps, dag.edges);
    const columns = {}, pos = {};
    for (const step of dag.steps) {
      const col = level[step.name];
      columns[col] = (columns[col] || 0) + 1;
      pos[step.name] = { x: 10 + col * (NODE_W + GAP_X), y: 10 + (columns[col] - 1) * (NODE_H + GAP_Y) };
    }
    const width = 20 + (Math.max(0, ...Object.values(level)) + 1) * (NODE_W + GAP_X);
    const height = 20 + Math.max(1, ...Object.values(columns)) * (NODE_H + GAP_Y);
    const svg = SW.svg("svg", { width, height, role: "img", "aria-label": "DAG" },
      SW.svg("defs", {}, SW.svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto" },
        SW.svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#8c959f" }))));
    for (const [a, b] of dag.edges) {
      if (!pos[a] || !pos[b]) continue;
      const x1 = pos[a].x + NODE_W, y1 = pos[a].y + NODE_H / 2, x2 = pos[b].x, y2 = pos[b].y + NODE_H / 2;
      const back = x2 <= x1;
      const d = back ? `M${x1 - NODE_W / 2},${y1 + NODE_H / 2} C${x1 - NODE_W / 2},${y1 + NODE_H} ${x2 + NODE_W / 2},${y2 + NODE_H} ${x2 + NODE_W / 2},${y2 + NODE_H / 2}`
        : `M${x1},${y1} C${x1 + GAP_X / 2},${y1} ${x2 - GAP_X / 2},${y2} ${x2},${y2}`;
      svg.append(SW.svg("path", { d, fill: "none", stroke: "#8c959f", "stroke-width": 1.5, "marker-end": "url(#arrow)" }));
    }
    const colors = { succeeded: "#1a7f37", failed: "#cf222e", running: "#0969da" };
    for (const step of dag.steps) {
      const p = pos[step.name];
      const counts = [`${step.tasks} task${step.tasks === 1 ? "" : "s"}`];
      if (step.foreach_width) counts.push(`foreach ×${step.foreach_width}`);
      const detail = [step.succeeded ? `✓${step.succeeded}` : "", step.running ? `▶${step.running}` : "", step.failed ? `✗${step.failed}` : ""].filter(Boolean).join(" ");
      const link = SW.svg("a", { href: `#step-${step.name}` },
        SW.svg("rect", { x: p.x, y: p.y, width: NODE_W, height: NODE_H, rx: 6, fill: "#fff", stroke: colors[step.status] || "#8c959f", "stroke-width": 2 }),
        SW.svg("rect", { x: p.x, y: p.y, width: 6, height: NODE_H, rx: 3, fill: colors[step.status] || "#8c959f" }),
        SW.svg("text", { x: p.x + 14, y: p.y + 19, "font-weight": 600 }, step.name),
        SW.svg("text", { x: p.x + 14, y: p.y + 35, fill: "#57606a" }, counts.join(" · ")),
        SW.svg("text", { x: p.x + 14, y: p.y + 49, fill: "#57606a" }, detail));
      link.setAttribute("data-step", step.name);
      svg.append(link);
    }
    SW.show("dag", svg);
  }

  function drawTimeline(timeline, steps) {
    const bars = timeline.bars;
    if (!bars.length) { SW.show("timeline", SW.el("p", { class: "muted" }, "No tasks yet.")); return; }
    const t0 = Math.min(...bars.map((b) => b[3])), t1 = Math.max(...bars.map((b) => b[4]));
    const span = Math.max(t1 - t0, 0.001), labelW = 120, plotW = 900, rowH = 16;
    const rows = steps.map((s) => s.name);
    const perStep = {};
    for (const bar of bars) (perStep[bar[0]] = perStep[bar[0]] || []).push(bar);
    // One lane per step; overlapping tasks of a step stack in sub-lanes (at most 8).
    let y = 20;
    const svg = SW.svg("svg", { width: labelW + plotW + 20, height: 10, "aria-label": "timeline" });
    svg.append(SW.svg("text", { x: labelW, y: 12, fill: "#57606a" }, `0 s`));
    svg.append(SW.svg("text", { x: labelW + plotW - 60, y: 12, fill: "#57606a" }, SW.duration(span)));
    const colors = { succeeded: "#4ac26b", failed: "#cf222e", running: "#0969da" };
    for (const name of rows) {
      const lanes = [];
      const list = perStep[name] || [];
      for (const bar of list) {
        let lane = lanes.findIndex((end) => end <= bar[3]);
        if (lane < 0) { lane = Math.min(lanes.length, 7); }
        lanes[lane] = bar[4];
        const x = labelW + ((bar[3] - t0) / span) * plotW, w = Math.max(2, ((bar[4] - bar[3]) / span) * plotW);
        const rect = SW.svg("rect", { x, y: y + lane * (rowH / 2 + 1), width: w, height: rowH / 2, fill: colors[bar[2]] || "#8c959f" },
          SW.svg("title", {}, `${name}/${bar[1]} ${bar[2]} ${SW.duration(bar[4] - bar[3])}`));
        svg.append(rect);
      }
      svg.append(SW.svg("text", { x: 4, y: y + 10 }, name));
      y += Math.max(1, Math.min(lanes.length, 8)) * (rowH / 2 + 1) + 8;
    }
    svg.setAttribute("height", y + 4);
    const note = timeline.sampled ? SW.el("p", { class: "muted" }, `Showing ${bars.length} of ${timeline.total} tasks (sampled).`) : null;
    SW.show("timeline", svg, note);
  }

  function render(data) {
    const r = data.run;
    document.title = `${r.pathspec} · stepwell`;
    document.getElementById("title").replaceChildren(`Run ${r.pathspec} `, SW.status(r.status));
    SW.show("crumbs", " / ", SW.el("a", { href: `/?flow=${encodeURIComponent(r.flow)}` }, r.flow), ` / ${r.id}`);
    const card = (k, v) => SW.el("div", { class: "card" }, SW.el("div", { class: "k" }, k), SW.el("div", { class: "v" }, v));
    const systemTag = (prefix) => ((r.system_tags || []).find((t) => t.startsWith(prefix)) || "").slice(prefix.length);
    const deployment = systemTag("deployment:");
    SW.show("summary", card("Status", r.status), card("User", r.user), card("Started", SW.time(r.started_at)),
      card("Duration", SW.duration(r.duration)), card("Tasks", String(data.timeline.total)),
      card("Tags", r.tags.length ? SW.tags(r.tags) : "—"),
      r.origin_run_id ? card("Resumed from", SW.runLink(r.flow, r.origin_run_id)) : null,
      deployment ? card("Triggered by", `${systemTag("triggered_by:") || "?"} (deployment ${deployment})`) : null,
      r.datastore ? card("Datastore", SW.el("code", {}, r.datastore)) : null,
      r.error ? SW.el("div", { class: "card error" }, r.error) : null);
    const params = Object.entries(r.parameters);
    SW.show("params", params.length ? SW.table(["Name", "Value"], params.map(([k, v]) => [k, SW.el("code", {}, JSON.stringify(v))]))
      : SW.el("p", { class: "muted" }, "No parameters."));
    drawDag(data.dag);
    SW.show("steps", SW.table(["Step", "Status", "Tasks", "Succeeded", "Running", "Failed", "Retried", "Foreach width", "Duration"],
      data.dag.steps.map((s) => [SW.el("a", { href: `#step-${s.name}` }, s.name), SW.status(s.status), s.tasks, s.succeeded, s.running, s.failed,
        s.retried, s.foreach_width || "", SW.duration(s.finished_at - s.started_at)])));
    drawTimeline(data.timeline, data.dag.steps);
    SW.show("tasks", data.dag.steps.map((s) => {
      const tasks = data.tasks[s.name] || [];
      const more = s.tasks > tasks.length ? SW.el("p", { class: "muted" }, `${tasks.length} of ${s.tasks} tasks shown (failed and running first).`) : null;
      return [SW.el("h3", { id: `step-${s.name}` }, s.name),
        SW.table(["Task", "Status", "Index", "Attempt", "Started", "Duration"], tasks.map((t) => [
          SW.taskLink(t.pathspec, t.id), SW.status(t.status), t.index === null ? "" : t.index, t.attempt,
          SW.time(t.started_at), SW.duration((t.finished_at || data.now) - t.started_at)])), more];
    }));
    return r.status === "running";
  }

  async function showCode() {
    try {
      const code = await SW.api(`/api/runs/${SW.enc([flow, run])}/code`);
      SW.show("code",
        SW.el("p", { class: "muted" }, `${code.files.length} file(s) in the code package: `,
          SW.el("code", {}, code.files.join(", "))),
        SW.el("h3", {}, code.info.script),
        SW.el("pre", { class: "code" }, code.flowspec));
    } catch (err) {
      SW.show("code", SW.el("p", { class: "muted" }, err.message));
    }
  }

  if (!flow || !run) { SW.fail(new Error("Missing ?flow=...&run=... in the URL.")); return; }
  SW.poll(async () => render(await SW.api(`/api/runs/${SW.enc([flow, run])}`)), 1500);
  showCode();
})();
