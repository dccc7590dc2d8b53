"use strict";
// The runs page: flows on the left, a paginated, filterable table of the chosen flow's runs.
(function () {
  const PAGE = 50;
  const state = { flow: SW.param("flow"), offset: Number(SW.param("offset") || 0), selected: new Set() };
  const form = document.getElementById("filters");
  for (const name of ["status", "user", "tag"]) form.elements[name].value = SW.param(name) || "";

  function filters() {
    const q = new URLSearchParams();
    for (const name of ["status", "user", "tag"]) if (form.elements[name].value) q.set(name, form.elements[name].value);
    return q;
  }

  async function loadFlows() {
    const data = await SW.api("/api/flows");
    if (!state.flow && data.flows.length) state.flow = data.flows[0].name;
    SW.show("flows", data.flows.map((f) => SW.el("a", {
      href: `/?flow=${encodeURIComponent(f.name)}`, class: f.name === state.flow ? "active" : null,
    }, f.name, " ", f.latest_run ? SW.el("span", { class: `status ${f.latest_run.status}`, title: `latest run ${f.latest_run.id}` }, "") : "")));
    if (!data.flows.length) SW.show("runs", SW.el("p", { class: "muted" }, "No runs in this store yet."));
  }

  async function loadRuns() {
    if (!state.flow) return false;
    const q = filters();
    q.set("limit", PAGE); q.set("offset", state.offset);
    const data = await SW.api(`/api/flows/${encodeURIComponent(state.flow)}/runs?${q}`);
    document.getElementById("title").textContent = `Runs of ${state.flow}`;
    const rows = data.runs.map((r) => [
      SW.el("input", { type: "checkbox", "aria-label": `select ${r.pathspec}`, checked: state.selected.has(r.pathspec) ? "checked" : null,
        onchange: (e) => { e.target.checked ? state.selected.add(r.pathspec) : state.selected.delete(r.pathspec); updateCompare(); } }),
      SW.runLink(r.flow, r.id), SW.status(r.status), r.user, SW.tags(r.tags),
      SW.time(r.started_at), SW.duration(r.duration),
      r.error ? SW.el("span", { class: "muted" }, r.error.slice(0, 120)) : "",
    ]);
    SW.show("runs", data.runs.length ? SW.table(["", "Run", "Status", "User", "Tags", "Started", "Duration", "Error"], rows)
      : SW.el("p", { class: "muted" }, "No runs match."));
    document.getElementById("prev").disabled = state.offset === 0;
    document.getElementById("next").disabled = !data.has_more;
    document.getElementById("page").textContent = `runs ${data.offset + 1}–${data.offset + data.runs.length}`;
    return data.runs.some((r) => r.status === "running");
  }

  function updateCompare() {
    const button = document.getElementById("compare");
    button.disabled = state.selected.size !== 2;
  }

  document.getElementById("compare").addEventListener("click", () => {
    const [a, b] = [...state.selected];
    location.href = `compare.html?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`;
  });
  document.getElementById("prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); loadRuns().catch(SW.fail); });
  document.getElementById("next").addEventListener("click", () => { state.offset += PAGE; loadRuns().catch(SW.fail); });
  form.addEventListener("submit", (e) => { e.preventDefault(); state.offset = 0; loadRuns().catch(SW.fail); });

  loadFlows().then(() => SW.poll(loadRuns, 2000)).catch(SW.fail);
})();
