// What the console says of cameras and of their picture. Plain data and small rules, so that
// Node tests can check them (test/browser/alert-dashboard-plan.test.ts, contract-types.test.ts).
import { INTERRUPTION_WORDS, REFUSAL_WORDS } from '../../lib/video/picture-words.ts'

export { REFUSAL_WORDS }

// One badge per camera state of the alert contract (schemas/alert.schema.json): a test checks
// that every state has words here, and no other.
export const CAMERA_WORDS = {
    moving: 'camera moving',
    'on-target': 'camera on target',
    preset: 'camera at preset',
    failed: 'camera failed',
    proposed: 'camera awaits operator',
    waiting: 'waiting for a busy camera',
    released: 'camera moved on',
    unavailable: 'no camera available'
}

// What the video area says instead of a live picture of another place.
export const AWAY_WORDS = {
    waiting: 'The camera is on another alert: its picture comes when it turns here',
    released: 'The camera looked here and has left since: see the snapshot',
    failed: 'No live picture: the camera did not turn here',
    unavailable: 'No live picture: no camera turned to this alert'
}

// A camera that left an alert with no snapshot link (video-forward's Snapshot setting unticked):
// nothing to point the operator at.
export const RELEASED_WITHOUT_SNAPSHOT_WORDS = 'The camera looked here and has left since'

/** The video area's words for a camera away from the alert (AWAY_WORDS), or '' when it is not away. */
export function awayWords (state, hasSnapshot) {
    if (state === 'released' && !hasSnapshot) return RELEASED_WITHOUT_SNAPSHOT_WORDS
    return AWAY_WORDS[state] || ''
}

// States in which the camera is turning to the alert or looks at it: only then is its aim
// drawn on the plan (a camera that waits, failed or left never turned there).
export const AIMED_STATES = ['moving', 'on-target']

export const OFFLINE_WORDS = 'camera offline'

// No new frame for this long: the picture on screen is not live any more.
export const FROZEN_AFTER_MS = 4000

// Why the picture on screen is not live: the relay's reason code, in the words the relay itself
// uses (lib/video/picture-words.ts, bundled), or the player's own finding (frozen). The console
// shows only these words, never what a server sent.
export const PICTURE_WORDS = {
    frozen: 'Picture frozen — camera not responding',
    ...INTERRUPTION_WORDS
}

// Why a live picture could not start (REFUSAL_WORDS, from lib/video/picture-words.ts), by the
// relay's reason code or the MJPEG HTTP status (refusalOfStatus).

/** The words over a picture that is not live, or '' when it is (or none is shown). */
export function pictureProblem ({ interruption, frozen }) {
    if (interruption) return PICTURE_WORDS[interruption] || PICTURE_WORDS.interrupted
    return frozen ? PICTURE_WORDS.frozen : ''
}

/** A refused MJPEG view, by its HTTP status. */
export function refusalOfStatus (status) {
    return status === 503 ? 'busy' : status === 429 ? 'too-many-views' : status === 404 ? 'unknown-camera' : 'server'
}

/** "Not responding since 06:17:31 — …" under an offline camera; clock: epoch ms → local time. */
export function offlineNote (connection, clock) {
    const problem = (connection && connection.problem) || 'not responding'
    const since = connection && Number.isFinite(connection.sinceMs) ? ' since ' + clock(connection.sinceMs) : ''
    return problem.charAt(0).toUpperCase() + problem.slice(1) + since + ': no live picture or camera move until it answers again'
}

/**
 * A waiting alert's reason names the alert holding its camera by kind only ("camera A is busy
 * with a scream alert"): ptz-steer does not send every waiting alert again at each change of
 * holder. The console names it when it lists that alert: `holder` { kind: 'scream', when:
 * '10:55:31' } gives "… busy with the scream alert of 10:55:31". A holder of another kind than
 * the reason says (a reason older than the last change) names nothing; no holder, nothing.
 */
export function nameBusyHolder (reason, holder) {
    const text = String(reason)
    if (!holder || !holder.kind) return text
    const kind = String(holder.kind).toLowerCase()
    const said = new RegExp(`\\bwith an? ${kind.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} alert\\b`)
    return text.replace(said, `with the ${kind} alert of ${holder.when}`)
}
