// The console's move button, by camera state: its words and its tooltip. Which states get
// one is decided by the server's list (lib/alerts/camera-states.ts); a test checks that every
// state of that list has words here, and no other.

export const MOVE_BUTTON = {
    proposed: ['Move camera', 'Turn the proposed camera to this alert'],
    waiting: ['Take camera', 'Turn the busy camera to this alert now'],
    released: ['Look again', 'Turn a camera to this alert again (the one that looked here first)'],
    failed: ['Try camera again', 'Ask again for a camera to turn to this alert'],
    unavailable: ['Take camera', 'Turn a camera to this alert now, taking it from the alert it is on']
}

/**
 * What the console says under the camera button when the last request moved no camera (the
 * state's `moveNotMade`): ptz-steer refused it (its reason, in words for operators), or nothing
 * answered it in time. `clock(sec)` words the request's time; `readable(reason)` names the
 * alerts a reason names by id. A refusal whose reason is a field check ("payload.alertId:
 * expected …", a ptz-steer of an older flow) is for City IT, who find it in the Node-RED log
 * and the audit log. '' for none.
 */
export function moveNotMadeWords (end, clock, readable = (r) => r) {
    if (!end) return ''
    const asked = `${end.operator ? end.operator + '\'s' : 'the'} camera request of ${clock(end.time)}`
    if (end.why === 'refused') {
        const reason = String(end.reason || '')
        const forPeople = reason && !/^[\w.[\]]+: expected\b/.test(reason)
        return forPeople
            ? `ptz-steer refused ${asked}: ${readable(reason)}.`
            : `ptz-steer refused ${asked}: it could not use it (City IT find why in the Node-RED log). Try again; if it happens again, tell City IT.`
    }
    return `No answer from ptz-steer to ${asked}: nothing shows that a camera turned. Try again; if it happens again, ask City IT to check that ptz-steer receives this console's requests.`
}
