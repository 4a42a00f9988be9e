/**
 * Settings that still hold an environment reference after Node-RED's substitution. Node-RED
 * replaces a setting that is wholly "${NAME}" (or the older "$(NAME)") by the variable's value
 * when the node starts, and leaves the text as it was when the variable is set nowhere (not in
 * the process, the settings' env, nor a flow's or group's env). So a setting that still reads
 * "${NAME}" in a node's constructor names a variable that is not set: the shipped gateway and
 * control-room flows take their sites' values that way, and an import without them set would
 * otherwise fail only with "expected a number, got "${VIGIE_SENSOR_LAT}"".
 */

const WHOLE_REFERENCE = /^\$(?:\{(\S+)\}|\((\S+)\))$/;
/** Node-RED's own keys, never settings. */
const NOT_SETTINGS = new Set(['id', 'type', 'z', 'g', 'wires', 'x', 'y', '_users']);

export interface UnsetEnvSetting {
  field: string;
  variable: string;
}

/** The node's settings (its definition, as the constructor gets it) that name an unset variable. */
export function unsetEnvSettings(def: Record<string, unknown>): UnsetEnvSetting[] {
  const out: UnsetEnvSetting[] = [];
  for (const [field, v] of Object.entries(def)) {
    if (NOT_SETTINGS.has(field) || typeof v !== 'string') continue;
    const m = WHOLE_REFERENCE.exec(v);
    if (m) out.push({ field, variable: m[1] ?? m[2] });
  }
  return out;
}

/**
 * `message` (a configuration error) with the unset variables the node's settings name, if any:
 * "…; not set where Node-RED runs: VIGIE_SENSOR (sensorId), VIGIE_SENSOR_LAT (lat)".
 */
export function withUnsetEnv(message: string, def: Record<string, unknown>): string {
  const unset = unsetEnvSettings(def);
  if (!unset.length) return message;
  const list = unset.map((u) => `${u.variable} (${u.field})`).join(', ');
  return `${message}; environment variable${unset.length > 1 ? 's' : ''} not set where Node-RED runs: ${list}`;
}
