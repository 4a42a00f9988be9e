/**
 * A page's Socket.IO connection to Node-RED whose frames towards the page can be held back and
 * then let through in order, as over a slow network: the page sends as usual meanwhile.
 */
import type { Page } from 'playwright-core';

export interface HeldSocket {
  /** While true, what Node-RED sends the page waits in `frames`. */
  holding: boolean;
  frames: Array<string | Buffer>;
  /** Stops holding and delivers what waited, in order. */
  release(): void;
}

/** Routes `page`'s Socket.IO WebSocket through a gate; call before the page opens the console. */
export async function holdableSocket(page: Page): Promise<HeldSocket> {
  let toPage: ((m: string | Buffer) => void) | undefined;
  const gate: HeldSocket = {
    holding: false,
    frames: [],
    release() {
      gate.holding = false;
      for (const m of gate.frames.splice(0)) toPage?.(m);
    },
  };
  await page.routeWebSocket(/socket\.io/, (ws) => {
    const toServer = ws.connectToServer();
    toPage = (m) => ws.send(m);
    toServer.onMessage((m) => (gate.holding ? gate.frames.push(m) : ws.send(m)));
    ws.onMessage((m) => toServer.send(m));
  });
  return gate;
}
