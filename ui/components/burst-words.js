// What the console says when alerts come in bursts (a night of fireworks: hundreds in minutes),
// and what it says of the alerts the queue's cap removed. A chime and a screen-reader
// announcement for every alert would be noise an operator learns to ignore: at most one chime
// every CHIME_GAP_MS, and the announcement sums up the alerts that came meanwhile.

/** At most one chime in this long; the alerts that come meanwhile are counted in the banner. */
export const CHIME_GAP_MS = 5000

/** At most one announcement to screen readers (aria-live) of new alerts in this long. */
export const SUMMARY_GAP_MS = 5000

/** Whether a new alert may chime at `nowMs`, the last chime having sounded at `lastChimeMs` (-Infinity: never). */
export function mayChime (lastChimeMs, nowMs) {
    return nowMs - lastChimeMs >= CHIME_GAP_MS
}

/** "New alert: Gunshot — Rue Nord — 06:14:05", or "5 new alerts — latest: Gunshot — …". */
export function newAlertsWords (count, latestWords) {
    return count > 1 ? `${count} new alerts — latest: ${latestWords}` : `New alert: ${latestWords}`
}

/**
 * The notice of unhandled alerts the cap removed (the state's `dropped`): "3 unhandled alerts
 * were removed to keep the queue at 500: Scream 06:12:40 (opened), Glass breaking 06:12:31 and
 * 1 more. Each is in the audit log." `nameOf(d)` words one of them.
 */
export function droppedWords (dropped, nameOf) {
    const n = dropped.count
    const named = (dropped.recent || []).slice(0, n).map(d => nameOf(d) + (d.state === 'seen' ? ' (opened)' : ''))
    const more = n - named.length
    const list = named.join(', ') + (more > 0 ? `${named.length ? ' and ' : ''}${more} more` : '')
    return `${n} unhandled alert${n === 1 ? ' was' : 's were'} removed to keep the queue at ${dropped.maxAlerts}: ${list}. Each is in the audit log.`
}

/** "Hal escalated this alert at 11:02:29.", or "3 decisions on this alert — latest: Hal escalated …". */
export function decisionsWords (count, latestWords) {
    return count > 1 ? `${count} decisions on this alert — latest: ${latestWords}` : latestWords
}

/**
 * The words for screen readers (an aria-live region), paced: the first news of a quiet moment
 * is said at once; what comes within SUMMARY_GAP_MS is said together when it ends
 * ("5 new alerts — latest: …"). `say(text)` sets the region's text; `clock` gives now(),
 * setTimeout and clearTimeout (the page's own by default); `wordsOf(count, latestWords)` words
 * the news (newAlertsWords by default; decisionsWords for the decisions on the alert open).
 */
export class LiveSummary {
    constructor (say, clock, wordsOf) {
        this.say = say
        this.clock = clock || { now: () => performance.now(), setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (t) => clearTimeout(t) }
        this.wordsOf = wordsOf || newAlertsWords
        this.lastSaidMs = -Infinity
        this.count = 0
        this.latest = ''
        this.timer = null
    }

    /** `count` new alerts came, the newest worded `latestWords`. */
    add (count, latestWords) {
        if (count <= 0) return
        this.count += count
        this.latest = latestWords
        if (this.timer !== null) return
        const waitMs = this.lastSaidMs + SUMMARY_GAP_MS - this.clock.now()
        if (waitMs <= 0) return this.flush()
        this.timer = this.clock.setTimeout(() => { this.timer = null; this.flush() }, waitMs)
    }

    flush () {
        if (!this.count) return
        this.lastSaidMs = this.clock.now()
        const text = this.wordsOf(this.count, this.latest)
        this.count = 0
        this.say(text)
    }

    /** What waits to be said is no longer true (another alert was opened): it is not said. */
    drop () {
        this.close()
        this.count = 0
        this.latest = ''
    }

    close () {
        if (this.timer !== null) this.clock.clearTimeout(this.timer)
        this.timer = null
    }
}

/**
 * Who made a decision, as the console says it: "Hal", or "Hal (another console)" when it bears
 * the name this console's own actions are recorded under (`ownName`) but this console did not
 * send it (two operators typed the same name, or one is signed in at two desks): "Hal
 * escalated this alert" would otherwise read as the operator's own decision. Names are
 * compared as a person would, ignoring case and surrounding spaces.
 */
export function deciderWords (operator, ownName) {
    const same = (a) => String(a || '').trim().toLowerCase()
    return ownName && same(operator) === same(ownName) ? `${operator} (another console)` : String(operator)
}
