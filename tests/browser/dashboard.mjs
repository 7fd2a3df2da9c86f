// Drives voxgate's operator dashboard in headless Chromium for the gateway's integration
// test (see README.md). It talks to the test over stdout, one line per step:
//
//   ready-for-call              logged in, tenant chosen, live event stream connected
//   saw-call <call id>          the call appeared in the live panel
//   call-ended <call id>        it left the live panel
//   detail-turns <n>            the call's detail shows n transcript turns,
//   turn <who> <text>           followed by one line per turn (caller or agent)
//   analysis-category <cat>     the call's detail shows its finished analysis: category,
//   analysis-sentiment <label>  and overall sentiment
//   activated <version id>      a plugin version was activated from the plugins page
//   kpi-total <n>               the Analytics view's "Analysed calls" tile
//   chart-bars <n>              bars (days) drawn in its sentiment-per-day chart
//   analysis-turns <n>          transcript turns in the call's analysis opened from the list
//   csv-rows <n>                data rows (header not counted) of the CSV "Export CSV" saved
//   done                        everything passed (exit status 0)
//   error <message>             something failed (exit status 1, failure.png written)
//
// Diagnostics (browser console errors and the like) go to stderr. Every wait is bounded.

import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const env = (name, fallback) => {
  const value = process.env[name] || fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const SECOND = 1000;
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

let page;
let browser;
let shotDir = '.';

/** One protocol line; newlines inside would break the line protocol. */
function say(line) {
  console.log(line.replace(/\s+/g, ' ').trim());
}

function note(message) {
  process.stderr.write(`dashboard.mjs: ${message}\n`);
}

async function shot(name) {
  await page.screenshot({ path: path.join(shotDir, name), timeout: 15 * SECOND });
}

/** Quotes a value for a CSS attribute selector (call IDs may hold odd characters). */
const cssString = (value) => `"${String(value).replace(/["\\]/g, '\\$&')}"`;

async function launch() {
  browser = await chromium.launch({
    headless: true,
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    timeout: 60 * SECOND,
  });
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  page = await context.newPage();
  page.setDefaultTimeout(15 * SECOND);
  page.on('pageerror', (err) => note(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') note(`console ${msg.type()}: ${msg.text()}`);
  });
}

async function logIn(url, token, tenant) {
  await page.goto(url, { waitUntil: 'load', timeout: 30 * SECOND });
  await page.locator('#token').fill(token);
  await page.locator('#login').click();
  // Either the application appears or the login form says why not.
  await page.waitForFunction(() => !document.querySelector('#app-view').hidden
      || document.querySelector('#login-error').textContent !== '', null, { timeout: 20 * SECOND });
  const refused = await page.locator('#login-error').textContent();
  if (refused) throw new Error(`login failed: ${refused}`);

  const tenants = await page.locator('#tenant option').evaluateAll((options) => options.map((o) => o.value));
  if (!tenants.includes(tenant)) throw new Error(`tenant ${tenant} is not offered (${tenants.join(', ')})`);
  if ((await page.locator('#tenant').inputValue()) !== tenant) await page.locator('#tenant').selectOption(tenant);

  await page.locator('body[data-live="connected"]').waitFor({ state: 'attached', timeout: 30 * SECOND });
}

async function watchCall(tenant) {
  const ofTenant = `[data-call-id][data-tenant=${cssString(tenant)}]`;
  // A very short call may come and go between two polls; it then shows under "recently ended".
  const row = page.locator(`#live-calls ${ofTenant}, #recent-calls ${ofTenant}`).first();
  await row.waitFor({ state: 'attached', timeout: 60 * SECOND });
  const callId = await row.getAttribute('data-call-id');
  say(`saw-call ${callId}`);
  // A moment for the greeting to show in "Last said" makes a more telling picture;
  // it is optional (the call may already be over).
  if (await row.evaluate((el) => Boolean(el.closest('#live-calls')))) {
    await row.locator('.last .who').waitFor({ state: 'attached', timeout: 3 * SECOND }).catch(() => {});
  }
  await shot('live-call.png');

  await page.locator(`#live-calls [data-call-id=${cssString(callId)}]`)
    .waitFor({ state: 'detached', timeout: 90 * SECOND });
  say(`call-ended ${callId}`);
  return callId;
}

/** Polls `probe` every `everyMs` until it returns a truthy value or `ms` pass. */
async function until(what, ms, everyMs, probe) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / SECOND} s: ${what}`);
    await page.waitForTimeout(everyMs);
  }
}

async function checkDetail(callId) {
  await page.locator('a[data-nav="calls"]').click();
  const row = page.locator(`#call-list [data-call-id=${cssString(callId)}]`);
  // The list reloads when the call ends; "Apply" reloads it again in case the store lagged.
  await until(`call ${callId} in the call list`, 30 * SECOND, 0, async () => {
    const listed = await row.waitFor({ state: 'attached', timeout: 3 * SECOND }).then(() => true, () => false);
    if (!listed) await page.locator('#calls-refresh').click();
    return listed;
  });

  const turns = page.locator(`#call-detail[data-call-id=${cssString(callId)}] .turn`);
  // The dialog record can land a moment after the call ends: reopen until it shows.
  await until(`turns in the detail of ${callId}`, 30 * SECOND, 2 * SECOND, async () => {
    if (await turns.count()) return true;
    await row.click();
    await page.locator(`#call-detail[data-state="ready"], #call-detail[data-state="error"]`)
      .waitFor({ state: 'attached', timeout: 10 * SECOND });
    return (await turns.count()) > 0;
  });

  const texts = await turns.evaluateAll((elements) => elements.map((el) => ({
    who: el.classList.contains('caller') ? 'caller' : 'agent',
    text: el.querySelector('.text')?.textContent ?? '',
  })));
  await shot('call-detail.png');
  say(`detail-turns ${texts.length}`);
  for (const turn of texts) say(`turn ${turn.who} ${turn.text}`);
}

/** The finished analysis on the call's detail page (voxgate analyses a call as it ends). */
async function checkAnalysis(callId) {
  const detail = `#call-detail[data-call-id=${cssString(callId)}]`;
  const panel = page.locator(`${detail} .analysis[data-status="done"]`);
  const row = page.locator(`#call-list [data-call-id=${cssString(callId)}]`);
  await until(`a finished analysis in the detail of ${callId}`, 30 * SECOND, 2 * SECOND, async () => {
    if (await panel.count()) return true;
    await row.click(); // the same hash: reloads the detail at once
    await page.locator(`#call-detail[data-state="ready"], #call-detail[data-state="error"]`)
      .waitFor({ state: 'attached', timeout: 10 * SECOND });
    return (await panel.count()) > 0;
  });
  const { category, sentiment } = await panel.evaluate((el) => ({ ...el.dataset }));
  say(`analysis-category ${category}`);
  say(`analysis-sentiment ${sentiment}`);
  await panel.scrollIntoViewIfNeeded();
  await shot('call-analysis.png');
}

/** Data rows of a CSV text (RFC 4180: quoted fields may hold commas and line breaks). */
function csvRecords(text) {
  let records = 0;
  let quoted = false;
  let empty = true; // nothing since the last record ended
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') quoted = !quoted; // a doubled quote toggles twice
    if (!quoted && (c === '\n' || c === '\r')) {
      if (!empty) records += 1;
      empty = true;
    } else {
      empty = false;
    }
  }
  if (!empty) records += 1;
  return Math.max(0, records - 1);
}

async function showAnalytics(callId) {
  await page.locator('a[data-nav="analytics"]').click();
  await page.locator('#analytics[data-state="ready"]').waitFor({ state: 'attached', timeout: 20 * SECOND });
  const total = await page.locator('#analytics-cards [data-kpi="total"] .value').textContent();
  say(`kpi-total ${total}`);
  say(`chart-bars ${await page.locator('#chart-sentiment g.day-bar').count()}`);
  await shot('analytics.png');

  // The call's analysis from the list: transcript and results.
  const row = page.locator(`#analysis-rows tr[data-call-id=${cssString(callId)}]`);
  await row.click();
  const id = await row.getAttribute('data-analysis-id');
  const detail = page.locator(`#analysis-detail[data-analysis-id=${cssString(id)}][data-state="ready"]`);
  await detail.waitFor({ state: 'attached', timeout: 20 * SECOND });
  say(`analysis-turns ${await detail.locator('.turn').count()}`);
  await page.locator('#analysis-list').scrollIntoViewIfNeeded();
  await shot('analysis.png');

  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 20 * SECOND }),
    page.locator('#analytics-export').click(),
  ]);
  const file = await download.path();
  if (!file) throw new Error(`the CSV download failed: ${await download.failure()}`);
  const text = readFileSync(file, 'utf8');
  if (!text.startsWith('id,')) throw new Error(`the CSV does not start with its header: ${JSON.stringify(text.slice(0, 80))}`);
  say(`csv-rows ${csvRecords(text)}`);
}

async function activateOther() {
  await page.locator('a[data-nav="plugins"]').click();
  await page.locator('#plugins tr[data-version]').first().waitFor({ state: 'attached', timeout: 20 * SECOND });
  const versions = await page.locator('#plugins tr[data-version]').evaluateAll((rows) => rows.map((row) => ({
    id: row.dataset.version,
    serves: row.dataset.serves.split(' ').filter(Boolean),
  })));
  // Versions are listed newest first: take the newest that does not serve "contacts" now.
  const target = versions.find((v) => !v.serves.includes('contacts'));
  if (!target) throw new Error(`no version to activate besides the one serving contacts (${versions.length} listed)`);

  const button = page.locator(`#plugins tr[data-version=${cssString(target.id)}] button.activate`);
  await button.click(); // arms the two-step button
  await page.locator(`#plugins tr[data-version=${cssString(target.id)}] button.activate[data-armed="true"]`)
    .waitFor({ state: 'attached' });
  await button.click(); // confirms

  // Active means: it serves "contacts" if it exports that, otherwise at least something.
  await page.waitForFunction((id) => {
    const row = [...document.querySelectorAll('#plugins tr[data-version]')].find((r) => r.dataset.version === id);
    if (!row) return false;
    const serves = row.dataset.serves.split(' ');
    return row.dataset.interfaces.split(' ').includes('contacts') ? serves.includes('contacts') : row.dataset.active !== 'none';
  }, target.id, { timeout: 20 * SECOND });
  say(`activated ${target.id}`);
  await shot('plugins.png');
}

async function showKpis() {
  await page.locator('a[data-nav="kpis"]').click();
  await page.locator('#kpis[data-state="ready"]').waitFor({ state: 'attached', timeout: 20 * SECOND });
  await shot('kpis.png');
}

async function main() {
  const url = env('VOXGATE_URL');
  const token = env('VOXGATE_TOKEN');
  const tenant = env('VOXGATE_TENANT', 'demo');
  shotDir = env('SCREENSHOT_DIR', '.');
  mkdirSync(shotDir, { recursive: true });

  await launch();
  await logIn(url, token, tenant);
  say('ready-for-call');
  const callId = await watchCall(tenant);
  await checkDetail(callId);
  await checkAnalysis(callId);
  await showAnalytics(callId);
  await activateOther();
  await showKpis();
  say('done');
}

async function fail(err) {
  say(`error ${err && err.message ? err.message.split('\n')[0] : String(err)}`);
  if (page) {
    try {
      await shot('failure.png');
    } catch (shotErr) {
      note(`no failure screenshot: ${shotErr.message}`);
    }
  }
}

// The steps bound themselves; this is the backstop should one hang anyway.
const overall = Number(process.env.DASHBOARD_TIMEOUT_SECS || 360) * SECOND;
const watchdog = setTimeout(async () => {
  await fail(new Error(`gave up after ${overall / SECOND} s`));
  process.exit(1);
}, overall);

let status = 0;
try {
  await main();
} catch (err) {
  await fail(err);
  status = 1;
} finally {
  clearTimeout(watchdog);
  if (browser) await browser.close().catch(() => {});
}
process.exit(status);
