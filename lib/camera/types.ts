/**
 * Camera types shared by ptz-steer, the vigie-camera config node and the video relay.
 * Angles are degrees, distances metres; bearings are clockwise from true north.
 */

/** How the camera's ONVIF pan/tilt/zoom numbers relate to degrees and field of view. */
export interface CameraCalibration {
  /** "generic": ONVIF generic spaces (pan/tilt −1…1, zoom 0…1); "degrees": the camera advertises degree spaces. */
  space: 'generic' | 'degrees';
  /** +1 when a growing pan value turns clockwise seen from above, −1 otherwise. */
  panDirection: 1 | -1;
  /** Degrees covered by the pan space, relative to pan zero: generic −1 → panMinDeg, +1 → panMaxDeg. */
  panMinDeg: number;
  panMaxDeg: number;
  /** Degrees covered by the tilt space (positive = up): generic −1 → tiltMinDeg, +1 → tiltMaxDeg. */
  tiltMinDeg: number;
  tiltMaxDeg: number;
  /**
   * Horizontal field of view at zoom space minimum (wide) and maximum (tele). The zoom space
   * is taken as linear in focal length, i.e. in 1/tan(hfov/2), as on most optical zooms.
   */
  hfovWideDeg: number;
  hfovTeleDeg: number;
}

/** A blind sector, as bearings clockwise from true north (from → to, may wrap through north). */
export interface BlindSector {
  fromDeg: number;
  toDeg: number;
}

/** Everything the vigie-camera config node knows about a camera (no secrets). */
export interface CameraConfig {
  /** Stable, user-visible id (defaults to the config node's id). */
  id: string;
  name: string;
  host: string;
  /** 80 by default, 443 with HTTPS. */
  port: number;
  /** ONVIF over HTTPS (absent: plain HTTP). */
  https?: boolean;
  /**
   * With HTTPS, refuse a certificate that is not trusted (absent: true). A camera with its own
   * self-signed certificate needs false.
   */
  httpsVerify?: boolean;
  /** ONVIF media profile token; empty = the first profile. */
  profileToken?: string;
  lat: number;
  lon: number;
  /** Height of the camera above the ground at its foot (where targets are, without altitudes), metres. */
  heightM: number;
  /**
   * Altitude of the ground at the camera's foot, metres, in the datum of the site's sensors (sea
   * level or any common one); undefined: not given, targets are taken on the camera's own ground.
   */
  groundAltM?: number;
  /** Bearing (deg from true north) the camera looks at when its pan is zero. */
  mountHeadingDeg: number;
  /** Degrees added to the computed tilt (mount not level). */
  tiltOffsetDeg: number;
  calibration: CameraCalibration;
  /** Beyond this distance the camera is not chosen. */
  maxRangeM: number;
  blindSectors: BlindSector[];
  /** Preset token to return to after the quiet period; empty = GotoHomePosition. */
  homePreset?: string;
  /** Id of a sensor on the same mast: its bearings can be used directly when no position is known. */
  sensorId?: string;
  /** Overrides of ONVIF's GetStreamUri / GetSnapshotUri. */
  streamUrl?: string;
  snapshotUrl?: string;
  /**
   * Answer the snapshot's Basic challenge over plain http: (absent: false; the password would
   * cross the network readable). Digest, and Basic over https:, need no setting.
   */
  basicOverHttp?: boolean;
}

export type ConnectionState = 'connecting' | 'connected' | 'failed' | 'closed';

/** A pan/tilt/zoom in the camera's own ONVIF space. */
export interface PtzPosition {
  pan: number;
  tilt: number;
  zoom: number;
}

/**
 * What other parts (video relay, dashboard) get from `findCamera(id)`.
 * URLs configured in the camera config override ONVIF's.
 */
export interface CameraHandle {
  readonly id: string;
  readonly name: string;
  readonly config: CameraConfig;
  readonly state: ConnectionState;
  /** Why the last connection attempt or command failed (cleared once connected again). */
  readonly lastError?: { code: string; message: string };
  getStreamUri(): Promise<string>;
  getSnapshotUri(): Promise<string>;
  /**
   * The camera's login as its node has it now (env references resolved, the copy inside a
   * subflow instance included): it also opens the camera's RTSP stream and snapshot.
   */
  getCredentials?(): { username?: string; password?: string } | undefined;
}
