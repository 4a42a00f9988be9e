/**
 * Process-wide bus of audit events (DESIGN §4.5). Nodes that move cameras, start live
 * views, raise alerts or take decisions publish here; whoever owns an audit log
 * (the alert-dashboard node, see lib/alerts/audit.ts) subscribes and appends.
 * Entries never contain audio.
 */
import { EventEmitter } from 'events';

/**
 * 'snapshot': a camera snapshot of an alert kept beside the audit log (its SHA-256 in the entry).
 * 'alert-update': a copy of an alert already raised changed its place, label or sensors (sent
 * again by the localizer as a late report placed it better).
 */
/** Every kind of audit entry (what `vigie audit show --type` takes). */
export const AUDIT_EVENT_TYPES = ['alert', 'alert-update', 'camera-move', 'live-view', 'decision', 'snapshot', 'system'] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditEvent {
  type: AuditEventType;
  /** Epoch ms. */
  time: number;
  alertId?: string;
  /** Who or what caused it: an operator's name, or "auto:<node id>". */
  actor: string;
  /** Type-specific details: camera id and target, viewer, decision... */
  details: Record<string, unknown>;
}

class AuditBus extends EventEmitter {
  publish(ev: Omit<AuditEvent, 'time'> & { time?: number }): void {
    this.emit('audit', { ...ev, time: ev.time ?? Date.now() } as AuditEvent);
  }
  subscribe(fn: (ev: AuditEvent) => void): () => void {
    this.on('audit', fn);
    return () => this.off('audit', fn);
  }
}

export const auditBus = new AuditBus();
auditBus.setMaxListeners(100);
