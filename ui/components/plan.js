// Site plan geometry: a local east-north frame around an origin (metres), fitted into an SVG
// view box. The frame is flat, scaled by the WGS84 ellipsoid's radii at the origin's latitude:
// over a few km it is good to well under a metre at any latitude (a fixed metres-per-degree
// was 0.9 % short at Tromsø), and longitudes are taken across the 180° meridian the short way.

const RAD = Math.PI / 180
const WGS84_A = 6378137
const WGS84_E2 = 0.00669437999014

/** Metres per degree of latitude and of longitude at a latitude (WGS84 meridian and normal radii). */
export function metresPerDeg (latDeg) {
    const s = Math.sin(latDeg * RAD)
    const w = 1 - WGS84_E2 * s * s
    return { lat: WGS84_A * (1 - WGS84_E2) / Math.pow(w, 1.5) * RAD, lon: WGS84_A / Math.sqrt(w) * Math.cos(latDeg * RAD) * RAD }
}

/** a − b in degrees of longitude, the short way round, in [−180, 180). */
export function lonDiff (a, b) {
    return ((((a - b + 180) % 360) + 360) % 360) - 180
}

/** A longitude in [−180, 180). */
function wrapLon (lon) {
    return lonDiff(lon, 0)
}

export function toLocal (origin, lat, lon) {
    const m = metresPerDeg(origin.lat)
    return { x: lonDiff(lon, origin.lon) * m.lon, y: (lat - origin.lat) * m.lat }
}

export function fromLocal (origin, x, y) {
    const m = metresPerDeg(origin.lat)
    return { lat: origin.lat + y / m.lat, lon: wrapLon(origin.lon + x / m.lon) }
}

/** Point at `distanceM` along a bearing (degrees clockwise from north) from a local point. */
export function along (p, bearingDeg, distanceM) {
    const b = bearingDeg * Math.PI / 180
    return { x: p.x + Math.sin(b) * distanceM, y: p.y + Math.cos(b) * distanceM }
}

/**
 * Builds a plan: points {id, kind, lat, lon, ...} in local metres, a view box with margins,
 * and a function from local metres to SVG coordinates (y up on screen = north).
 */
export function buildPlan ({ origin, points, minSpanM = 120, width = 400, height = 300 }) {
    const valid = points.filter(p => Number.isFinite(p.lat) && Number.isFinite(p.lon))
    const o = origin && Number.isFinite(origin.lat) && Number.isFinite(origin.lon)
        ? origin
        : valid.length
            // the mean longitude taken from the first point's, so a site across 180° is not centred on 0°
            ? { lat: valid.reduce((s, p) => s + p.lat, 0) / valid.length, lon: wrapLon(valid[0].lon + valid.reduce((s, p) => s + lonDiff(p.lon, valid[0].lon), 0) / valid.length) }
            : null
    if (!o) return null
    const local = valid.map(p => ({ ...p, ...toLocal(o, p.lat, p.lon) }))
    const r = local.map(p => p.radiusM || 0)
    // fit what is drawn; the origin only matters when nothing is
    const xs = local.length ? local.flatMap((p, i) => [p.x - r[i], p.x + r[i]]) : [0]
    const ys = local.length ? local.flatMap((p, i) => [p.y - r[i], p.y + r[i]]) : [0]
    let minX = Math.min(...xs)
    let maxX = Math.max(...xs)
    let minY = Math.min(...ys)
    let maxY = Math.max(...ys)
    // keep the aspect ratio of the drawing and a minimum span so a lone sensor is not a dot in a void
    const spanX = Math.max(maxX - minX, minSpanM)
    const spanY = Math.max(maxY - minY, minSpanM * height / width)
    const scale = Math.min(width / spanX, height / spanY) / 1.25
    const cx = (minX + maxX) / 2
    const cy = (minY + maxY) / 2
    const toSvg = (x, y) => ({ x: width / 2 + (x - cx) * scale, y: height / 2 - (y - cy) * scale })
    minX = cx - width / 2 / scale
    maxX = cx + width / 2 / scale
    minY = cy - height / 2 / scale
    maxY = cy + height / 2 / scale
    return { origin: o, points: local, scale, toSvg, width, height, bounds: { minX, maxX, minY, maxY } }
}

/** A round scale-bar length (metres) about a fifth of the width. */
export function scaleBarM (plan) {
    const target = plan.width / 5 / plan.scale
    const steps = [1, 2, 5]
    let best = 1
    for (let e = 0; e < 6; e++) {
        for (const s of steps) {
            const v = s * Math.pow(10, e)
            if (v <= target) best = v
        }
    }
    return best
}

function lon2tile (lon, z) { return (lon + 180) / 360 * Math.pow(2, z) }
function lat2tile (lat, z) { const r = lat * Math.PI / 180; return (1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * Math.pow(2, z) }
function tile2lon (x, z) { return x / Math.pow(2, z) * 360 - 180 }
function tile2lat (y, z) { const n = Math.PI - 2 * Math.PI * y / Math.pow(2, z); return 180 / Math.PI * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n))) }

/** Slippy-map tiles covering the plan, placed in SVG coordinates (at most 36 tiles). */
export function planTiles (plan, urlTemplate) {
    if (!plan || !urlTemplate) return []
    const sw = fromLocal(plan.origin, plan.bounds.minX, plan.bounds.minY)
    const ne = fromLocal(plan.origin, plan.bounds.maxX, plan.bounds.maxY)
    // across 180° the east edge's longitude is counted on past 180, and tile columns past the
    // last wrap round to the first
    ne.lon = sw.lon + ((lonDiff(ne.lon, sw.lon) + 360) % 360)
    let z = 19
    for (; z > 1; z--) {
        const nx = Math.floor(lon2tile(ne.lon, z)) - Math.floor(lon2tile(sw.lon, z)) + 1
        const ny = Math.floor(lat2tile(sw.lat, z)) - Math.floor(lat2tile(ne.lat, z)) + 1
        if (nx * ny <= 36) break
    }
    const tiles = []
    for (let tx = Math.floor(lon2tile(sw.lon, z)); tx <= Math.floor(lon2tile(ne.lon, z)); tx++) {
        for (let ty = Math.floor(lat2tile(ne.lat, z)); ty <= Math.floor(lat2tile(sw.lat, z)); ty++) {
            const nw = toLocal(plan.origin, tile2lat(ty, z), tile2lon(tx, z))
            const se = toLocal(plan.origin, tile2lat(ty + 1, z), tile2lon(tx + 1, z))
            const a = plan.toSvg(nw.x, nw.y)
            const b = plan.toSvg(se.x, se.y)
            tiles.push({
                key: `${z}/${tx}/${ty}`,
                href: urlTemplate.replace('{z}', z).replace('{x}', ((tx % 2 ** z) + 2 ** z) % 2 ** z).replace('{y}', ty),
                x: a.x,
                y: a.y,
                w: b.x - a.x,
                h: b.y - a.y
            })
        }
    }
    return tiles
}

// Where a label may sit around its point, in order of preference: dx, dy of the text anchor
// from the point (SVG units, y down), and the text-anchor. Above/below are offset sideways
// so the text clears the marker.
const LABEL_SPOTS = {
    right: [9, 4, 'start'],
    left: [-9, 4, 'end'],
    aboveRight: [6, -11, 'start'],
    aboveLeft: [-6, -11, 'end'],
    belowRight: [6, 19, 'start'],
    belowLeft: [-6, 19, 'end']
}
const SPOT_ORDER = ['right', 'left', 'aboveRight', 'belowRight', 'aboveLeft', 'belowLeft']

function overlapArea (a, b) {
    const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)
    const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0)
    return w > 0 && h > 0 ? w * h : 0
}

/**
 * The box a label's text covers, estimated from its length: about 0.62 em per character
 * (0.70 in bold), a little wider than DejaVu Sans and Liberation Sans set it, which is enough
 * to keep neighbours apart without measuring the DOM. label: { x, y, anchor, text, bold }.
 */
export function labelBox ({ x, y, anchor, text, bold }, fontPx = 11) {
    const w = String(text).length * fontPx * (bold ? 0.70 : 0.62)
    const x0 = anchor === 'end' ? x - w : x
    return { x0, x1: x0 + w, y0: y - fontPx * 0.8, y1: y + fontPx * 0.25 }
}

/**
 * Places the plan's labels so that they overlap neither each other nor the markers and stay
 * inside the view: each label, in the given order (most important first), takes the first
 * free spot around its point, else the one that overlaps least.
 *
 * labels: [{ key, x, y, text, bold?, prefer? }] (x, y: the point in SVG units; prefer: spot
 * names tried first). markers: [{ x, y, r }]; obstacles: other boxes to keep clear
 * [{ x0, x1, y0, y1 }] (the scale bar, the north arrow). Returns [{ key, text, bold, x, y, anchor, cls }]
 * (cls: the label's own class, passed through, e.g. for an offline camera).
 */
export function placeLabels (labels, { width, height, markers = [], obstacles = [], fontPx = 11 }) {
    const taken = [...markers.map(m => ({ x0: m.x - m.r, x1: m.x + m.r, y0: m.y - m.r, y1: m.y + m.r })), ...obstacles]
    const view = { x0: 0, x1: width, y0: 0, y1: height }
    const out = []
    for (const l of labels) {
        const order = [...(l.prefer || []), ...SPOT_ORDER.filter(s => !(l.prefer || []).includes(s))]
        let best = null
        for (const name of order) {
            const [dx, dy, anchor] = LABEL_SPOTS[name]
            const spot = { x: l.x + dx, y: l.y + dy, anchor }
            const box = labelBox({ ...spot, text: l.text, bold: l.bold }, fontPx)
            const outside = (box.x1 - box.x0) * (box.y1 - box.y0) - overlapArea(box, view)
            const cost = taken.reduce((s, t) => s + overlapArea(box, t), 0) + outside * 2
            if (!best || cost < best.cost) best = { cost, box, ...spot }
            if (cost === 0) break
        }
        taken.push(best.box)
        out.push({ key: l.key, text: l.text, bold: !!l.bold, x: best.x, y: best.y, anchor: best.anchor, ...(l.cls ? { cls: l.cls } : {}) })
    }
    return out
}
