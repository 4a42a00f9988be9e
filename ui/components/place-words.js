// Where an alert is, as an operator needs it: distance and direction from the nearest place the
// console knows (a sensor or a camera, by name), with an uncertainty that can be believed.
// Coordinates are for a tooltip and a "copy" button only. Plain functions: tested in Node.
import { toLocal } from './plan.js'

/**
 * No place is shown better than this. A sound is not located to the metre in a street: the
 * sensors' own positions are surveyed to a metre or two, façades echo it, wind and temperature
 * change the speed of sound, and its height is not known. The localizer's figure is its
 * statistical error within its own model, which leaves all that out (docs/operators.md).
 */
export const PLACE_FLOOR_M = 5

/**
 * A position's error as shown: never under PLACE_FLOOR_M, rounded up to a round step (5 m up
 * to 50 m, 10 m up to 200 m, 50 m up to 1 km, then 100 m); null when unknown.
 */
export function believableErrorM (errorM) {
    if (typeof errorM !== 'number' || !Number.isFinite(errorM) || errorM < 0) return null
    const e = Math.max(errorM, PLACE_FLOOR_M)
    const step = e <= 50 ? 5 : e <= 200 ? 10 : e <= 1000 ? 50 : 100
    // the small tolerance keeps 10.000000001 (a float from a sum) at 10
    return Math.ceil(e / step - 1e-9) * step
}

// A number and its unit never part at the end of a line ("±5" on one, "m)" on the next).
const NBSP = '\u00a0'

const COMPASS = ['north', 'north-east', 'east', 'south-east', 'south', 'south-west', 'west', 'north-west']

/** The nearest of eight compass words for a bearing (degrees clockwise from north). */
export function compassWord (bearingDeg) {
    const b = ((bearingDeg % 360) + 360) % 360
    return COMPASS[Math.round(b / 45) % 8]
}

/** A distance as people say it: 5 m steps under 100 m, 10 m steps under 1 km, then km (number and unit joined by a no-break space). */
export function distanceWords (m) {
    if (m < 97.5) return `${Math.max(5, Math.round(m / 5) * 5)}${NBSP}m`
    const tens = Math.round(m / 10) * 10
    return tens < 1000 ? `${tens}${NBSP}m` : `${(m / 1000).toFixed(1)}${NBSP}km`
}

/**
 * The landmark (sensor or camera: { id, name, lat, lon }) nearest to a point { lat, lon }:
 * { name, distanceM, bearingDeg } (bearing from the landmark to the point), or null.
 */
export function nearestLandmark (point, landmarks) {
    let best = null
    for (const l of landmarks || []) {
        if (!l || !Number.isFinite(l.lat) || !Number.isFinite(l.lon)) continue
        const d = toLocal(l, point.lat, point.lon)
        const distanceM = Math.hypot(d.x, d.y)
        if (!best || distanceM < best.distanceM) best = { name: l.name || l.id, distanceM, bearingDeg: Math.atan2(d.x, d.y) * 180 / Math.PI }
    }
    return best
}

/**
 * The place of an alert for the console: { text, tip, coords }. `site` is the console's
 * { sensors, cameras } with names and positions. `coords` ("45.43970, 4.38710", latitude then
 * longitude) is there only when the alert has a position.
 *   "25 m north-east of Crossroads north pole (±10 m)", "at Crossroads south (±5 m)",
 *   "north-east of Crossroads north-west, distance not known", "place not known".
 */
export function placeWords (alert, site = {}) {
    const loc = alert && alert.location
    const p = loc && loc.position
    if (p && Number.isFinite(p.lat) && Number.isFinite(p.lon)) {
        const errM = believableErrorM(p.errorM)
        const within = errM === null ? '' : ` (±${errM}${NBSP}m)`
        const coords = `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}`
        const near = nearestLandmark(p, [...(site.sensors || []), ...(site.cameras || [])])
        let text
        if (!near) text = `see the plan${within}: no sensor or camera position known`
        // closer than the place is known: a direction from it would mean nothing
        else if (near.distanceM <= (errM === null ? PLACE_FLOOR_M : errM)) text = `at ${near.name}${within}`
        else text = `${distanceWords(near.distanceM)} ${compassWord(near.bearingDeg)} of ${near.name}${within}`
        return { text, coords, tip: `${coords} (latitude, longitude)${errM === null ? '' : `, ±${errM} m`}` }
    }
    if (loc && Number.isFinite(loc.bearing)) {
        const sensor = (site.sensors || []).find(s => s && s.id === alert.sensor)
        const from = sensor ? sensor.name || sensor.id : alert.sensor
        const spread = Number.isFinite(loc.bearingStd) ? ` ±${Math.round(loc.bearingStd)}°` : ''
        return {
            text: `${compassWord(loc.bearing)} of ${from}, distance not known`,
            coords: null,
            tip: `Bearing ${Math.round(loc.bearing)}°${spread} from ${from} (clockwise from north)${typeof loc.reason === 'string' && loc.reason ? '; ' + loc.reason : ''}`
        }
    }
    return { text: 'place not known', coords: null, tip: loc && typeof loc.reason === 'string' ? loc.reason : '' }
}
