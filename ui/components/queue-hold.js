// The queue's order held still while the operator is about to click in it (pointer over it,
// keyboard focus in it, a row just pressed): a row never moves under the pointer, so a click
// lands on the alert it was aimed at. Rows keep showing their alert's live state; alerts that
// came meanwhile wait, counted, until the hold ends or the operator asks for them.

/** How long the order stays held after a row was pressed (a touch screen has no hover). */
export const QUEUE_HOLD_AFTER_PRESS_MS = 1500

/**
 * What the queue shows. `heldIds`: the alert ids in the order the queue had when the hold
 * began, or null when not held. `records`: the live queue, in Node-RED's order.
 * Returns `rows` (the live records, in the held order; an alert gone from the queue is gone
 * from it), `waiting` (alerts that came since, in the live order) and `reordered` (the live
 * order of the rows shown differs from the order held).
 */
export function heldQueue (heldIds, records) {
    if (!heldIds) return { rows: records, waiting: [], reordered: false }
    const byId = new Map(records.map(r => [r.alert.id, r]))
    const held = new Set(heldIds)
    const rows = heldIds.map(id => byId.get(id)).filter(Boolean)
    const waiting = records.filter(r => !held.has(r.alert.id))
    const liveOrder = records.filter(r => held.has(r.alert.id))
    const reordered = liveOrder.some((r, i) => r !== rows[i])
    return { rows, waiting, reordered }
}

/** "1 new alert", "3 new alerts". */
export function waitingWords (n) {
    return `${n} new alert${n === 1 ? '' : 's'}`
}
