//! `GET /docs`: a small page that renders `GET /api/openapi.json` without any external
//! script (paths, methods, summaries and which need a key).

use axum::response::Html;

/// `GET /docs`
pub async fn docs_page() -> Html<&'static str> {
    Html(DOCS_HTML)
}

const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>samvideo API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}
.op{border:1px solid #ddd;border-radius:6px;margin:.5rem 0;padding:.5rem .8rem}
.m{display:inline-block;width:4.5rem;font-weight:bold;text-transform:uppercase}
.get{color:#0a6}.post{color:#06c}.put{color:#a60}.delete{color:#c22}
.lock{color:#888;font-size:.85em}
</style></head><body>
<h1 id="title">samvideo API</h1>
<p>Send your key in the <code>X-API-Key</code> header (or the legacy <code>api_key</code> query parameter).
Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a>.</p>
<div id="ops">Loading…</div>
<script>
fetch('/api/openapi.json').then(r => r.json()).then(doc => {
  document.getElementById('title').textContent = doc.info.title + ' ' + doc.info.version;
  const root = document.getElementById('ops');
  root.textContent = '';
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const div = document.createElement('div');
      div.className = 'op';
      const m = document.createElement('span');
      m.className = 'm ' + method; m.textContent = method;
      const p = document.createElement('code'); p.textContent = path;
      const s = document.createElement('div'); s.textContent = op.summary;
      div.append(m, p);
      if (op.security) { const l = document.createElement('span'); l.className = 'lock'; l.textContent = ' (API key)'; div.append(l); }
      div.append(s);
      root.append(div);
    }
  }
}).catch(e => { document.getElementById('ops').textContent = 'Cannot load the document: ' + e; });
</script></body></html>
"#;
