/**
 * vigie-sensor: config node describing one microphone array — id, position, height,
 * heading, geometry, clock. Other nodes read `sensorNode.sensor` (a validated SensorInfo),
 * or `sensorNode.sensorError` when the configuration is unusable. Deployed sensors are listed in
 * deployedSensorNodes (lib/util/deployed-nodes.ts), with the subflow instance they run in.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { ARRAY_PRESETS } from '../lib/localize/arrays';
import { checkSensorMics, SensorInfo, validateSensorInfo } from '../lib/sensor';
import { deployedSensorNodes, FlowChain, scopeOfFlow } from '../lib/util/deployed-nodes';
import { withUnsetEnv } from '../lib/util/env-refs';
import { describe, isObject } from '../lib/util/validate';

interface VigieSensorDef extends NodeDef {
  sensorId?: string;
  lat?: string | number;
  lon?: string | number;
  heightM?: string | number;
  groundAltM?: string | number;
  headingDeg?: string | number;
  array?: string;
  mics?: string;
  clock?: string;
  clockErrorMs?: string | number;
}

interface VigieSensorNode extends Node {
  /** The validated sensor, or undefined when the configuration is invalid (see sensorError). */
  sensor: SensorInfo | undefined;
  /** Why the configuration is unusable; the message starts with the field name. */
  sensorError: string | undefined;
  /**
   * The Sensor ID as typed (trimmed, at most 64 characters), even when the configuration is
   * invalid: it lets the health report name the sensor of a node that cannot start.
   */
  configuredId: string | undefined;
}

export = function (RED: NodeAPI) {
  function VigieSensorNode(this: VigieSensorNode, config: VigieSensorDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    node.sensor = undefined;
    node.sensorError = undefined;
    const typedId = typeof config.sensorId === 'string' ? config.sensorId.trim().slice(0, 64) : '';
    node.configuredId = typedId || undefined;
    const runtime = node as unknown as { _alias?: string; _flow?: FlowChain };
    const scope = scopeOfFlow(runtime._flow);
    const where = scope.length ? `, in subflow instance ${scope[scope.length - 1]}` : '';
    try {
      const { sensor, warnings } = validateSensorInfo({
        sensorId: config.sensorId,
        name: config.name,
        lat: config.lat,
        lon: config.lon,
        heightM: config.heightM,
        groundAltM: config.groundAltM,
        headingDeg: config.headingDeg,
        array: config.array,
        mics: config.mics,
        clock: config.clock,
        clockErrorMs: config.clockErrorMs,
      });
      // One sensor per id in one place (the top level, or one subflow instance): a second one would
      // leave the localizer to guess whose position and heading a detection of that id has.
      const other = deployedSensorNodes.inScope(scope).find((e) => (e.node as VigieSensorNode).sensor?.id === sensor.id);
      if (other) {
        const o = other.node as VigieSensorNode;
        throw new Error(
          `sensorId: "${sensor.id}" is already the Sensor id of vigie-sensor "${o.name || sensor.id}" (node ${other.definitionId}${where}); expected an id of its own (the localizer finds a sensor's position and heading by it): this sensor is not used`,
        );
      }
      node.sensor = sensor;
      for (const w of warnings) node.warn(`sensor "${sensor.id}": ${w}`);
    } catch (err) {
      node.sensorError = withUnsetEnv((err as Error).message, config as unknown as Record<string, unknown>);
      node.error(`vigie-sensor "${config.name || config.sensorId || config.id}": ${node.sensorError}`);
    }
    // Found by the localizer and the site plan among the deployed sensors: inside a subflow instance
    // a node runs as "<instance>-<id>" (its definition's id kept as _alias) and its id may be "${ENV}".
    const undeploy = deployedSensorNodes.register({ node, id: node.id, definitionId: runtime._alias ?? node.id, scope });
    node.on('close', (_removed: boolean, done: () => void) => {
      try {
        undeploy();
      } finally {
        done();
      }
    });
  }
  RED.nodes.registerType('vigie-sensor', VigieSensorNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);

  // The editor's array menu and previews come from the same presets the runtime uses.
  RED.httpAdmin.get('/vigie/array-presets', RED.auth.needsPermission('vigie-sensor.read'), (_req, res) => {
    res.json(Object.values(ARRAY_PRESETS).map((p) => ({ id: p.id, name: p.name, mics: p.mics })));
  });

  // The form's microphone fields checked as deploy checks them (checkSensorMics), while the user types:
  // {errors, warnings}, each naming its field. A computation on the request alone, like the presets
  // above, so the same read permission (a read-only user's dialog shows the same warnings).
  RED.httpAdmin.post('/vigie/sensor/geometry', RED.auth.needsPermission('vigie-sensor.read'), (req, res) => {
    const body: unknown = req.body;
    if (!isObject(body)) {
      res.status(400).json({ error: `body: expected a JSON object {array, mics}, got ${describe(body)}` });
      return;
    }
    if (typeof body.array !== 'string') {
      res.status(400).json({ error: `array: expected a preset id or "custom" (a string), got ${describe(body.array)}` });
      return;
    }
    // The form sends its positions field whatever the array; only a custom array needs it.
    if ((body.mics !== undefined || body.array === 'custom') && typeof body.mics !== 'string') {
      res.status(400).json({ error: `mics: expected the Mic positions text (a string, JSON such as [[0,0.05,0],[0.05,0,0]]), got ${describe(body.mics)}` });
      return;
    }
    const { errors, warnings } = checkSensorMics(body.array, body.mics);
    res.json({ errors, warnings });
  });
};
