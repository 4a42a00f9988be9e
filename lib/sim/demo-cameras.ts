/**
 * The virtual PTZ cameras of the street demo: their place on the demo crossroads (local
 * east-north-up metres around the street-demo scene's origin) and the environment variable
 * that carries each one's ONVIF port to the flow. Shared by the launcher that starts them
 * and by the script that writes the shipped street-demo flow.
 */
export interface DemoCamera {
  id: string;
  name: string;
  /** East, north metres from the scene origin. */
  enu: [number, number];
  heightM: number;
  /** Bearing of pan zero, degrees from true north. */
  mountHeadingDeg: number;
  portEnv: string;
}

export const DEMO_CAMERAS: readonly DemoCamera[] = [
  { id: 'cam-north', name: 'Crossroads north pole', enu: [0, 24], heightM: 6, mountHeadingDeg: 180, portEnv: 'VIGIE_CAM_NORTH_PORT' },
  { id: 'cam-south', name: 'Crossroads south pole', enu: [3, -25], heightM: 6, mountHeadingDeg: 0, portEnv: 'VIGIE_CAM_SOUTH_PORT' },
];
