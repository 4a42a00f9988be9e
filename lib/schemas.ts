/**
 * The JSON Schemas of the message contracts (schemas/*.schema.json), for validating what
 * crosses a process boundary (MQTT), for the docs, and for the alert's fields that
 * lib/contracts passes on. Loaded from the package's schemas/ folder.
 */
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from './util/package-info';

export const SCHEMA_NAMES = ['audio-block', 'detection', 'alert', 'decision'] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

export function loadSchemas(): Record<SchemaName, Record<string, unknown>> {
  const dir = path.join(packageRoot(), 'schemas');
  const out = {} as Record<SchemaName, Record<string, unknown>>;
  for (const n of SCHEMA_NAMES) out[n] = JSON.parse(fs.readFileSync(path.join(dir, `${n}.schema.json`), 'utf8'));
  return out;
}

/** The name a `$ref` between the schemas points to ("detection.schema.json" → "detection"). */
export function schemaNameOf(ref: string): SchemaName {
  const name = ref.replace(/\.schema\.json$/, '');
  if (!(SCHEMA_NAMES as readonly string[]).includes(name)) throw new Error(`$ref ${JSON.stringify(ref)}: not one of the schemas (${SCHEMA_NAMES.join(', ')})`);
  return name as SchemaName;
}
