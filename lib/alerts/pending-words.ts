/**
 * Camera states that only a running ptz-steer keeps its promise on, and what each becomes when
 * the ptz-steer that made it is gone (Node-RED restarted, the node removed): the console and
 * ptz-steer say the same words after their own prefix ("Node-RED restarted: …").
 */
import type { CameraState } from '../contracts';

export const PENDING_CAMERA_WORDS: Record<string, string> = {
  proposed: 'the proposed camera move was lost',
  waiting: 'its wait for a busy camera ended',
  moving: 'the camera move was not followed to its end',
};

/** What each pending state becomes: a wait that ended is no fault of a camera. */
export const PENDING_CAMERA_END: Record<string, CameraState['state']> = { proposed: 'failed', waiting: 'unavailable', moving: 'failed' };
