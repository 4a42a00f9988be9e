/**
 * A socket.io client speaking Engine.IO v4 / Socket.IO v5 long-polling by hand (no client
 * library), as any script can: opens a session, connects to the main namespace, emits events
 * and reads what the server sends, with the headers the caller chooses (or none).
 */

export interface PollingClient {
  /** The Engine.IO session id. */
  sid: string;
  /** Connects to namespace "/": the server's answer, `40…` (connected) or `44…` (refused, with its message). */
  connect(): Promise<string>;
  /** Sends an event (with an ack id when given). */
  emit(event: string, data: unknown, ackId?: number): Promise<void>;
  /**
   * The packets waiting (one long-poll); [] when none came within `waitMs` (the server holds a
   * poll open until it has something to say).
   */
  read(waitMs?: number): Promise<string[]>;
}

/** Opens a session at `<baseUrl><path>/`; rejects with the HTTP status when the server refuses it. */
export async function openPolling(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<PollingClient> {
  const url = `${baseUrl}${path}/?EIO=4&transport=polling`;
  const first = await fetch(url, { headers });
  const text = await first.text();
  if (first.status !== 200 || !text.startsWith('0')) throw new Error(`HTTP ${first.status}: ${text.slice(0, 200)}`);
  const sid = (JSON.parse(text.slice(1)) as { sid: string }).sid;
  const post = async (body: string): Promise<void> => {
    const r = await fetch(`${url}&sid=${sid}`, { method: 'POST', body, headers: { ...headers, 'Content-Type': 'text/plain;charset=UTF-8' } });
    const answer = await r.text();
    if (r.status !== 200) throw new Error(`POST: HTTP ${r.status}: ${answer.slice(0, 200)}`);
  };
  const read = async (waitMs = 10_000): Promise<string[]> => {
    try {
      const r = await fetch(`${url}&sid=${sid}`, { headers, signal: AbortSignal.timeout(waitMs) });
      return (await r.text()).split('\x1e').filter((p) => p !== '');
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') return [];
      throw err;
    }
  };
  return {
    sid,
    async connect() {
      await post('40');
      const packets = await read();
      return packets.find((p) => p.startsWith('40') || p.startsWith('44')) ?? packets.join(' ');
    },
    emit: (event, data, ackId) => post(`42${ackId ?? ''}${JSON.stringify([event, data])}`),
    read,
  };
}

/** The events in packets read: `42["name",data]` → {event, data}. */
export function eventsOf(packets: string[]): Array<{ event: string; data: unknown }> {
  return packets.filter((p) => p.startsWith('42')).map((p) => {
    const [event, data] = JSON.parse(p.slice(2)) as [string, unknown];
    return { event, data };
  });
}

export const basicAuth = (user: string, pass: string): Record<string, string> => ({ Authorization: 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64') });
