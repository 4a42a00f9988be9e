/**
 * A console tab left open all night, measured: a script put in the page before the dashboard
 * loads counts what the page holds (object URLs not revoked, intervals and timeouts not cleared,
 * WebSockets and streaming fetches not closed, audio contexts not closed), and Chromium's own
 * counters (DevTools protocol) give the heap, DOM nodes and event listeners after a forced GC.
 * Shared by the browser test of a long shift and its benchmark (bench/console-night.ts).
 */
import type { CDPSession, Page } from 'playwright-core';
import { consoleDetection, openAlert } from './console-page';
import type { DashboardServer } from './dashboard-server';

/** What the page holds at a moment (after a forced garbage collection). */
export interface NightCounts {
  heapUsedKB: number;
  domNodes: number;
  listeners: number;
  documents: number;
  objectUrls: number;
  intervals: number;
  timeouts: number;
  webSockets: number;
  streamingFetches: number;
  audioContexts: number;
  /** Audio contexts not yet garbage collected, closed or not. */
  audioContextsAlive: number;
  /** Image elements in the document. */
  images: number;
}

/**
 * Put in the page before any of its scripts (page.addInitScript({ content })): wraps the browser
 * APIs it counts. Plain JavaScript in a string: a function compiled by tsx would carry helpers
 * the page does not have.
 */
export const NIGHT_PROBE_SCRIPT = `(() => {
  const urls = new Set(), intervals = new Set(), timeouts = new Set(), sockets = new Set(), fetches = new Set(), audio = new Set();
  const createUrl = URL.createObjectURL.bind(URL), revokeUrl = URL.revokeObjectURL.bind(URL);
  URL.createObjectURL = (o) => { const u = createUrl(o); urls.add(u); return u; };
  URL.revokeObjectURL = (u) => { urls.delete(u); revokeUrl(u); };
  const setI = window.setInterval, clearI = window.clearInterval, setT = window.setTimeout, clearT = window.clearTimeout;
  window.setInterval = function (...a) { const id = setI.apply(this, a); intervals.add(id); return id; };
  window.clearInterval = function (id) { intervals.delete(id); return clearI.call(this, id); };
  window.setTimeout = function (f, ms, ...rest) {
    if (typeof f !== 'function') return setT.call(this, f, ms, ...rest);
    let id;
    id = setT.call(this, function (...x) { timeouts.delete(id); return f.apply(this, x); }, ms, ...rest);
    timeouts.add(id);
    return id;
  };
  window.clearTimeout = function (id) { timeouts.delete(id); return clearT.call(this, id); };
  const NativeSocket = window.WebSocket;
  const Socket = function (url, protocols) {
    const ws = new NativeSocket(url, protocols);
    sockets.add(ws);
    ws.addEventListener('close', () => sockets.delete(ws));
    return ws;
  };
  Object.assign(Socket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  Socket.prototype = NativeSocket.prototype;
  window.WebSocket = Socket;
  // a fetch given an abort signal is a stream the page means to stop (the MJPEG picture):
  // open until its signal aborts or it fails
  const nativeFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const p = nativeFetch(input, init);
    const signal = init && init.signal;
    if (signal && !signal.aborted) {
      const entry = {};
      fetches.add(entry);
      signal.addEventListener('abort', () => fetches.delete(entry), { once: true });
      p.catch(() => fetches.delete(entry));
    }
    return p;
  };
  const NativeAudio = window.AudioContext;
  // weakly: a closed context the page let go of must be free to go (a strong reference here would keep it)
  if (NativeAudio) window.AudioContext = class extends NativeAudio { constructor (o) { super(o); audio.add(new WeakRef(this)); } };
  window.__vigieNight = () => ({
    objectUrls: urls.size,
    intervals: intervals.size,
    timeouts: timeouts.size,
    webSockets: [...sockets].filter((s) => s.readyState !== 3).length,
    streamingFetches: fetches.size,
    audioContexts: [...audio].filter((r) => { const a = r.deref(); return !!a && a.state !== 'closed'; }).length,
    audioContextsAlive: [...audio].filter((r) => !!r.deref()).length,
    images: document.images.length,
  });
})();`;

/** Forces garbage collection, then reads Chromium's counters and the probe's. */
export async function nightCounts(page: Page, cdp: CDPSession): Promise<NightCounts> {
  // DevTools keeps what the page logged (Dashboard 2.0 logs each failed reconnection attempt with
  // its error, and the request in it): a browser without DevTools attached keeps none of it
  await cdp.send('Runtime.discardConsoleEntries');
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = (name: string) => metrics.find((x) => x.name === name)?.value ?? NaN;
  const probe = (await page.evaluate('window.__vigieNight()')) as Omit<NightCounts, 'heapUsedKB' | 'domNodes' | 'listeners' | 'documents'>;
  return { heapUsedKB: Math.round(m('JSHeapUsedSize') / 1024), domNodes: m('Nodes'), listeners: m('JSEventListeners'), documents: m('Documents'), ...probe };
}

/** A CDP session on the page with its performance counters on. */
export async function nightSession(page: Page): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await cdp.send('Runtime.enable');
  await cdp.send('HeapProfiler.enable');
  return cdp;
}

/** What one round of a night does (each a few minutes of a busy shift, compressed). */
export interface NightRound {
  /** Alerts raised this round (each raised, located, its camera on target, then its video). */
  alerts: number;
  /** Of them, how many are opened with their MJPEG picture playing, then left for the next. */
  pictures: number;
  /** Of those, how many are dismissed by the operator. */
  dismissed: number;
  /** The connection dropped (the browser offline) and back: Dashboard 2.0 builds the widget again. */
  reconnect: boolean;
}

/** The ids of the alerts raised in round `round`. */
export const nightAlertId = (round: number, i: number) => `night-${round}-${i}`;

/**
 * Plays one round on the console open in `page` (waiting with locators only: an element handle
 * Playwright hands back would keep its element, and a widget replaced since, alive): alerts raised and enriched as the chain does,
 * some opened with their picture playing (MJPEG from the test server, with its snapshot), some
 * dismissed, the notice of alerts the cap removed acknowledged, and the connection dropped and back.
 */
export async function playNightRound(page: Page, server: DashboardServer, round: number, spec: NightRound): Promise<void> {
  const now = Date.now() / 1000;
  for (let i = 0; i < spec.alerts; i++) {
    const id = nightAlertId(round, i);
    // the newest a gunshot: the cap never removes it (the most urgent, the latest), so the round can wait for it
    const label = i === spec.alerts - 1 ? 'gunshot' : ['glass_break', 'crash', 'scream', 'explosion', 'tire_skid', 'gunshot'][i % 6];
    const d = consoleDetection(id, label, now - (spec.alerts - i) * 0.5);
    server.inject('dash', { payload: d });
    const location = { method: 'bearings', bearing: (i * 37) % 360, bearingStd: 3, position: { lat: 45.4399 + (i % 7) * 1e-4, lon: 4.387 + (i % 5) * 1e-4, errorM: 12 }, sensors: ['rue-nord'] };
    server.inject('dash', { payload: { ...d, location } });
    const camera = { id: 'cam-place', name: 'Place', pan: 0.1, tilt: -0.1, zoom: 0.2, target: { bearing: (i * 37) % 360, tilt: -5, distanceM: 40 }, state: 'on-target' };
    server.inject('dash', { payload: { ...d, location, camera } });
    // every other snapshot is no longer served (kept past its time, as after a long night)
    const snapshot = i % 2 ? `/test-video/${id}/expired.jpg` : `/test-video/${id}/snapshot.jpg`;
    const video = { live: '', mjpeg: `/test-video/${id}/mjpeg`, snapshot, until: now + 600 };
    server.inject('dash', { payload: { ...d, location, camera, video } });
  }
  const last = nightAlertId(round, spec.alerts - 1);
  await page.locator(`[data-alert-id="${last}"]`).waitFor({ state: 'attached', timeout: 30_000 });
  // the round's alerts still listed (the cap may have removed some), newest first
  const listed = await page.evaluate((prefix) => Array.from(document.querySelectorAll('[data-test=queue-item]'), (b) => b.getAttribute('data-alert-id') ?? '').filter((id) => id.startsWith(prefix)), `night-${round}-`);
  for (const [i, id] of listed.slice(0, spec.pictures).entries()) {
    await openAlert(page, id);
    await page.locator('[data-test=live-badge].vg-live').waitFor({ timeout: 30_000 });
    if (i < spec.dismissed) {
      await page.locator('[data-test=dismiss]').click();
      await page.locator('[data-test=detail-state]', { hasText: 'dismissed' }).waitFor({ timeout: 30_000 });
    }
  }
  const ack = page.locator('[data-test=ack-dropped]');
  if (await ack.count()) {
    await ack.click();
    await page.locator('[data-test=dropped-banner]').waitFor({ state: 'detached', timeout: 30_000 });
  }
  if (spec.reconnect) {
    await page.evaluate(() => document.querySelector('.vigie-console')!.setAttribute('data-before', 'yes'));
    await page.context().setOffline(true);
    await page.locator('.vigie-console[data-connected=no]').waitFor({ state: 'attached', timeout: 30_000 });
    await page.context().setOffline(false);
    await page.locator('.vigie-console[data-loaded=yes][data-connected=yes]:not([data-before])').waitFor({ state: 'attached', timeout: 60_000 });
  }
}

/**
 * The properties in the page's heap named after one of the alerts `ids` (its id, or a link with
 * it: "night-1-3", "/test-video/night-1-3/expired.jpg"), as "name → what it holds": a map keyed
 * by alert that still holds alerts gone from the list grows all night. Read from a heap
 * snapshot: property names only, not strings (a selector the test itself used is a string
 * held elsewhere, never a key).
 */
export async function propertiesNamedAfter(cdp: CDPSession, ids: string[]): Promise<string[]> {
  await cdp.send('Runtime.discardConsoleEntries');
  await cdp.send('HeapProfiler.collectGarbage');
  const chunks: string[] = [];
  const onChunk = (e: { chunk: string }) => chunks.push(e.chunk);
  cdp.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  try {
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  } finally {
    cdp.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
  }
  const snap = JSON.parse(chunks.join('')) as { snapshot: { meta: { node_fields: string[]; edge_fields: string[]; edge_types: [string[]] } }; nodes: number[]; edges: number[]; strings: string[] };
  const { node_fields: nodeFields, edge_fields: edgeFields, edge_types: edgeTypes } = snap.snapshot.meta;
  const typeAt = edgeFields.indexOf('type');
  const nameAt = edgeFields.indexOf('name_or_index');
  const toAt = edgeFields.indexOf('to_node');
  const property = edgeTypes[0].indexOf('property');
  const nodeNameAt = nodeFields.indexOf('name');
  const wanted = new Set(ids);
  const found: string[] = [];
  for (let e = 0; e < snap.edges.length; e += edgeFields.length) {
    if (snap.edges[e + typeAt] !== property) continue;
    const name = snap.strings[snap.edges[e + nameAt]];
    if (name.split('/').some((part) => wanted.has(part))) found.push(`${name} → ${snap.strings[snap.nodes[snap.edges[e + toAt] + nodeNameAt]]}`);
  }
  return found;
}
