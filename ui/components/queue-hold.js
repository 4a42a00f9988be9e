// The queue's order held still while the operator is about to click in it (pointer over it,
// keyboard focus in it, a row just pressed): a row never moves under the pointer, so a click
// lands on the alert it was aimed at. Rows keep showing their alert's live state; alerts that
// came meanwhile wait, counted, until the hold ends or the operator asks for them. An alert
// that leaves the list meanwhile (retention, the list's cap) keeps its place as a greyed row
// that cannot be opened, so the rows below it do not move up under the pointer either.

/** How long the order stays held after a row was pressed (a touch screen has no hover). */
export const QUEUE_HOLD_AFTER_PRESS_MS = 1500

/**
 * What the queue shows. `held`: the rows as the queue showed them last (the live records when
 * the hold began, then this function's `rows`), or null when not held. `records`: the live
 * queue, in Node-RED's order.
 * Returns `rows` (the held order: each alert's live record, or, for an alert gone from the
 * queue, its last record marked `removed: true`), `waiting` (alerts that came since, in the
 * live order), `reordered` (the live order of the rows still there differs from the order
 * held) and `removed` (how many rows are kept for alerts gone from the queue).
 */
export function heldQueue (held, records) {
    if (!held) return { rows: records, waiting: [], reordered: false, removed: 0 }
    const byId = new Map(records.map(r => [r.alert.id, r]))
    const heldIds = new Set(held.map(r => r.alert.id))
    const rows = held.map(r => byId.get(r.alert.id) || (r.removed ? r : { ...r, removed: true }))
    const liveRows = rows.filter(r => !r.removed)
    const waiting = records.filter(r => !heldIds.has(r.alert.id))
    const liveOrder = records.filter(r => heldIds.has(r.alert.id))
    const reordered = liveOrder.some((r, i) => r !== liveRows[i])
    return { rows, waiting, reordered, removed: rows.length - liveRows.length }
}

/** True when a held queue still has a row of a live alert (else it has nothing to keep still). */
export function holdsLiveRows (queue) {
    return queue.rows.some(r => !r.removed)
}

/** "1 new alert", "3 new alerts". */
export function waitingWords (n) {
    return `${n} new alert${n === 1 ? '' : 's'}`
}
