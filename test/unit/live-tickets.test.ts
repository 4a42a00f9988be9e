import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveTickets, MAX_TICKETS, TICKET_TTL_MS } from '../../lib/video/tickets';
import { NTP_FIRST_SYNC_STEP_MS, stepWallClock } from '../support/wall-clock';

test('a live ticket opens one socket, for its camera, within its lifetime', () => {
  const t = new LiveTickets();
  const now = 1_000_000;
  const a = t.issue('cam-1', now);
  assert.match(a.ticket, /^[A-Za-z0-9_-]{32}$/);
  assert.equal(a.expiresInMs, TICKET_TTL_MS);
  assert.equal(t.redeem(a.ticket, 'cam-1', now + 10), true);
  assert.equal(t.redeem(a.ticket, 'cam-1', now + 20), false, 'single use');

  const b = t.issue('cam-1', now);
  assert.equal(t.redeem(b.ticket, 'cam-2', now), false, 'another camera');
  assert.equal(t.redeem(b.ticket, 'cam-1', now), false, 'spent by the failed attempt too');

  const c = t.issue('cam-1', now);
  assert.equal(t.redeem(c.ticket, 'cam-1', now + TICKET_TTL_MS + 1), false, 'expired');

  for (const bad of [undefined, null, '', 'x', 'A'.repeat(33), c.ticket.slice(1) + '!']) assert.equal(t.redeem(bad, 'cam-1', now), false, String(bad));
});

test('live tickets: two issues differ, expired ones are pruned and the store is capped', () => {
  const t = new LiveTickets(1000);
  const a = t.issue('c', 0);
  const b = t.issue('c', 0);
  assert.notEqual(a.ticket, b.ticket);
  t.issue('c', 5000); // prunes the two expired ones
  assert.equal(t.size, 1);
  const first = t.issue('c', 5000);
  for (let i = 0; i < MAX_TICKETS + 10; i++) t.issue('c', 5000);
  assert.equal(t.size, MAX_TICKETS);
  assert.equal(t.redeem(first.ticket, 'c', 5000), false, 'the oldest were dropped');
});

test('live tickets: a wall clock step forward (NTP sync after boot) between issue and use does not expire a ticket', () => {
  const wall = stepWallClock();
  try {
    const t = new LiveTickets();
    const a = t.issue('cam-1');
    wall.step(NTP_FIRST_SYNC_STEP_MS);
    assert.equal(t.redeem(a.ticket, 'cam-1'), true);
  } finally {
    wall.restore();
  }
});
