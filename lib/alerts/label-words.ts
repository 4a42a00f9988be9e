// What operators call each alert label, shared by the console's browser widget (its build
// bundles this file) and ptz-steer's camera reasons, so both say "Glass breaking".

/** Display name of each alert label. */
export const ALERT_LABEL_NAMES: Readonly<Record<string, string>> = {
  gunshot: 'Gunshot',
  glass_break: 'Glass breaking',
  crash: 'Crash',
  scream: 'Scream',
  explosion: 'Explosion',
  tire_skid: 'Tyre skid',
};

/** "Glass breaking"; an unknown label as it is, underscores as spaces. */
export function labelName(label: string | undefined): string {
  return ALERT_LABEL_NAMES[label ?? ''] ?? String(label || '?').replace(/_/g, ' ');
}
