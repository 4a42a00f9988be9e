// Times in the console: the browser's local time (the control room's), 24-hour with seconds, in
// the same words whatever the browser's language (an American-English browser would otherwise
// say "02:03:04 PM"). A time on another day than today carries its date, so that "06:14:05"
// never stands for yesterday's.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const pad2 = (n) => String(n).padStart(2, '0')
const hms = (d) => `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
const dayMonth = (d) => `${d.getDate()} ${MONTHS[d.getMonth()]}`

/**
 * `sec` (epoch seconds) as a clock time: "14:03:22" today, "28 Nov 14:03:22" on another day of
 * this year, "28 Nov 2025 14:03:22" in another year. `nowMs`: what "today" is (epoch ms).
 */
export function clockWords (sec, nowMs) {
    if (!Number.isFinite(sec)) return ''
    const d = new Date(sec * 1000)
    const now = new Date(Number.isFinite(nowMs) ? nowMs : Date.now())
    const sameYear = d.getFullYear() === now.getFullYear()
    if (sameYear && d.getMonth() === now.getMonth() && d.getDate() === now.getDate()) return hms(d)
    return `${dayMonth(d)}${sameYear ? '' : ' ' + d.getFullYear()} ${hms(d)}`
}

/** Always with the date: "28 Nov 2026 14:03:22". */
export function dateTimeWords (sec) {
    if (!Number.isFinite(sec)) return ''
    const d = new Date(sec * 1000)
    return `${dayMonth(d)} ${d.getFullYear()} ${hms(d)}`
}

/**
 * The local clock's offset from UTC at that time: "UTC+01:00", "UTC-05:00", "UTC". It tells
 * the two 02:30 of the night the clocks go back apart, and shows a browser set to another zone.
 */
export function utcOffsetWords (sec) {
    if (!Number.isFinite(sec)) return ''
    const minutes = -new Date(sec * 1000).getTimezoneOffset()
    if (minutes === 0) return 'UTC'
    const a = Math.abs(minutes)
    return `UTC${minutes > 0 ? '+' : '-'}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`
}
