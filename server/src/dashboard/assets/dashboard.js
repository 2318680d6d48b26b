// The dashboard's one script: copy buttons, confirmations, the project picker, "try it" (the
// browser calls the module's URL exactly as callers do) and the realtime live tail (SSE).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  document.addEventListener("click", (e) => {
    const b = e.target.closest("button.copy");
    if (!b) return;
    const text = b.dataset.copy || "";
    const done = () => { const old = b.textContent; b.textContent = "copied"; setTimeout(() => (b.textContent = old), 1200); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text, done));
    } else {
      fallbackCopy(text, done);
    }
  });

  document.querySelectorAll("form.confirm").forEach((f) =>
    f.addEventListener("submit", (e) => { if (!window.confirm("Are you sure? This cannot be undone.")) e.preventDefault(); }));

  const picker = document.getElementById("project-picker");
  if (picker) picker.addEventListener("change", () => picker.form.submit());

  setupTry();
  setupTail();
});

function fallbackCopy(text, done) {
  const t = document.createElement("textarea");
  t.value = text; document.body.appendChild(t); t.select();
  try { document.execCommand("copy"); done(); } finally { t.remove(); }
}

function setupTry() {
  const form = document.getElementById("try-form");
  if (!form) return;
  const slug = document.getElementById("try-slug");
  const method = document.getElementById("try-method");
  const auth = document.getElementById("try-auth");
  const fill = () => {
    const opt = slug.selectedOptions[0];
    method.innerHTML = "";
    for (const m of (opt.dataset.methods || "POST").split(",")) {
      const o = document.createElement("option"); o.value = o.textContent = m; method.appendChild(o);
    }
    auth.value = opt.dataset.public === "true" ? "public" : "key";
  };
  slug.addEventListener("change", fill);
  fill();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = document.getElementById("try-out");
    const m = method.value;
    const pub = auth.value === "public";
    let url = pub
      ? `${form.dataset.base}/api/v1/public/projects/${encodeURIComponent(form.dataset.project)}/custom/${encodeURIComponent(slug.value)}`
      : `${form.dataset.base}/v1/custom/${encodeURIComponent(slug.value)}`;
    const headers = {};
    if (!pub) headers["X-Aerostack-Key"] = form.dataset.key;
    const text = document.getElementById("try-body").value.trim();
    let body;
    if (m === "GET") {
      if (text && text !== "{}") {
        try { url += "?" + new URLSearchParams(JSON.parse(text)).toString(); }
        catch (err) { return show(out, "invalid JSON body", 0, url, String(err)); }
      }
    } else {
      body = text || "{}";
      headers["Content-Type"] = "application/json";
    }
    const t0 = performance.now();
    try {
      const r = await fetch(url, { method: m, headers, body, credentials: "omit" });
      const raw = await r.text();
      let pretty = raw;
      try { pretty = JSON.stringify(JSON.parse(raw), null, 2); } catch (_) { /* not JSON */ }
      show(out, `${r.status} ${r.statusText}`, performance.now() - t0, `${m} ${url}`, pretty, r.ok);
    } catch (err) {
      show(out, "network error", performance.now() - t0, `${m} ${url}`, String(err), false);
    }
  });
}

function show(out, status, ms, url, answer, ok) {
  out.hidden = false;
  const s = document.getElementById("try-status");
  s.textContent = status; s.className = ok ? "status s2" : "status s5";
  document.getElementById("try-time").textContent = `${ms.toFixed(1)} ms`;
  document.getElementById("try-url").textContent = url;
  document.getElementById("try-answer").textContent = answer;
}

function setupTail() {
  const box = document.getElementById("tail");
  if (!box) return;
  const rows = document.getElementById("tail-rows");
  const state = document.getElementById("tail-state");
  const src = new EventSource(box.dataset.src);
  src.onopen = () => (state.textContent = "live");
  src.onerror = () => (state.textContent = "reconnecting…");
  src.addEventListener("lagged", (e) => (state.textContent = `live (${e.data} frames skipped: too many at once)`));
  src.addEventListener("frame", (e) => {
    const { topic, frame } = JSON.parse(e.data);
    const tr = document.createElement("tr");
    tr.className = "tail-row";
    const detail = frame.event ? `${frame.event} ${JSON.stringify(frame.data ?? frame.payload ?? "")}` : JSON.stringify(frame.data ?? frame);
    for (const v of [new Date().toLocaleTimeString(), topic, frame.type || "", detail]) {
      const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
    }
    rows.prepend(tr);
    while (rows.children.length > 500) rows.lastChild.remove();
  });
}
