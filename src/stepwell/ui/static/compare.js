"use strict";
// Two runs side by side: summaries, parameters, per-step timings, end-task artifacts.
(function () {
  const a = SW.param("a"), b = SW.param("b");

  function cell(value, different) { return SW.el("td", { class: different ? "different" : null }, value); }

  function render(data) {
    const A = data.a, B = data.b;
    SW.show("crumbs", " / compare");
    document.getElementById("title").textContent = `Compare ${A.pathspec} and ${B.pathspec}`;
    SW.show("runs", SW.table(["", A.pathspec, B.pathspec], [
      ["Run", SW.runLink(A.flow, A.id), SW.runLink(B.flow, B.id)],
      ["Status", SW.status(A.status), SW.status(B.status)],
      ["User", A.user, B.user],
      ["Started", SW.time(A.started_at), SW.time(B.started_at)],
      ["Duration", SW.duration(A.duration), SW.duration(B.duration)],
      ["Tags", SW.tags(A.tags), SW.tags(B.tags)],
    ]));
    const names = [...new Set([...Object.keys(A.parameters), ...Object.keys(B.parameters)])].sort();
    const show = (params, n) => (n in params ? SW.el("code", {}, JSON.stringify(params[n])) : SW.el("span", { class: "muted" }, "—"));
    SW.show("params", names.length ? SW.el("div", { class: "diff" }, SW.table(["Parameter", A.pathspec, B.pathspec], names.map((n) => {
      const diff = JSON.stringify(A.parameters[n]) !== JSON.stringify(B.parameters[n]);
      return [n, cell(show(A.parameters, n), diff), cell(show(B.parameters, n), diff)];
    }))) : SW.el("p", { class: "muted" }, "Neither run has parameters."));
    SW.show("steps", SW.table(["Step", A.pathspec, B.pathspec], data.steps.map((s) => [s.step,
      ...[s.a, s.b].map((x) => (x ? [SW.status(x.status), ` ${x.tasks} task(s) · ${SW.duration(x.duration)}`] : SW.el("span", { class: "muted" }, "—")))])));
    if (!data.artifacts) { SW.show("artifacts", SW.el("p", { class: "muted" }, data.artifacts_note)); return; }
    SW.show("artifacts", SW.el("div", { class: "diff" }, SW.table(["Artifact", "", A.pathspec, B.pathspec], data.artifacts.map((r) => [
      SW.el("code", {}, r.name), r.state.replace("_", " "),
      cell(r.a ? SW.preview(r.a.preview) : "—", r.state !== "same"), cell(r.b ? SW.preview(r.b.preview) : "—", r.state !== "same")]))));
  }

  if (!a || !b) { SW.fail(new Error("Missing ?a=Flow/run&b=Flow/run in the URL.")); return; }
  SW.api(`/api/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`).then(render).catch(SW.fail);
})();
