// The /playground page in a real browser: headless Debian Chromium driven by playwright-core.
// Run by samvideo-http/tests/it/playground.rs, which starts `samvideo serve`, makes a key and
// passes what to do and which validator messages to expect (computed by the validator itself):
//   SAMVIDEO_URL      the server's base URL
//   SAMVIDEO_KEY      an API key
//   PLAYGROUND_CASES  {"share": {endpoint, spec, message},
//                      "example": NAME, "endpoint": NAME, "edit": {from, to, message}, "render": SPEC}
//   CHROMIUM          the browser (default /usr/bin/chromium)
// Prints one `ok ...` line per step and exits 0, or prints the failure and exits 1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = need('SAMVIDEO_URL');
const key = need('SAMVIDEO_KEY');
const cases = JSON.parse(need('PLAYGROUND_CASES'));
const t0 = Date.now();
const ok = (what) => console.log(`ok   ${((Date.now() - t0) / 1000).toFixed(1)} s  ${what}`);
const check = (cond, what) => { if (!cond) throw new Error(what); };

// Wait until the validation box is in `state` (and says `message`, when given).
async function expectValidation(page, state, message) {
  try {
    await page.waitForFunction(([s, m]) => {
      const v = document.getElementById('validation');
      return v.dataset.state === s && (m === null || v.textContent === m);
    }, [state, message], { timeout: 15000 });
  } catch (e) {
    const seen = await page.$eval('#validation', (v) => `${v.dataset.state}: ${v.textContent}`);
    throw new Error(`validation: expected ${state} ${JSON.stringify(message)}, the page shows ${JSON.stringify(seen)}`);
  }
}

const profile = mkdtempSync(join(tmpdir(), 'samvideo-playground-'));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30000,
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(20000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) {
      problems.push(`request outside the server: ${r.url()}`);
    }
  });

  // A shared link with a broken spec: its message shows on load, before any key is entered.
  const share = cases.share;
  await page.goto(`${base}/playground#endpoint=${encodeURIComponent(share.endpoint)}&spec=${encodeURIComponent(share.spec)}`);
  await expectValidation(page, 'invalid', share.message);
  check(await page.inputValue('#key') === '', 'no key was entered');
  check(await page.inputValue('#endpoint') === share.endpoint, 'the link chose the endpoint');
  check(await page.isDisabled('#render'), 'render is disabled without a key and with an invalid spec');
  ok(`share link: "${share.message}" shown with no key`);

  // Load an example: valid as bundled.
  await page.goto(`${base}/playground`);
  await page.selectOption('#example', cases.example);
  await page.click('#load-example');
  await expectValidation(page, 'ok', null);
  check(await page.inputValue('#endpoint') === cases.endpoint, `the example picked ${cases.endpoint}`);
  const original = await page.inputValue('#spec');
  check(original.includes('bundled:'), 'the example uses built-in media');
  ok(`example ${cases.example} loaded and valid`);

  // Break a field: the validator's message appears; fix it: valid again.
  check(original.includes(cases.edit.from), `the example holds ${cases.edit.from}`);
  await page.fill('#spec', original.replace(cases.edit.from, cases.edit.to));
  await expectValidation(page, 'invalid', cases.edit.message);
  ok(`broken (${cases.edit.to}): "${cases.edit.message}"`);
  await page.fill('#spec', cases.render);
  await expectValidation(page, 'ok', null);
  ok('fixed: valid');

  // Render with the key: the progress bar fills, the video plays, the download link is there.
  await page.fill('#key', key);
  await page.click('#render');
  const seen = new Set();
  const started = Date.now();
  for (;;) {
    const [state, text, value] = await page.evaluate(() => {
      const s = document.getElementById('status');
      return [s.dataset.state, s.textContent, document.getElementById('progress').value];
    });
    seen.add(value);
    if (state === 'completed') break;
    check(state !== 'failed', `the render failed: ${text}`);
    check(Date.now() - started < 90000, `no result after 90 s: ${state} ${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  check(await page.$eval('#progress', (p) => p.value) === 1, 'the progress bar is full');
  ok(`rendered; progress bar values seen: ${[...seen].sort().join(', ')}`);
  try {
    await page.waitForFunction(() => {
      const v = document.getElementById('video');
      return v.currentTime > 0.5 && !v.paused;
    }, null, { timeout: 20000 });
  } catch (e) {
    const v = await page.$eval('#video', (v) => `src=${v.src} t=${v.currentTime} paused=${v.paused} error=${v.error && v.error.code}`);
    throw new Error(`the video does not play: ${v}`);
  }
  const [src, href, hidden] = await page.evaluate(() => {
    const d = document.getElementById('download');
    return [document.getElementById('video').currentSrc, d.href, d.hidden];
  });
  check(!hidden && href === src && /\/media\/outputs\/[^/]+\.mp4$/.test(href), `download link ${href} for ${src}`);
  ok(`video plays (${src})`);
  check(problems.length === 0, problems.join('\n'));
  console.log('playground: all steps passed');
} catch (e) {
  console.log(`FAIL ${e.message}`);
  process.exitCode = 1;
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
