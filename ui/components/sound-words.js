// What the console says of a detection's confidence and loudness, in words an operator can act
// on, with the technical figures for a tooltip. Plain functions: tested in Node (test/unit).

/**
 * Words for the classifier's score, highest first: the lowest score each word needs. The score
 * is how closely the sound matches what the classifier learned for its class, not the chance
 * that the event happened (a firework can match a gunshot well): docs/operators.md says so.
 */
// Not "sure" or "likely": with the shipped thresholds (0.9) every alert scores 90 % or more,
// and the shipped model still raises tens of false alarms an hour; the words describe the match.
export const CONFIDENCE_WORDS = [[0.9, 'strong match'], [0.6, 'fair match'], [0, 'weak match']]

/** Loudness words by how far the sound stood above the street's usual level (dB), loudest first. */
export const LOUDNESS_WORDS = [[30, 'very loud'], [20, 'loud'], [10, 'moderate'], [-Infinity, 'faint']]

// A number and its unit never part at the end of a line.
const NBSP = '\u00a0'

/** "−23" with a real minus sign, as the editor's level readings show it. */
function signed (db, digits = 0) {
    const t = Math.abs(db).toFixed(digits)
    return (db < 0 && Number(t) !== 0 ? '−' : '') + t
}

/**
 * { word, percent, text, tip } for a confidence 0…1 ("fair match", "72 %", "fair match (72 %)"), or
 * null when there is none. `labelWords` names the class in the tooltip ("gunshot").
 */
export function confidenceWords (confidence, labelWords = 'this class') {
    if (typeof confidence !== 'number' || !Number.isFinite(confidence)) return null
    // the word follows the percentage shown: never "fair match (90 %)" beside a "strong match (90 %)"
    const rounded = Math.round(Math.min(1, Math.max(0, confidence)) * 100)
    const word = CONFIDENCE_WORDS.find(([min]) => rounded >= min * 100)[1]
    const percent = rounded + NBSP + '%'
    return {
        word,
        percent,
        text: `${word} (${percent})`,
        tip: `The classifier's own score for ${labelWords}: ${percent}. It says how closely the sound matches what the classifier learned, not the chance that it happened: check the picture.`
    }
}

/**
 * How loud a detection was for an operator: how far its level stood above the street's usual
 * level at the sensor (level.dba − level.backgroundDba, both dB(A) re full scale, which alone
 * mean little: they depend on the microphone's gain). Returns { word, aboveDb, text, short, tip };
 * without a background figure, word and aboveDb are null and the text says it is not known.
 */
export function loudnessWords (level) {
    const l = level && typeof level === 'object' ? level : {}
    const dba = typeof l.dba === 'number' && Number.isFinite(l.dba) ? l.dba : null
    const bg = typeof l.backgroundDba === 'number' && Number.isFinite(l.backgroundDba) ? l.backgroundDba : null
    const measured = dba !== null
        ? `Loudest moment ${signed(dba, 1)} dB(A) re full scale at the microphone`
        : typeof l.dbfs === 'number' && Number.isFinite(l.dbfs) ? `Loudest moment ${signed(l.dbfs, 1)} dBFS at the microphone` : 'No level measured'
    if (dba === null || bg === null) {
        return {
            word: null,
            aboveDb: null,
            text: 'not known: this alert gives no street level to compare with',
            short: 'loudness not known',
            tip: `${measured}. Not a sound level meter reading: only the difference with the street's usual level says how loud it was, and this alert does not carry that level.`
        }
    }
    const aboveDb = Math.round(dba - bg)
    const word = LOUDNESS_WORDS.find(([min]) => aboveDb >= min)[1]
    return {
        word,
        aboveDb,
        text: aboveDb > 0 ? `${word} — ${aboveDb}${NBSP}dB above the street` : `${word} — no louder than the street`,
        short: word,
        tip: `${measured}; the street's usual level there ${signed(bg, 1)} dB(A) (exceeded 90 % of the last minute). Every 10 dB more sounds about twice as loud.`
    }
}
