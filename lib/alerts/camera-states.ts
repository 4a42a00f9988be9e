// Camera states shared by the console's server side and its browser widget (the widget's
// build bundles this file), so both agree on which alerts get a move button.
import type { CameraState } from '../contracts';

/** Camera states for which an operator may ask for a move: a proposal, a busy camera, or to look again. */
export const MOVABLE_CAMERA_STATES: readonly CameraState['state'][] = ['proposed', 'waiting', 'released', 'failed', 'unavailable'];

/** Camera states in which the camera is not looking at the alert, nor promised to it: ptz-steer's answer to a move request may repeat them. */
export const CAMERA_LEFT_STATES: readonly CameraState['state'][] = ['released', 'failed', 'unavailable'];
