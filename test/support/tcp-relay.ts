/**
 * A TCP relay on loopback between a client under test and the server it talks to (the far
 * end): a network link the test controls. It can hold the link shut (new connections are
 * closed as soon as they come; those it carries go on), cut the connections it carries (a
 * cable pulled), and keeps every byte the clients sent, so a test can say what crossed the
 * network in clear. close() ends every connection it carries and stops listening.
 */
import * as net from 'net';

export interface TcpRelay {
  /** The loopback port clients connect to. */
  readonly port: number;
  /** From now on, new connections are closed at once (the far end never sees them); those it carries go on. */
  hold(): void;
  /** New connections are relayed again. */
  release(): void;
  /** Ends the connections it carries now, both sides (a cable pulled); later ones are relayed as before. */
  cut(): void;
  /**
   * From now on carries nothing, without closing anything: a 4G link or a router gone quiet, no
   * reset, so a client still says connected until its keepalive runs out. Bytes are read and
   * thrown away (the sender's writes succeed, nothing arrives).
   */
  silence(): void;
  /** Carries again; the connections that went quiet are ended (their bytes were lost), new ones are relayed. */
  restore(): void;
  /** Bytes read and thrown away while silent, both ways. */
  readonly dropped: number;
  /**
   * Every byte the clients sent through it, chunk by chunk in the order the chunks arrived:
   * connections one after another stay apart, connections that overlap interleave their chunks.
   */
  sent(): Buffer;
  /** Connections it carries now. */
  readonly connections: number;
  /** Ends every connection it carries and stops listening. */
  close(): Promise<void>;
}

/** A relay from a free loopback port to `farPort` on `farHost` (default 127.0.0.1). */
export async function startTcpRelay(farPort: number, farHost = '127.0.0.1'): Promise<TcpRelay> {
  let held = false;
  let silent = false;
  let dropped = 0;
  const chunks: Buffer[] = [];
  /** Both sockets of each connection carried now. */
  const carried = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    if (held) {
      client.destroy();
      return;
    }
    const far = net.connect(farPort, farHost);
    const pair: [net.Socket, net.Socket] = [client, far];
    carried.add(pair);
    // One side ending (or failing, the far end refusing) ends the other: no half-open link.
    const end = () => {
      carried.delete(pair);
      client.destroy();
      far.destroy();
    };
    for (const s of pair) {
      s.on('close', end);
      s.on('error', end);
    }
    client.on('data', (d: Buffer) => {
      if (silent) {
        dropped += d.length;
        return;
      }
      chunks.push(Buffer.from(d));
      far.write(d);
    });
    far.on('data', (d: Buffer) => {
      if (silent) dropped += d.length;
      else client.write(d);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const cut = () => {
    for (const [client, far] of [...carried]) {
      client.destroy();
      far.destroy();
    }
    carried.clear();
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    silence: () => void (silent = true),
    restore: () => {
      silent = false;
      cut();
    },
    hold: () => void (held = true),
    release: () => void (held = false),
    cut,
    sent: () => Buffer.concat(chunks),
    get dropped() {
      return dropped;
    },
    get connections() {
      return carried.size;
    },
    close: async () => {
      // server.close() waits for the connections it accepted: end them first.
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
