/**
 * Single-use tickets for the live WebSocket. A browser's WebSocket handshake does not pass
 * through Node-RED's HTTP middleware (httpNodeAuth, httpNodeMiddleware), so the viewer first
 * asks an ordinary HTTP route for a ticket, which that middleware guards, and presents it in
 * the handshake. A page of another origin cannot read the ticket route's answer, so it cannot
 * open the socket either (cross-site WebSocket hijacking).
 */
import { randomBytes } from 'crypto';
import { monotonicMs } from '../util/clock';

export const TICKET_TTL_MS = 30_000;
/** Outstanding tickets kept at most; the oldest are dropped first (a flood cannot grow memory). */
export const MAX_TICKETS = 256;

export class LiveTickets {
  /** token → camera id, expiry (monotonic ms, lib/util/clock: a wall clock step neither voids nor prolongs a ticket) and holder; Map keeps insertion order, oldest first. */
  private readonly tickets = new Map<string, { cameraId: string; expiresMs: number; holder?: string }>();

  constructor(private readonly ttlMs = TICKET_TTL_MS) {}

  /** `holder`: the user Node-RED's HTTP authentication let ask for it, given back by take(). */
  issue(cameraId: string, nowMs = monotonicMs(), holder?: string): { ticket: string; expiresInMs: number } {
    this.prune(nowMs);
    while (this.tickets.size >= MAX_TICKETS) this.tickets.delete(this.tickets.keys().next().value as string);
    const ticket = randomBytes(24).toString('base64url');
    this.tickets.set(ticket, { cameraId, expiresMs: nowMs + this.ttlMs, holder });
    return { ticket, expiresInMs: this.ttlMs };
  }

  /** True once for a ticket issued for this camera and not expired; the ticket is then spent. */
  redeem(ticket: string | null | undefined, cameraId: string, nowMs = monotonicMs()): boolean {
    return this.take(ticket, cameraId, nowMs) !== undefined;
  }

  /** As redeem, giving the ticket's holder (the user it was issued to, if any); undefined when refused. */
  take(ticket: string | null | undefined, cameraId: string, nowMs = monotonicMs()): { holder?: string } | undefined {
    if (typeof ticket !== 'string' || !/^[A-Za-z0-9_-]{32}$/.test(ticket)) return undefined;
    const t = this.tickets.get(ticket);
    if (!t) return undefined;
    this.tickets.delete(ticket);
    return t.expiresMs >= nowMs && t.cameraId === cameraId ? { holder: t.holder } : undefined;
  }

  get size(): number {
    return this.tickets.size;
  }

  private prune(nowMs: number): void {
    for (const [k, t] of this.tickets) if (t.expiresMs < nowMs) this.tickets.delete(k);
  }
}
