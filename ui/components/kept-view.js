// What the console keeps of the operator's view when the widget is built again. Dashboard 2.0
// re-creates its widgets after every reconnection (a Node-RED restart, a Full deploy, a deploy
// touching the console, a network drop): the alert open, the notes typed and a decision still
// waiting for Node-RED's answer would otherwise be lost. They are kept in the tab's
// sessionStorage (two tabs are two operators), under the widget's id.

export const KEPT_VIEW_KEY_PREFIX = 'vigie-console-view:'
/** As the note's field allows, and as Node-RED keeps. */
const NOTE_MAX = 1000
/** Node-RED lists at most 200 alerts (maxShown); a few more are tolerated, never an unbounded list. */
const LISTED_IDS_MAX = 1000

/** An empty view: nothing open, no note, no decision waiting. */
export function emptyView () {
    return { selectedId: null, openedByOperator: false, notes: {}, decisionWaiting: null, operatorAs: null, listedIds: null }
}

/**
 * The view kept for `widgetId` in `storage` (sessionStorage), or an empty one: a storage that
 * refuses (private mode, quota) or holds something unusable keeps nothing. Never throws.
 */
export function readKeptView (storage, widgetId) {
    const out = emptyView()
    let kept = null
    try {
        const raw = storage ? storage.getItem(KEPT_VIEW_KEY_PREFIX + widgetId) : null
        kept = raw ? JSON.parse(raw) : null
    } catch (_e) { /* refused, or not JSON: nothing kept */ }
    if (!kept || typeof kept !== 'object') return out
    if (typeof kept.selectedId === 'string' && kept.selectedId) out.selectedId = kept.selectedId
    out.openedByOperator = kept.openedByOperator === true
    if (kept.notes && typeof kept.notes === 'object') {
        for (const [id, text] of Object.entries(kept.notes)) if (typeof text === 'string' && text) out.notes[id] = text.slice(0, NOTE_MAX)
    }
    const w = kept.decisionWaiting
    if (w && typeof w === 'object' && (typeof w.id === 'string' || typeof w.id === 'number') && typeof w.alertId === 'string' && typeof w.action === 'string' && Number.isInteger(w.revision) && w.revision >= 0) {
        out.decisionWaiting = {
            id: w.id,
            alertId: w.alertId,
            action: w.action,
            revision: w.revision,
            note: typeof w.note === 'string' ? w.note.slice(0, NOTE_MAX) : '',
            operator: typeof w.operator === 'string' ? w.operator : '',
            asked: w.asked === true
        }
    }
    const as = kept.operatorAs
    if (as && typeof as.entered === 'string' && typeof as.recorded === 'string') out.operatorAs = { entered: as.entered, recorded: as.recorded }
    // The alerts the console listed last: one that is new to it when it is built again came
    // meanwhile (during a network drop, a restart), and is announced with the chime.
    if (Array.isArray(kept.listedIds)) out.listedIds = kept.listedIds.filter(id => typeof id === 'string').slice(0, LISTED_IDS_MAX)
    return out
}

/** Keeps `view` for `widgetId`; a storage that refuses keeps nothing (the console works on). */
export function keepView (storage, widgetId, view) {
    try {
        if (storage) storage.setItem(KEPT_VIEW_KEY_PREFIX + widgetId, JSON.stringify(view))
    } catch (_e) { /* quota, private mode */ }
}

/**
 * The notes of the alerts still listed: a note goes with its alert when the alert leaves the
 * list, so what is kept stays bounded. The same object when nothing goes.
 */
export function notesStillListed (notes, records) {
    return entriesListed(notes, new Set(records.map(r => r.alert.id)))
}

/**
 * The entries of `map` whose key is in `listed` (a Set): `map` itself when none is left out. A
 * console left open for weeks keeps, of what it learnt per alert, only the alerts still listed.
 */
export function entriesListed (map, listed) {
    const keys = Object.keys(map)
    if (keys.every(k => listed.has(k))) return map
    const out = {}
    for (const k of keys) if (listed.has(k)) out[k] = map[k]
    return out
}

/** The snapshot URLs that failed to load (`gone`: URL → true), of the alerts still listed only. */
export function snapshotsGoneListed (gone, records) {
    return entriesListed(gone, new Set(records.map(r => r.alert.video && r.alert.video.snapshot).filter(Boolean)))
}

/**
 * The operator a decision waiting for its answer is compared with (see decisionOutcome): the
 * name Node-RED recorded this console's actions under for the name entered, once an answer said
 * so; '' (any operator) before, since with a dashboard login Node-RED records the logged-in user,
 * not the name entered, and a console that compared that name would take its own decision for
 * another operator's.
 */
export function waitingOperator (operatorAs, operatorName) {
    return operatorAs && operatorAs.entered === operatorName && operatorAs.recorded ? operatorAs.recorded : ''
}

/**
 * What became of a decision sent without an answer, read from its alert as Node-RED shows it
 * now (`record`, or null when the alert is no longer listed). Node-RED records a decision only
 * on the revision it was made on, so it can only be at that place in the alert's decisions:
 * 'recorded' (ours is there), 'other' (another operator's took that place: ours was refused),
 * 'none' (nothing there: not recorded, or not yet), 'gone' (the alert left the list).
 */
export function decisionOutcome (waiting, record) {
    if (!record) return 'gone'
    const d = record.decisions[waiting.revision]
    if (!d) return 'none'
    return isDecisionSent(waiting, d) ? 'recorded' : 'other'
}

/**
 * Whether `decision` (one of an alert's decisions as Node-RED shows it, at the revision
 * `waiting` was made on) is the one `waiting` sent: the same action and note (as Node-RED keeps
 * it: trimmed), and the same operator once Node-RED said which name it records this console under.
 */
export function isDecisionSent (waiting, decision) {
    const note = (waiting.note || '').trim().slice(0, NOTE_MAX)
    return decision.action === waiting.action && (decision.note || '') === note && (!waiting.operator || decision.operator === waiting.operator)
}
