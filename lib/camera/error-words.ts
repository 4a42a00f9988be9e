/**
 * What a camera's error code means for operators, in one table with a column per place it is
 * said: `offline`, what is wrong with a camera the console shows offline (camera-links.ts:
 * "Camera place — not responding since 06:17:31"); `moveFailed`, why a move did not happen,
 * after "camera <name> " (ptz-steer's reason, steer.ts failureWords). Never the address or the
 * command: those go to the log and to ptz-steer's output 2. Typed by CameraErrorCode, so a code
 * added there is refused by the compiler until it has its words here.
 */
import type { CameraErrorCode } from './connection';

export interface CameraErrorWords {
  readonly offline: string;
  readonly moveFailed: string;
}

// Frozen, the table and each entry: they are shared by every camera and node (OTHER by several
// codes), and a caller changing one would change the words said of all.

/** Said of a code that needs no words of its own, and of one not known here. */
const OTHER: CameraErrorWords = Object.freeze({
  offline: 'not usable (see the Node-RED log)',
  moveFailed: 'did not turn there (it reported a fault: ask your administrator to check it)',
});

export const CAMERA_ERROR_WORDS: Readonly<Record<CameraErrorCode, CameraErrorWords>> = Object.freeze({
  unreachable: Object.freeze({ offline: 'not responding', moveFailed: 'is not responding (offline, or cut off from the network)' }),
  auth: Object.freeze({ offline: "refuses Vigie's login (user or password)", moveFailed: "refused Vigie's login (its user or password has changed)" }),
  closed: Object.freeze({ ...OTHER, moveFailed: 'was taken out of service (its settings were changed or removed)' }),
  'not-supported': Object.freeze({ ...OTHER, moveFailed: 'cannot be turned there (it refuses every way of moving)' }),
  'soap-fault': Object.freeze({ ...OTHER, moveFailed: 'refused to turn there' }),
  'out-of-range': Object.freeze({ ...OTHER, moveFailed: 'cannot turn that far (the alert is beyond its pan or tilt range)' }),
  'no-profile': OTHER,
  'no-camera': OTHER,
  superseded: OTHER,
  error: OTHER,
});

/** The words of a code (any text: codes come from errors), or those of an unknown one. */
export function cameraErrorWords(code: string | undefined): CameraErrorWords {
  return code !== undefined && Object.hasOwn(CAMERA_ERROR_WORDS, code) ? CAMERA_ERROR_WORDS[code as CameraErrorCode] : OTHER;
}
