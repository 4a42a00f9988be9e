/**
 * vigie-sensor: config node describing one microphone array — id, position, height,
 * heading, geometry, clock. Other nodes read `sensorNode.sensor` (a validated SensorInfo),
 * or `sensorNode.sensorError` when the configuration is unusable.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { ARRAY_PRESETS } from '../lib/localize/arrays';
import { SensorInfo, sensorWarnings, validateSensorInfo } from '../lib/sensor';

interface VigieSensorDef extends NodeDef {
  sensorId?: string;
  lat?: string | number;
  lon?: string | number;
  heightM?: string | number;
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
}

export = function (RED: NodeAPI) {
  function VigieSensorNode(this: VigieSensorNode, config: VigieSensorDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    node.sensor = undefined;
    node.sensorError = undefined;
    try {
      node.sensor = validateSensorInfo({
        sensorId: config.sensorId,
        name: config.name,
        lat: config.lat,
        lon: config.lon,
        heightM: config.heightM,
        headingDeg: config.headingDeg,
        array: config.array,
        mics: config.mics,
        clock: config.clock,
        clockErrorMs: config.clockErrorMs,
      });
      for (const w of sensorWarnings(node.sensor)) node.warn(`sensor "${node.sensor.id}": ${w}`);
    } catch (err) {
      node.sensorError = (err as Error).message;
      node.error(`vigie-sensor "${config.name || config.sensorId || config.id}": ${node.sensorError}`);
    }
  }
  RED.nodes.registerType('vigie-sensor', VigieSensorNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);

  // The editor's array menu and previews come from the same presets the runtime uses.
  RED.httpAdmin.get('/vigie/array-presets', RED.auth.needsPermission('vigie-sensor.read'), (_req, res) => {
    res.json(Object.values(ARRAY_PRESETS).map((p) => ({ id: p.id, name: p.name, mics: p.mics })));
  });
};
