/**
 * vigie-model: config node owning one classifier model (ONNX file + model card) and its
 * inference session, shared by every acoustic-classifier that uses it. The session is
 * created when the first user registers and released when the last one leaves or the node
 * closes; the file is watched, so fixing a broken model on disk needs no redeploy.
 */
import * as path from 'path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { describeModel, readCardSummary } from '../lib/detect/model';
import { defaultModelPath, ModelSource } from '../lib/detect/model-source';

interface VigieModelDef extends NodeDef {
  path?: string;
}

interface VigieModelNode extends Node {
  /** The shared model source: register()/deregister() as a user, get() the ready model. */
  source: ModelSource;
  /** Where the model file is, resolved. */
  modelPath: string;
}

export = function (RED: NodeAPI) {
  const userDir = (): string => (RED.settings as unknown as { userDir?: string }).userDir ?? process.cwd();
  // Empty: the model shipped in the package. Relative paths are relative to the Node-RED user directory.
  const resolveModelPath = (given: string): string => (given.trim() ? path.resolve(userDir(), given.trim()) : defaultModelPath());

  function VigieModelNode(this: VigieModelNode, config: VigieModelDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    node.modelPath = resolveModelPath(config.path ?? '');
    node.source = new ModelSource(node.modelPath);
    node.source.on('state', (s) => {
      if (s.state === 'ready') node.log(`model ${s.model.card.name} loaded from ${node.modelPath} (${describeModel(s.model)})`);
      if (s.state === 'failed') node.error(`model ${node.modelPath}: ${s.error.message}`);
    });
    node.source.on('reload-failed', (err: Error) => node.warn(`model ${node.modelPath} changed but cannot be loaded, keeping the previous one: ${err.message}`));
    node.on('close', (_removed: boolean, done: () => void) => {
      node.source.close().catch((err: Error) => node.warn(`closing the model session: ${err.message}`)).finally(() => done());
    });
  }
  // The editor shows the thresholds a model's card recommends (what an empty threshold means).
  // Only the card's name, version, alert labels and thresholds are returned, never the file.
  RED.httpAdmin.get('/vigie/model-card', RED.auth.needsPermission('vigie-model.read'), (req, res) => {
    const q = req.query.path;
    if (q !== undefined && typeof q !== 'string') {
      res.status(400).json({ error: 'path: expected one model file path (or none for the shipped model)' });
      return;
    }
    const given = q ?? '';
    try {
      res.json(readCardSummary(resolveModelPath(given)));
    } catch (err) {
      res.status(404).json({ error: (err as Error).message });
    }
  });
  RED.nodes.registerType('vigie-model', VigieModelNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
