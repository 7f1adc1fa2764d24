'use strict';
// The samvideo playground: edit a spec, see the validator's message as you type (the server's
// own, from POST /api/playground/validate/{endpoint}, no key needed), render it with a key,
// follow the progress endpoint and play the result. Plain JS, no framework, no build step.
// Settings (paths, endpoints, examples) come from the page: routes/playground/page.rs.
(() => {
  const settings = JSON.parse(document.getElementById('settings').textContent);
  const $ = (id) => document.getElementById(id);
  const spec = $('spec'), endpointSel = $('endpoint'), exampleSel = $('example');
  const validation = $('validation'), hint = $('hint'), keyInput = $('key'), renderBtn = $('render');
  const progress = $('progress'), status = $('status'), video = $('video'), download = $('download');
  const shareLink = $('share-link');
  const DEBOUNCE_MS = 300, POLL_MS = 500, ENDED = ['completed', 'failed', 'cancelled', 'timeout'];

  let checks = 0;          // the latest validation asked; older answers are dropped
  let timer = null;        // the pending debounced validation
  let verdict = 'idle';    // ok | invalid | error | checking | idle
  let render = 0;          // the latest render started; older polls stop

  for (const e of settings.endpoints) endpointSel.add(new Option(e.name, e.name));
  for (const ex of settings.examples) exampleSel.add(new Option(`${ex.name} (${ex.endpoint})`, ex.name));

  const endpoint = () => settings.endpoints.find((e) => e.name === endpointSel.value);

  function show(el, state, text) {
    el.dataset.state = state;
    el.textContent = text;
  }

  function updateRenderButton() {
    renderBtn.disabled = keyInput.value.trim() === '' || verdict === 'invalid' || verdict === 'checking';
  }

  function setVerdict(state, text) {
    verdict = state;
    show(validation, state, text);
    updateRenderButton();
  }

  // Validate now (delay 0) or after the person stops typing.
  function scheduleCheck(delay) {
    clearTimeout(timer);
    setVerdict('checking', 'Checking…');
    timer = setTimeout(check, delay);
  }

  async function check() {
    const mine = ++checks;
    const text = spec.value;
    let local = '';
    try { JSON.parse(text); } catch (e) { local = `JSON: ${e.message}`; }
    let r, body;
    try {
      r = await fetch(settings.validate.replace('{endpoint}', encodeURIComponent(endpointSel.value)), {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: text,
      });
      body = await r.json().catch(() => ({}));
    } catch (e) {
      if (mine === checks) setVerdict('error', `Cannot reach the server: ${e.message}`);
      return;
    }
    if (mine !== checks) return;
    hint.textContent = r.status === 400 ? local : '';
    if (r.ok) {
      setVerdict('ok', `✓ ${body.message}`);
    } else if (r.status === 400) {
      setVerdict('invalid', body.message || 'Invalid');
    } else {
      setVerdict('error', body.message || `HTTP ${r.status}`);
      const wait = Number(r.headers.get('Retry-After'));
      if (r.status === 429 && wait > 0) timer = setTimeout(check, wait * 1000);
    }
  }

  function pretty(text) {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
  }

  function loadExample(name) {
    const ex = settings.examples.find((e) => e.name === name);
    if (!ex) return;
    exampleSel.value = ex.name;
    endpointSel.value = ex.endpoint;
    spec.value = JSON.stringify(ex.spec, null, 2);
    scheduleCheck(0);
  }

  // `#endpoint=NAME&spec=URL-ENCODED-JSON` (spec last; `endpoint` optional).
  function fromHash() {
    const h = location.hash.slice(1);
    const at = h.startsWith('spec=') ? 0 : h.indexOf('&spec=') + 1;
    if (at <= 0 && !h.startsWith('spec=')) return false;
    const params = new URLSearchParams(h.slice(0, at));
    const named = params.get('endpoint');
    if (named && settings.endpoints.some((e) => e.name === named)) endpointSel.value = named;
    let text;
    try { text = decodeURIComponent(h.slice(at + 'spec='.length)); } catch { text = h.slice(at + 'spec='.length); }
    spec.value = pretty(text);
    exampleSel.value = '';
    scheduleCheck(0);
    return true;
  }

  function share() {
    let compact;
    try { compact = JSON.stringify(JSON.parse(spec.value)); } catch { compact = spec.value; }
    const link = `${location.origin}${location.pathname}#endpoint=${encodeURIComponent(endpointSel.value)}` +
      `&spec=${encodeURIComponent(compact)}`;
    shareLink.value = link;
    shareLink.hidden = false;
    shareLink.select();
    if (navigator.clipboard) navigator.clipboard.writeText(link).catch(() => {});
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function api(method, path, body) {
    const r = await fetch(path, {
      method,
      headers: { 'Content-Type': 'application/json', 'X-API-Key': keyInput.value.trim() },
      body,
    });
    return { ok: r.ok, status: r.status, body: await r.json().catch(() => ({})) };
  }

  function finished(url) {
    progress.value = 1;
    show(status, 'completed', 'Done.');
    video.src = url;
    video.play().catch(() => {});
    download.href = url;
    download.hidden = false;
  }

  async function startRender() {
    const mine = ++render;
    const ep = endpoint();
    progress.value = 0;
    download.hidden = true;
    video.removeAttribute('src');
    show(status, 'submitting', 'Submitting…');
    let created;
    try { created = await api('POST', ep.create, spec.value); } catch (e) {
      show(status, 'failed', `Cannot reach the server: ${e.message}`);
      return;
    }
    if (!created.ok) {
      show(status, 'failed', `${created.status}: ${created.body.message || 'refused'}`);
      return;
    }
    const data = created.body.data || {};
    if (data.preview_url) { finished(data.preview_url); return; } // advanced preview: rendered already
    const path = ep.progress.replace(/\{[a-z_]+\}/, encodeURIComponent(data.id));
    while (mine === render) {
      let p;
      try { p = await api('GET', path); } catch (e) { p = { ok: false, status: 0, body: { message: e.message } }; }
      if (mine !== render) return;
      if (!p.ok) {
        show(status, 'failed', `${p.status}: ${p.body.message || 'progress unavailable'}`);
        return;
      }
      const t = p.body.data;
      progress.value = t.progress;
      if (t.status === 'completed') { finished(t.output_url); return; }
      if (ENDED.includes(t.status)) { show(status, 'failed', `${t.status}: ${t.error || ''}`); return; }
      show(status, t.status, `${t.status} ${Math.round(t.progress * 100)}%`);
      await sleep(POLL_MS);
    }
  }

  spec.addEventListener('input', () => scheduleCheck(DEBOUNCE_MS));
  endpointSel.addEventListener('change', () => scheduleCheck(0));
  $('load-example').addEventListener('click', () => loadExample(exampleSel.value));
  $('share').addEventListener('click', share);
  keyInput.addEventListener('input', updateRenderButton);
  renderBtn.addEventListener('click', startRender);
  video.addEventListener('error', () => {
    if (!video.getAttribute('src')) return;
    show(status, 'failed', 'This browser cannot play the video (AV1 needs a recent browser): download it, or ' +
      'render H.264: settings.output_codec "h264" (advanced: output_settings.codec).');
  });
  window.addEventListener('hashchange', fromHash);
  spec.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab' || e.shiftKey) return;
    e.preventDefault();
    spec.setRangeText('  ', spec.selectionStart, spec.selectionEnd, 'end');
    scheduleCheck(DEBOUNCE_MS);
  });

  if (!fromHash() && settings.examples.length) loadExample(settings.examples[0].name);
})();
