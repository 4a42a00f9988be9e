/**
 * vigie-outbox in a real Node-RED 4.1 (built nodes, Admin API deploys) with its broker
 * unreachable: a tab disabled and enabled again keeps the waiting messages (Node-RED closes the
 * nodes of a disabled tab as "removed"); the node deleted leaves no file behind.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { makeUserDir, repoRoot, RunningNodeRed, startNodeRed } from '../support/nodered';
import { waitFor } from '../support/wait';
import { readKeptFile } from '../../lib/util/outbox-file';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function flow(tab: Record<string, unknown> = {}, withOutbox = true): Any[] {
  return [
    { id: 'tab', type: 'tab', label: 'gateway', ...tab },
    // Nothing listens on port 1: the broker stays unreachable.
    { id: 'broker', type: 'mqtt-broker', name: 'dead broker', broker: '127.0.0.1', port: '1', clientid: 'vigie-test', autoConnect: true, protocolVersion: '4', keepalive: '60', cleansession: true },
    { id: 'raise', type: 'inject', z: 'tab', props: [{ p: 'payload' }], payload: 'alert', payloadType: 'str', topic: 'vigie/t', repeat: '', once: false, x: 100, y: 100, wires: [[withOutbox ? 'box' : 'out']] },
    ...(withOutbox ? [{ id: 'box', type: 'vigie-outbox', z: 'tab', name: 'guard', broker: 'broker', persist: true, x: 300, y: 100, wires: [['out']] }] : []),
    { id: 'out', type: 'mqtt out', z: 'tab', broker: 'broker', topic: '', qos: '1', retain: '', x: 500, y: 100, wires: [] },
  ];
}

describe('vigie-outbox deployed in a real Node-RED', { timeout: 120_000 }, () => {
  let red: RunningNodeRed | undefined;
  const userDir = makeUserDir('vigie-outbox-deploy-');
  after(async () => {
    await red?.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  async function deploy(flows: Any[]): Promise<void> {
    const r = await fetch(`${red!.url}/flows`, {
      method: 'POST',
      headers: { 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'nodes', 'Content-Type': 'application/json' },
      body: JSON.stringify({ flows }),
    });
    assert.equal(r.status, 200, await r.text());
  }

  it('a tab disabled keeps the waiting messages in their file, enabled again they wait once more; the node deleted removes the file', async () => {
    red = await startNodeRed({ userDir, flows: flow(), settings: { nodesDir: path.join(repoRoot, 'dist', 'nodes'), credentialSecret: false, telemetry: { enabled: false } } });
    const file = path.join(userDir, 'vigie-outbox-box.json');
    await waitFor(async () => (await fetch(`${red!.url}/inject/raise`, { method: 'POST' })).status === 200, 30_000, 'the inject deployed');
    for (let i = 1; i < 3; i++) assert.equal((await fetch(`${red.url}/inject/raise`, { method: 'POST' })).status, 200);
    await waitFor(() => fs.existsSync(file) && readKeptFile(file).entries.length === 3, 15_000, 'three messages in the file');

    await deploy(flow({ disabled: true }));
    await waitFor(() => /closed with 3 messages waiting for the broker: kept in vigie-outbox-box\.json, the node is disabled/.test(red!.log()), 15_000, 'says the messages are kept');
    assert.doesNotMatch(red.log(), /dropped/);
    assert.equal(readKeptFile(file).entries.length, 3, 'the file still holds them');

    await deploy(flow());
    await waitFor(() => /3 message\(s\) kept before the restart put back/.test(red!.log()), 15_000, 'put back once enabled');

    await deploy(flow({}, false));
    await waitFor(() => !fs.existsSync(file), 15_000, 'the file removed with the node');
    // Node-RED's output reaches the test through a pipe: the warning may come a moment after the file went.
    await waitFor(() => /closed with 3 messages waiting for the broker: dropped, the node is deleted/.test(red!.log()), 15_000, 'says the messages are dropped with the node');
  });
});
