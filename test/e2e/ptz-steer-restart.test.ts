/**
 * ptz-steer in a real Node-RED 4.1 (built nodes) with a virtual ONVIF camera: Node-RED stopped
 * (SIGINT, as a container stop sends SIGTERM) while the camera turns to an alert, then started
 * again on the same user directory. The alert is kept in ptz-steer's file as the flows stop,
 * and reaches the output after the restart, on target.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { makeUserDir, repoRoot, RunningNodeRed, startNodeRed } from '../support/nodered';
import { waitFor } from '../support/wait';
import { locatedAlert } from '../support/detections';
import { startVirtualCamera, stopVirtualCameras } from '../support/virtual-cameras';
import { destination } from '../../lib/camera/geometry';
import type { VirtualCamera } from '../../lib/sim/camera/virtual-camera';
import { Finding, scanJson } from '../support/privacy-scan';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const ORIGIN = { lat: 45.4397, lon: 4.3872 };

function flow(cam: VirtualCamera, outFile: string): Any[] {
  return [
    { id: 'tab', type: 'tab', label: 'cameras' },
    { id: 'cfg-camA', type: 'vigie-camera', cameraId: 'camA', name: 'Camera A', host: '127.0.0.1', port: cam.port, lat: ORIGIN.lat, lon: ORIGIN.lon, heightM: 6, mountHeadingDeg: 0, maxRangeM: 300 },
    {
      id: 'raise',
      type: 'inject',
      z: 'tab',
      props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }],
      payload: JSON.stringify(locatedAlert('a1', destination(ORIGIN, 150, 50))),
      payloadType: 'json',
      topic: 'street/glass',
      repeat: '',
      once: false,
      wires: [['steer']],
    },
    { id: 'steer', type: 'ptz-steer', z: 'tab', cameras: ['cfg-camA'], mode: 'automatic', returnHomeS: 0, moveTimeoutS: 60, wires: [['record'], ['record']] },
    // Each alert sent, one JSON line.
    { id: 'record', type: 'file', z: 'tab', filename: outFile, filenameType: 'str', appendNewline: true, createDir: false, overwriteFile: 'false', encoding: 'utf8', wires: [] },
  ];
}

describe('ptz-steer in a real Node-RED stopped and started again', { timeout: 180_000 }, () => {
  let red: RunningNodeRed | undefined;
  const userDir = makeUserDir('vigie-steer-restart-');
  after(async () => {
    await red?.stop();
    await stopVirtualCameras();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('Node-RED stopped while the camera turns to an alert: the alert is kept in a file, and after the restart it is steered again and sent on target', async () => {
    // Slow (20°/s): still turning when Node-RED stops.
    const cam = await startVirtualCamera({ panSpeedDegPerS: 20, tiltSpeedDegPerS: 20, zoomSpeedPerS: 1 });
    const outFile = path.join(userDir, 'sent.jsonl');
    const sent = () => (fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ 'cfg-camA': { username: 'op', password: 'pw' } }));
    const settings = { nodesDir: path.join(repoRoot, 'dist', 'nodes'), credentialSecret: false, telemetry: { enabled: false } };
    red = await startNodeRed({ userDir, flows: flow(cam, outFile), settings });
    await waitFor(async () => (await fetch(`${red!.url}/inject/raise`, { method: 'POST' })).status === 200, 30_000, 'the alert injected');
    await waitFor(() => cam.calls.some((c) => c.action === 'AbsoluteMove'), 15_000, 'the camera turning');
    await red.stop();
    const firstLog = red.log();
    red = undefined;
    assert.deepEqual(sent(), [], 'nothing sent before the stop');
    const kept = path.join(userDir, 'vigie-ptz-steer-steer.json');
    assert.ok(fs.existsSync(kept), `the file written as Node-RED stopped:\n${firstLog}`);
    assert.match(firstLog, /ptz-steer steer: 1 alert in progress when the flows stopped kept in vigie-ptz-steer-steer\.json for its next start/);
    const found: Finding[] = [];
    scanJson(JSON.parse(fs.readFileSync(kept, 'utf8')), 'stop file', found);
    assert.deepEqual(found, [], 'no audio in the file (DESIGN §4)');
    assert.doesNotMatch(fs.readFileSync(kept, 'utf8'), /"op"|"pw"|password/, 'no camera credentials in the file');

    red = await startNodeRed({ userDir, flows: flow(cam, outFile), settings });
    await waitFor(() => sent().some((p) => p.id === 'a1'), 60_000, 'the alert sent after the restart');
    assert.deepEqual(sent().map((p) => [p.id, p.camera?.state]), [['a1', 'on-target']]);
    assert.ok(Math.abs(cam.pose.panDeg - 150) <= 1, `pan ${cam.pose.panDeg}`);
    assert.equal(fs.existsSync(kept), false, 'the file taken');
    await waitFor(() => /vigie-ptz-steer-steer\.json: 1 alert in progress when the flows stopped taken over: 1 resumed, 0 sent as ended/.test(red!.log()), 10_000, 'says so');
  });
});
