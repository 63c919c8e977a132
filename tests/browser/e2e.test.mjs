// End-to-end tests of the HTML report and the playground in headless
// Chromium. Run by `cargo test --test timeline browser_tests`, or alone:
//   npm ci --prefix tests/browser && cargo build && node --test tests/browser/
// Screenshots go to target/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch, serve, deal, watchConsole, watchNetwork, SHOTS, ROOT } from './lib.mjs';

const AMENDED = '{"at":"2025-01-21","event":"cloud_terms_amended"}';
const GCP = '{"at":"2025-03-01","event":"cloud_contract","provider":"Google","ref":"gcp","price":"5 USD"}';

let browser;
let server;

before(async () => {
  browser = await launch();
  server = await serve();
});

after(async () => {
  if (server) await server.stop();
  if (browser) await browser.close();
});

async function playground() {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const errors = watchConsole(page);
  const outside = watchNetwork(page, server.url);
  await page.goto(server.url);
  await page.waitForSelector('#report .lane', { timeout: 20_000 });
  return { page, errors, outside };
}

/** Replaces the events and waits for the report drawn from them. */
async function setEvents(page, text) {
  const done = page.waitForResponse((r) => r.url().endsWith('/api/run'));
  await page.locator('#events').fill(text);
  await done;
  await page.waitForTimeout(50);
}

test('the reference deal shows its six clauses as lanes', async () => {
  const { page, errors, outside } = await playground();
  const lanes = page.locator('#report .lane');
  assert.equal(await lanes.count(), 6);
  const names = await page.locator('#report .lane h4').allTextContents();
  assert.deepEqual(names, ['Ip reuse', 'Cloud exclusivity', 'Cloud first refusal',
    'Azure resale exclusivity', 'Revenue share', 'Future profit share']);
  await page.screenshot({ path: path.join(SHOTS, 'playground.png') });
  assert.deepEqual(errors, []);
  assert.deepEqual(outside, []);
  await page.close();
});

test('a stream with a breach shows a breach marker that names the clause and the date', async () => {
  const { page, errors } = await playground();
  await setEvents(page, `${AMENDED}\n${GCP}\n`);
  const marker = page.locator('#report .mk.breach').first();
  await marker.waitFor();
  const text = await marker.textContent();
  assert.match(text, /Breach of Cloud first refusal/);
  assert.match(text, /1 Mar 2025/);
  // Focus shows the words, the clause's text and the event line.
  await marker.focus();
  const tip = page.locator('#tip');
  await tip.waitFor({ state: 'visible' });
  const tipText = await tip.textContent();
  assert.match(tipText, /Breach of Cloud first refusal by OpenAI on 1 Mar 2025/);
  assert.match(tipText, /clause cloud_first_refusal/);
  assert.match(tipText, /"ref":"gcp"/);
  await page.screenshot({ path: path.join(SHOTS, 'playground-breach.png') });
  assert.equal(await page.locator('#status').textContent(), '1 breach · as of 2025-03-01');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a typo in the contract shows its diagnostic, with its code, at its line', async () => {
  const { page, errors } = await playground();
  const editor = page.locator('#contract');
  const text = await editor.inputValue();
  const typo = text.replace('for each revenue', 'for each revenu');
  const line = typo.slice(0, typo.indexOf('revenu\n')).split('\n').length;
  const checked = page.waitForResponse((r) => r.url().endsWith('/api/check'));
  await editor.fill(typo);
  await checked;
  const item = page.locator('#diagnostics li[data-code="deal::check::unknown_name"]');
  await item.waitFor();
  assert.equal(await item.getAttribute('data-line'), String(line));
  assert.match(await item.textContent(), new RegExp(`line ${line}, column \\d+`));
  assert.match(await item.textContent(), /did you mean `revenue`\?/);
  // The gutter marks the line, and the report says why it is not drawn.
  assert.equal(await page.locator(`#gutter div[data-line="${line}"]`).getAttribute('class'), 'has-error');
  await page.locator('#report .report-error').waitFor();
  await page.screenshot({ path: path.join(SHOTS, 'playground-typo.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('the as-of slider changes a clause\'s state', async () => {
  const { page, errors } = await playground();
  const badge = page.locator('#c-cloud_exclusivity .badge');
  assert.match(await badge.textContent(), /ended since 21 Jan 2025/);
  // Back to the end of 2024: the exclusivity was still in force.
  const day = Math.round(Date.parse('2024-12-31T00:00:00Z') / 86400000);
  const done = page.waitForResponse((r) => r.url().endsWith('/api/run'));
  await page.locator('#asof').evaluate((el, v) => {
    el.value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, day);
  await done;
  await page.waitForFunction(() => /active since/.test(document.querySelector('#c-cloud_exclusivity .badge').textContent));
  assert.match(await page.locator('#asof-text').textContent(), /31 Dec 2024/);
  assert.match(await page.locator('#c-future_profit_share .badge').textContent(), /active since 22 Jul 2019/);
  await page.screenshot({ path: path.join(SHOTS, 'playground-2024.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('the HTML report of the reference deal renders with no console error and no request', async () => {
  const out = deal(['run', 'contracts/microsoft_openai.deal', '--events', 'contracts/microsoft_openai.events.jsonl', '--format', 'html']);
  assert.equal(out.code, 0, out.stderr);
  const file = path.join(ROOT, 'target', 'deal-reference.html');
  writeFileSync(file, out.stdout);
  const url = pathToFileURL(file).href;
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  const errors = watchConsole(page);
  const outside = watchNetwork(page, url);
  await page.goto(url);
  await page.waitForLoadState('load');
  assert.equal(await page.locator('.lane').count(), 6);
  // Every mark is a focusable link with words in it.
  const marks = page.locator('.mk');
  const n = await marks.count();
  assert.ok(n >= 15, `${n} marks`);
  for (let i = 0; i < n; i++) {
    const words = (await marks.nth(i).textContent()).trim();
    assert.ok(words.length > 10, `mark ${i} has no words`);
  }
  // Hovering the first quarter's amount shows it in words.
  const q1 = page.locator('#c-revenue_share .mk.bar').first();
  await q1.hover();
  await page.locator('#tip').waitFor({ state: 'visible' });
  assert.match(await page.locator('#tip').textContent(), /Amount owed for 2025-Q1.*625,000,000\.00 USD/);
  await page.screenshot({ path: path.join(SHOTS, 'report-hover.png') });
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(SHOTS, 'report.png'), fullPage: true });
  assert.deepEqual(errors, []);
  assert.deepEqual(outside, []);
  // Without script the page still says everything.
  const ctx = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1440, height: 1000 } });
  const bare = await ctx.newPage();
  await bare.goto(url);
  assert.equal(await bare.locator('.lane').count(), 6);
  assert.match(await bare.locator('#breaches').textContent(), /None/);
  await ctx.close();
  await page.close();
});
