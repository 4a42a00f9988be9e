/**
 * The operators' console across reconnections, in a real browser (Debian's Chromium, real
 * Node-RED with Dashboard 2.0). Dashboard 2.0 builds its widgets again after every
 * reconnection: a network drop (the browser put offline), a Full deploy, a Node-RED restart
 * (a real one: Node-RED as a child process, stopped and started again on the same port). The
 * alert open, the notes typed and a decision waiting for its answer must survive it; a
 * decision clicked while the connection is down is refused at once and never sent later; one
 * whose answer is late is not said to have failed.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, Page } from 'playwright-core';
import { listAuditFiles } from '../../lib/alerts/audit';
import { consoleFlow, DashboardServer, ensureWidgetBuilt, startDashboardServer } from '../support/dashboard-server';
import { artifactsDir as artifacts, launchChromium } from '../support/browser';
import { consoleDetection, openConsoleAs, screenshotPagesIfFailed, startConsoleServerAndBrowser } from '../support/console-page';
import { makeUserDir, repoRoot, RunningNodeRed, startNodeRed } from '../support/nodered';
import { HeldSocket, holdableSocket } from '../support/held-socket';
import { waitFor } from '../support/wait';

const agoS = (s: number) => Date.now() / 1000 - s;
/** A clock time as the console writes it: 24-hour, with the date when not today (just after midnight). */
const clock = /(\d{1,2} [A-Z][a-z]{2} )?\d{2}:\d{2}:\d{2}/.source;

const settledOn = (page: Page, alertId: string) => page.waitForSelector(`[data-test=detail][data-shown-alert="${alertId}"][data-settled=yes]`, { state: 'attached', timeout: 30_000 });

/** Opens an alert from the queue, then takes the pointer off the queue (which holds its order under it). */
async function openAlert(page: Page, alertId: string): Promise<void> {
  await page.mouse.move(5, 5);
  await page.locator(`[data-alert-id="${alertId}"]`).click();
  await page.mouse.move(5, 5);
  await page.waitForSelector(`[data-test=detail][data-shown-alert="${alertId}"]`, { state: 'attached', timeout: 30_000 });
}

/** Marks the console's element: a widget built again has no mark. */
const markWidget = (page: Page) => page.evaluate(() => document.querySelector('.vigie-console')!.setAttribute('data-before', 'yes'));
/** Waits until the console is a new widget, loaded with Node-RED's queue, and connected. */
const rebuilt = (page: Page) => page.waitForSelector('.vigie-console[data-loaded=yes][data-connected=yes]:not([data-before])', { state: 'attached', timeout: 60_000 });

const textOf = async (page: Page, test: string) => ((await page.locator(`[data-test=${test}]`).textContent()) ?? '').trim();

describe('alert-dashboard across reconnections (network drop, Full deploy) in Chromium', { timeout: 300_000 }, () => {
  let server: DashboardServer;
  let browser: Browser;
  const pages = new Map<string, Page>();

  before(async () => {
    ({ server, browser } = await startConsoleServerAndBrowser());
  });

  afterEach(async (t) => {
    await screenshotPagesIfFailed(t, 'alert-dashboard-reconnect', pages);
    for (const page of pages.values()) await page.context().close().catch(() => undefined);
    pages.clear();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** A console in its own browser context (its own tab storage), as `name`. */
  async function openConsole(name: string, prepare?: (page: Page) => Promise<void>): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    pages.set(name, page);
    return openConsoleAs(page, server.baseUrl, name, prepare);
  }
  const decisionsOut = (alertId: string) =>
    server.outputs.map((m) => m.payload as Record<string, unknown>).filter((p) => p?.kind === 'decision' && p.alertId === alertId);

  it('a network drop: the alert open and the notes stay; a decision clicked meanwhile is refused at once and never sent, not even when the connection is back', async () => {
    for (const [i, label] of ['crash', 'scream', 'glass_break', 'gunshot'].entries()) server.inject('dash', { payload: consoleDetection(`drop-${i + 1}`, label, agoS(60 - i * 10)) });
    const alice = await openConsole('Alice');
    await alice.locator('[data-alert-id="drop-4"]').waitFor({ timeout: 30_000 });
    // a note on one alert, then another alert open with a note half typed (not the newest: that one opens by itself)
    await openAlert(alice, 'drop-3');
    await alice.fill('[data-test=note]', 'two cars, one on its side');
    await openAlert(alice, 'drop-2');
    await alice.fill('[data-test=note]', 'woman shouting near the');
    await settledOn(alice, 'drop-2');
    await markWidget(alice);

    await alice.context().setOffline(true);
    await alice.waitForSelector('.vigie-console[data-connected=no]', { state: 'attached', timeout: 30_000 });
    await alice.locator('[data-test=dismiss]').click();
    // refused at once, in words that say nothing was sent (not an answer that did not come)
    await alice.locator('[data-test=error]').waitFor({ timeout: 10_000 });
    assert.equal(await textOf(alice, 'error'), 'Not connected to Node-RED: your dismissal was not sent. Try again when the connection is back.');
    await alice.fill('[data-test=note]', 'woman shouting near the bakery, no one hurt');
    await alice.screenshot({ path: path.join(artifacts, 'alert-dashboard-offline-refused.png') });

    await alice.context().setOffline(false);
    await rebuilt(alice);
    // the widget was built again: the same alert open, with what was typed, even offline
    assert.equal(await alice.getAttribute('[data-test=detail]', 'data-shown-alert'), 'drop-2');
    assert.equal(await alice.inputValue('[data-test=note]'), 'woman shouting near the bakery, no one hurt');
    await openAlert(alice, 'drop-3');
    assert.equal(await alice.inputValue('[data-test=note]'), 'two cars, one on its side', 'each alert keeps its own note');
    await openAlert(alice, 'drop-2');

    // Actions reach Node-RED in order: a dismissal kept by socket.io while offline would have been
    // sent on reconnecting, before this one, and be the first out.
    await settledOn(alice, 'drop-2');
    await alice.locator('[data-test=dismiss]').click();
    await waitFor(() => decisionsOut('drop-2').length >= 1 || undefined, 30_000, 'the dismissal');
    assert.deepEqual(decisionsOut('drop-2').map((d) => `${d.operator}:${d.action}:${d.revision}:${d.note}`), ['Alice:dismiss:0:woman shouting near the bakery, no one hurt']);
    await alice.waitForFunction(() => document.querySelector('[data-test=detail-state]')?.textContent === 'dismissed', null, { timeout: 30_000 });
    assert.equal(await alice.inputValue('[data-test=note]'), '', 'the note went with the decision');
  });

  it('an alert that came during a network drop is announced when the console is back (banner and chime); those it listed before are not', async () => {
    server.inject('dash', { payload: consoleDetection('before-1', 'crash', agoS(30)) });
    server.inject('dash', { payload: consoleDetection('before-2', 'scream', agoS(20)) });
    const alice = await openConsole('Alice');
    await alice.locator('[data-alert-id="before-2"]').waitFor({ timeout: 30_000 });
    await openAlert(alice, 'before-1');
    await markWidget(alice);
    await alice.context().setOffline(true);
    await alice.waitForSelector('.vigie-console[data-connected=no]', { state: 'attached', timeout: 30_000 });
    server.inject('dash', { payload: consoleDetection('meanwhile-1', 'gunshot', agoS(1)) });
    await alice.context().setOffline(false);
    await rebuilt(alice);
    await alice.locator('[data-alert-id="meanwhile-1"]').waitFor({ timeout: 30_000 });
    // A fresh widget counts from 0: one announcement, for the alert that came meanwhile only.
    await alice.waitForSelector('.vigie-console[data-announced="1"]', { state: 'attached', timeout: 10_000 });
    assert.match(await textOf(alice, 'banner'), /^New alert: Gunshot/);
    assert.equal(await alice.getAttribute('[data-test=detail]', 'data-shown-alert'), 'before-1', 'the alert open stays open');
  });

  it('no answer in time while connected: the console does not say "not recorded"; it says "recorded" once Node-RED shows the decision', async () => {
    server.inject('dash', { payload: consoleDetection('late-1', 'tire_skid', agoS(5)) });
    // Alice's link is slow: her decision can be held on its way to Node-RED
    const gate = { holding: false, held: [] as Array<string | Buffer>, send: (_m: string | Buffer) => undefined as void };
    const alice = await openConsole('Alice', (page) =>
      page.routeWebSocket(/socket\.io/, (ws) => {
        const toServer = ws.connectToServer();
        gate.send = (m) => toServer.send(m);
        ws.onMessage((m) => (gate.holding && String(m).includes('"decide"') ? gate.held.push(m) : toServer.send(m)));
        toServer.onMessage((m) => ws.send(m));
      }),
    );
    await openAlert(alice, 'late-1');
    await alice.fill('[data-test=note]', 'skid marks, nobody there');
    await settledOn(alice, 'late-1');
    gate.holding = true;
    await alice.locator('[data-test=confirm]').click();
    await waitFor(() => gate.held.length === 1 || undefined, 10_000, 'the confirmation held on its way');
    // the console's wait for an answer runs out (ACK_TIMEOUT_MS)
    await alice.locator('[data-test=error]').waitFor({ timeout: 30_000 });
    const said = await textOf(alice, 'error');
    assert.match(said, /^No answer from Node-RED yet: your confirmation may still be recorded; the console will say so when it sees it\./);
    assert.doesNotMatch(said, /not recorded/);
    await alice.screenshot({ path: path.join(artifacts, 'alert-dashboard-late-answer.png') });
    assert.equal(decisionsOut('late-1').length, 0);

    // the link delivers it after all: Node-RED records it, and the console says so
    gate.holding = false;
    for (const m of gate.held.splice(0)) gate.send(m);
    await alice.locator('[data-test=notice]').waitFor({ timeout: 30_000 });
    assert.equal(await textOf(alice, 'notice'), 'Your confirmation was recorded.');
    assert.equal(await alice.locator('[data-test=error]').count(), 0, 'the warning went');
    assert.deepEqual(decisionsOut('late-1').map((d) => `${d.operator}:${d.action}:${d.note}`), ['Alice:confirm:skid marks, nobody there']);
    assert.equal(await alice.inputValue('[data-test=note]'), '', 'the note went with the decision');
  });

  it('a Full deploy while the answer to a refused decision is on its way: the console built again asks, and keeps the note', async () => {
    server.inject('dash', { payload: consoleDetection('full-1', 'gunshot', agoS(4)) });
    server.inject('dash', { payload: consoleDetection('full-2', 'scream', agoS(2)) });
    const bob = await openConsole('Bob');
    // what Node-RED sends Alice's page can be held back, in order
    let gate!: HeldSocket;
    const alice = await openConsole('Alice', async (page) => {
      gate = await holdableSocket(page);
    });
    for (const page of [alice, bob]) {
      await openAlert(page, 'full-1');
      await settledOn(page, 'full-1');
    }
    await alice.locator('[data-test=seen-by]', { hasText: 'Bob' }).waitFor({ timeout: 30_000 });
    gate.holding = true;
    await bob.locator('[data-test=escalate]').click();
    await waitFor(() => decisionsOut('full-1').length === 1 || undefined, 30_000, 'Bob\'s escalation');
    // Alice's screen has not caught up: she dismisses, with a note
    await alice.fill('[data-test=note]', 'backfire, I think');
    await alice.locator('[data-test=dismiss]').click();
    await waitFor(() => gate.frames.some((f) => String(f).includes('"conflict"')) || undefined, 30_000, 'Node-RED\'s refusal, held');
    await markWidget(alice);
    // a Full deploy: Dashboard 2.0 sends its configuration again, and the console is built again
    const flows = (await (await fetch(`${server.baseUrl}/admin/flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).json()) as { flows: unknown[]; rev: string };
    const deployed = await fetch(`${server.baseUrl}/admin/flows`, {
      method: 'POST',
      headers: { 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full', 'Content-Type': 'application/json' },
      body: JSON.stringify(flows),
    });
    assert.equal(deployed.status, 200);
    await waitFor(() => gate.frames.some((f) => String(f).includes('ui-config')) || undefined, 30_000, 'the configuration sent again, held');
    // the refusal reaches the page just before the configuration that rebuilds the widget
    gate.release();
    await rebuilt(alice);

    await alice.locator('[data-test=ask]').waitFor({ timeout: 30_000 });
    assert.match(await textOf(alice, 'ask-text'), new RegExp(`^Bob escalated at ${clock} — dismiss anyway\\?$`));
    assert.equal(await alice.getAttribute('[data-test=detail]', 'data-shown-alert'), 'full-1', 'the alert open stays open (not the newest)');
    assert.equal(await alice.inputValue('[data-test=note]'), 'backfire, I think');
    assert.deepEqual(decisionsOut('full-1').map((d) => `${d.operator}:${d.action}`), ['Bob:escalate'], 'nothing of Alice\'s went out');
    await alice.screenshot({ path: path.join(artifacts, 'alert-dashboard-rebuilt-asks.png') });

    await alice.locator('[data-test=ask-yes]').click();
    await waitFor(() => decisionsOut('full-1').length === 2 || undefined, 30_000, 'Alice\'s dismissal');
    assert.deepEqual(decisionsOut('full-1').map((d) => `${d.operator}:${d.action}:${d.revision}:${d.note ?? ''}`), ['Bob:escalate:0:', 'Alice:dismiss:1:backfire, I think']);
  });

  it('a page opened before the console was deployed: once deployed, its actions reach Node-RED without reloading the page', async () => {
    const deploy = async (flows: unknown[]) => {
      const { rev } = (await (await fetch(`${server.baseUrl}/admin/flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).json()) as { rev: string };
      const r = await fetch(`${server.baseUrl}/admin/flows`, {
        method: 'POST',
        headers: { 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'nodes', 'Content-Type': 'application/json' },
        body: JSON.stringify({ flows, rev }),
      });
      assert.equal(r.status, 200);
    };
    await deploy(consoleFlow().filter((n) => n.id !== 'dash'));
    const zoe = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    pages.set('Zoe', zoe);
    await zoe.goto(`${server.baseUrl}/dashboard/alerts`);
    // the dashboard's page is shown (its configuration came over the connection), without a console
    await zoe.waitForFunction(() => !!document.querySelector('#app')?.textContent?.includes('Alerts'), null, { timeout: 30_000 });
    assert.equal(await zoe.locator('.vigie-console').count(), 0);
    // the console is deployed while the page is open: Dashboard 2.0 adds the widget to it
    await deploy(consoleFlow());
    await zoe.waitForSelector('.vigie-console[data-loaded=yes]', { state: 'attached', timeout: 60_000 });
    await zoe.fill('[data-test=operator]', 'Zoe');
    await zoe.locator('[data-test=operator]').blur();
    server.inject('dash', { payload: consoleDetection('first-1', 'explosion', agoS(3)) });
    await openAlert(zoe, 'first-1');
    await settledOn(zoe, 'first-1');
    await zoe.locator('[data-test=escalate]').click();
    await waitFor(() => decisionsOut('first-1').length === 1 || undefined, 30_000, 'Zoe\'s escalation');
    assert.deepEqual(decisionsOut('first-1').map((d) => `${d.operator}:${d.action}`), ['Zoe:escalate']);
    await zoe.waitForFunction(() => document.querySelector('[data-test=detail-state]')?.textContent === 'escalated', null, { timeout: 30_000 });
    assert.equal(await zoe.locator('[data-test=error]').count(), 0);
  });
});

describe('alert-dashboard across a real Node-RED restart in Chromium', { timeout: 300_000 }, () => {
  let red: RunningNodeRed | undefined;
  let browser: Browser;
  let userDir: string;
  let page: Page | undefined;

  // The console as in the other tests, its output wired nowhere (decisions are read in the audit
  // log), and an HTTP route to raise alerts in this Node-RED, which runs in another process.
  const flow = [
    ...consoleFlow().filter((n) => n.id !== 'sink').map((n) => (n.id === 'dash' ? { ...n, wires: [[]] } : n)),
    { id: 'raise', type: 'http in', z: 'tab-console', name: '', url: '/test-alert', method: 'post', upload: false, x: 100, y: 200, wires: [['dash', 'raised']] },
    { id: 'raised', type: 'http response', z: 'tab-console', name: '', statusCode: '204', headers: {}, x: 300, y: 200, wires: [] },
  ];
  const start = (port?: number) => startNodeRed({ userDir, port, flows: port ? undefined : flow, settings: { nodesDir: repoRoot, telemetry: { enabled: false } } });
  const raise = async (detection: Record<string, unknown>) => {
    const r = await fetch(`${red!.url}/test-alert`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(detection) });
    assert.equal(r.status, 204);
  };
  const auditedDecisions = (alertId: string) =>
    listAuditFiles(path.join(userDir, 'vigie-audit'))
      .flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === 'decision' && e.alertId === alertId);

  before(async () => {
    assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'nodes', 'alert-dashboard.js')), 'npm run build has run');
    ensureWidgetBuilt();
    userDir = makeUserDir('vigie-console-restart-');
    red = await start();
    browser = await launchChromium();
  });

  afterEach(async (t) => {
    if (!(t as unknown as { passed?: boolean }).passed && page) await page.screenshot({ path: path.join(artifacts, 'alert-dashboard-restart-failed.png') }).catch(() => undefined);
  });

  after(async () => {
    await browser?.close();
    await red?.stop();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('Node-RED restarts just after a decision, before its answer: the console built again keeps the alert open and the notes, and says the decision was recorded', async () => {
    for (const [i, label] of ['crash', 'scream', 'glass_break', 'gunshot'].entries()) await raise(consoleDetection(`rs-${i + 1}`, label, agoS(60 - i * 10)));
    // the answers Node-RED sends this page can be lost (the connection dies with Node-RED)
    const link = { dropping: false };
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    await openConsoleAs(page, red!.url, 'Alice', (p) =>
      p.routeWebSocket(/socket\.io/, (ws) => {
        const toServer = ws.connectToServer();
        toServer.onMessage((m) => {
          if (!link.dropping) ws.send(m);
        });
        ws.onMessage((m) => toServer.send(m));
      }),
    );
    await page.locator('[data-alert-id="rs-4"]').waitFor({ timeout: 30_000 });
    await openAlert(page, 'rs-3');
    await page.fill('[data-test=note]', 'plate starts with AB');
    await openAlert(page, 'rs-2');
    await page.fill('[data-test=note]', 'false alarm: a film shoot');
    await settledOn(page, 'rs-2');
    await markWidget(page);

    link.dropping = true;
    await page.locator('[data-test=dismiss]').click();
    await waitFor(() => auditedDecisions('rs-2').length === 1 || undefined, 30_000, 'the dismissal recorded by Node-RED');
    const port = red!.port;
    await red!.stop();
    red = undefined;
    link.dropping = false;
    red = await start(port);

    await rebuilt(page);
    await page.locator('[data-test=notice]').waitFor({ timeout: 30_000 });
    assert.equal(await textOf(page, 'notice'), 'Your dismissal was recorded.');
    assert.equal(await page.getAttribute('[data-test=detail]', 'data-shown-alert'), 'rs-2', 'the alert open stays open (not the newest)');
    assert.equal(await page.locator('[data-test=error]').count(), 0);
    assert.equal(await page.inputValue('[data-test=note]'), '', 'its note went with the decision');
    await page.screenshot({ path: path.join(artifacts, 'alert-dashboard-after-restart.png') });
    await openAlert(page, 'rs-3');
    assert.equal(await page.inputValue('[data-test=note]'), 'plate starts with AB', 'the note typed on another alert stays');
    assert.deepEqual(auditedDecisions('rs-2').map((e) => `${e.actor}:${e.details.action}:${e.details.note}`), ['Alice:dismiss:false alarm: a film shoot']);
  });
});
