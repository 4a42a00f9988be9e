/**
 * vigie-camera: config node for one ONVIF PTZ camera — address, credentials (Node-RED
 * credentials only), position, mount heading, calibration, coverage, home preset. It owns one
 * shared connection (`node.connection`), started when the first user registers and closed with
 * the node, and registers it so the video relay and the dashboard can find it by camera id.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { CameraConnection, classifyError } from '../lib/camera/connection';
import { cameraConfigFromNode } from '../lib/camera/config';
import { cameraIdHolder, cameraIdTakenError, registerCamera } from '../lib/camera/registry';
import { CameraConfig } from '../lib/camera/types';
import { deployedCameraNodes, FlowChain, scopeOfFlow } from '../lib/util/deployed-nodes';
import { withUnsetEnv } from '../lib/util/env-refs';
import { hasPassword } from '../lib/util/url-credentials';
import { basicOverRtspNotice } from '../lib/video/rtsp-auth';

interface VigieCameraDef extends NodeDef {
  cameraId?: string;
  host?: string;
  port?: string | number;
  profileToken?: string;
  lat?: string | number;
  lon?: string | number;
  heightM?: string | number;
  groundAltM?: string | number;
  mountHeadingDeg?: string | number;
  tiltOffsetDeg?: string | number;
  space?: string;
  panDirection?: string | number;
  panMinDeg?: string | number;
  panMaxDeg?: string | number;
  tiltMinDeg?: string | number;
  tiltMaxDeg?: string | number;
  hfovWideDeg?: string | number;
  hfovTeleDeg?: string | number;
  maxRangeM?: string | number;
  blindSectors?: string;
  homePreset?: string;
  sensorId?: string;
  streamUrl?: string;
  snapshotUrl?: string;
  basicOverHttp?: boolean | string;
}

interface Credentials {
  username?: string;
  password?: string;
}

interface VigieCameraNode extends Node<Credentials> {
  camera: CameraConfig | undefined;
  cameraError: string | undefined;
  connection: CameraConnection | undefined;
  users: Record<string, Node>;
  registerUser(user: Node): void;
  deregisterUser(user: Node): void;
}

/** Node-RED's placeholder for a stored password the editor does not reveal. */
const PASSWORD_PLACEHOLDER = '__PWRD__';

/** A form value that is wholly an environment reference, "${NAME}" or the older "$(NAME)", as Node-RED substitutes them. */
const ENV_REFERENCE = /^\$(?:\((\S+)\)|\{(\S+)\})$/;

/** The part of Node-RED's runtime flow that leads to the global one (its env is the global-config node's). */
interface RuntimeFlow {
  isGlobalFlow?: boolean;
  parent?: RuntimeFlow;
}

export = function (RED: NodeAPI) {
  function VigieCameraNode(this: VigieCameraNode, def: VigieCameraDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    // Found by ptz-steer and the editor's Test connection by its id or its definition's: inside a
    // subflow instance a node runs as "<instance>-<id>", its definition's id kept as _alias.
    const runtime = node as unknown as { _alias?: string; _flow?: FlowChain };
    const definitionId = runtime._alias ?? node.id;
    const scope = scopeOfFlow(runtime._flow);
    const undeploy = deployedCameraNodes.register({ node, id: node.id, definitionId, scope });
    node.users = {};
    node.camera = undefined;
    node.cameraError = undefined;
    node.connection = undefined;
    let unregister: (() => void) | undefined;
    try {
      node.camera = cameraConfigFromNode({ ...def, id: def.id });
      // One camera per id (see lib/camera/registry.ts): a second one is refused before it connects,
      // the first keeps working. The other node is named by its id in the flows, and its instance.
      const holder = cameraIdHolder(node.camera.id);
      if (holder) throw cameraIdTakenError(node.camera.id, holder);
      for (const field of ['streamUrl', 'snapshotUrl'] as const) {
        const url = node.camera[field];
        if (url && hasPassword(url)) node.warn(`${field}: the password in this URL is saved in plain text in the flows; put the user and password in the camera's User and Password fields instead (they are added to the URL when it is used)`);
      }
      const creds = node.credentials ?? {};
      node.connection = new CameraConnection({ config: node.camera, username: creds.username ?? '', password: creds.password ?? '' });
      // A failure is warned about when it starts (or changes), not at every retry of the back-off.
      let failureWarned = '';
      node.connection.on('state', (state: string, err?: Error) => {
        if (state === 'failed' && err) {
          if (err.message !== failureWarned) node.warn(`camera "${node.camera!.id}": ${err.message}; ${node.connection?.retryWords ?? 'retrying with back-off'}`);
          else node.debug(`camera "${node.camera!.id}": still failing: ${err.message}`);
          failureWarned = err.message;
        } else if (state === 'connected') {
          const choice = node.connection?.profileChoice;
          node.log(`camera "${node.camera!.id}" connected${failureWarned ? ' again' : ''}${choice ? `, using ${choice}` : ''}`);
          failureWarned = '';
        }
      });
      // Told once by the connection (not at each reconnection): e.g. a camera without presets.
      node.connection.on('notice', (text: string) => node.warn(`camera "${node.camera!.id}": ${text}`));
      const where = scope.length ? `, in subflow instance ${scope[scope.length - 1]}` : '';
      unregister = registerCamera(node.connection, `vigie-camera "${def.name || node.camera.id}" (node ${definitionId}${where})`);
    } catch (err) {
      node.camera = undefined;
      // Not started (a connection starts with its first user): closing it costs nothing.
      node.connection?.close().catch(() => undefined);
      node.connection = undefined;
      node.cameraError = withUnsetEnv((err as Error).message, def as unknown as Record<string, unknown>);
      node.error(`vigie-camera "${def.name || def.cameraId || def.id}": ${node.cameraError}`);
    }

    node.registerUser = (user: Node) => {
      node.users[user.id] = user;
      // Connect when the first node needs the camera (like the core MQTT broker node).
      if (Object.keys(node.users).length === 1) node.connection?.start();
    };
    node.deregisterUser = (user: Node) => {
      delete node.users[user.id];
      // The last user gone: stop retrying a camera nobody needs (a command still connects on demand).
      if (Object.keys(node.users).length === 0) node.connection?.idle();
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      (async () => {
        try {
          undeploy();
          unregister?.();
          await node.connection?.close();
        } finally {
          done();
        }
      })().catch(() => undefined); // done() already ran in finally
    });
  }

  RED.nodes.registerType('vigie-camera', VigieCameraNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  } as unknown as Parameters<NodeAPI['nodes']['registerType']>[2]);

  /**
   * How a "${NAME}" in the camera's form reads in Node-RED (undefined: set nowhere). For a
   * deployed camera, as the runtime resolves it for that node: its subflow's or tab's env, the
   * global-config env, then the process's. For one not deployed yet, the global-config env
   * (reached through any deployed node), then the process's.
   */
  function envSettingFor(nodeId: string): (name: string) => unknown {
    const getSetting = RED.util.getSetting as unknown as (node: unknown, name: string, flow?: RuntimeFlow) => unknown;
    // A definition inside a subflow runs once per instance: the first instance's copy answers.
    const live = (nodeId && ((deployedCameraNodes.resolve(nodeId, [])[0] as VigieCameraNode | undefined) ?? (RED.nodes.getNode(nodeId) as VigieCameraNode | null))) || undefined;
    if (live) return (name) => getSetting(live, name);
    let global: RuntimeFlow | undefined;
    RED.nodes.eachNode((def) => {
      if (global) return;
      let flow = (RED.nodes.getNode(def.id) as unknown as { _flow?: RuntimeFlow } | null)?._flow;
      while (flow && !flow.isGlobalFlow) flow = flow.parent;
      global = flow;
    });
    return (name) => (global ? getSetting(null, name, global) : process.env[name]);
  }

  // "Test connection" in the editor: connect with the form's values and list profiles and presets.
  RED.httpAdmin.post('/vigie/camera/test', RED.auth.needsPermission('vigie-camera.write'), (req, res) => {
    const body = { ...((req.body ?? {}) as Record<string, unknown>) };
    const nodeId = typeof body.id === 'string' ? body.id : '';
    const setting = envSettingFor(nodeId);
    const unset: string[] = [];
    // Flows may hold "${ENV}" / "$(ENV)" references: resolved as Node-RED resolves them for the node.
    const envRef = (v: unknown) => {
      const m = typeof v === 'string' ? ENV_REFERENCE.exec(v) : null;
      if (!m) return v;
      const value = setting(m[1] ?? m[2]);
      if (value === undefined) unset.push(m[1] ?? m[2]);
      return value ?? v;
    };
    for (const k of Object.keys(body)) body[k] = envRef(body[k]);
    let password = typeof body.password === 'string' ? body.password : '';
    let username = typeof body.username === 'string' ? body.username : '';
    // The stored password only for the placeholder of a password field left as it was: an emptied
    // field is what deploy will save, and is tried as it is (a "Connected" with the old password
    // would be followed by a camera refusing the empty one). The same for the user, then only.
    if (nodeId && password === PASSWORD_PLACEHOLDER) {
      const stored = (RED.nodes.getCredentials(nodeId) ?? {}) as Credentials;
      password = String(envRef(stored.password ?? ''));
      if (!username) username = String(envRef(stored.username ?? ''));
    }
    let conn: CameraConnection | undefined;
    (async () => {
      try {
        // Not tried with a default in its place (port 80, an empty user): the answer would mislead.
        if (unset.length) {
          const names = [...new Set(unset)];
          res.json({ ok: false, code: 'config', error: `environment variable${names.length > 1 ? 's' : ''} ${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} not set where Node-RED runs`, profiles: [] });
          return;
        }
        const config = cameraConfigFromNode({ lat: 0, lon: 0, ...body, id: nodeId || 'test', cameraId: body.cameraId || nodeId || 'test' });
        conn = new CameraConnection({ config, username, password, backoff: { initialMs: 60_000 } });
        const notices: string[] = [];
        conn.on('notice', (text: string) => notices.push(text));
        await conn.ensureConnected();
        // The stream's own authentication: Basic over plain rtsp:// gives the password away (video-forward warns too).
        if (username || password) {
          const typed = typeof body.streamUrl === 'string' ? body.streamUrl.trim() : '';
          const notice = await basicOverRtspNotice(typed || (await conn.getStreamUri().catch(() => undefined)));
          if (notice) notices.push(notice);
        }
        res.json({
          ok: true,
          profiles: conn.profiles,
          profileToken: conn.profileToken,
          profileChoice: conn.profileChoice,
          notices,
          presets: conn.presets.map((p) => ({ token: p.token, name: p.name })),
          capabilities: conn.capabilities,
        });
      } catch (err) {
        const e = classifyError(err);
        // The profiles read before the failure: the one to choose may be among them.
        res.json({ ok: false, code: e.code, error: e.message, profiles: conn?.profiles ?? [], profileChoice: conn?.profileChoice });
      } finally {
        await conn?.close();
      }
    })().catch(() => undefined);
  });
};
