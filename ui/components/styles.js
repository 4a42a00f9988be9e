// Styles of the alert-dashboard widget. Injected once at load because the dashboard loads
// only the widget's UMD file (a separate CSS file would never be fetched).

/** `hex` mixed with white, `pct` % of it: what color-mix() gives on a dark theme whose words are white. */
function mixedWithWhite (hex, pct) {
    const channel = (i) => Math.round((parseInt(hex.slice(i, i + 2), 16) * pct + 255 * (100 - pct)) / 100)
    return '#' + [1, 3, 5].map((i) => channel(i).toString(16).padStart(2, '0')).join('')
}

/** The palette (and the focus ring's deep orange), named once for the rules and for their fallbacks below. */
const palette = { red: '#d32f2f', amber: '#f9a825', green: '#2e7d32', blue: '#1565c0', grey: '#546e7a', purple: '#6a1b9a', focus: '#e65100' }

const css = `
.vigie-console { --vg-red: ${palette.red}; --vg-amber: ${palette.amber}; --vg-green: ${palette.green}; --vg-blue: ${palette.blue}; --vg-grey: ${palette.grey}; --vg-purple: ${palette.purple};
  /* keyboard focus: deep orange, unlike the blue of the alert open, 3:1 or more on light and dark themes */
  --vg-focus: ${palette.focus};
  /* the palette as marks and words drawn on the surface (a line's edge, the frame of the alert open, "offline",
     the camera's aim), not as the background of words: on a light theme the same colours, but for the amber (1.8:1
     on a line: a deep ochre, 4:1) and the red ("offline" 4.4:1 on Sepia's cream: a deeper red, 5:1); lightened
     on a dark one (below) */
  --vg-red-mark: #c62828; --vg-green-mark: var(--vg-green); --vg-blue-mark: var(--vg-blue); --vg-grey-mark: var(--vg-grey); --vg-purple-mark: var(--vg-purple);
  --vg-amber-mark: #a86b00;
  --vg-bg: rgba(127,127,127,0.08); --vg-line: rgba(127,127,127,0.35);
  /* the edge of a field to type in (the name, the note): 3:1 or more on light and dark themes (WCAG 1.4.11),
     where --vg-line, for dividers, is about 1.5:1; taken from the words' colour at each field */
  --vg-field-line: color-mix(in srgb, currentColor 55%, transparent);
  display: flex; flex-direction: column; gap: 8px; width: 100%; min-height: 70vh; font-size: 15px; line-height: 1.35; color: inherit; }
.vigie-console * { box-sizing: border-box; }
.vigie-top { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; }
.vigie-title { font-size: 18px; font-weight: 600; margin-right: auto; }
.vigie-counts span { display: inline-block; padding: 2px 8px; border-radius: 10px; background: var(--vg-bg); margin-left: 4px; font-size: 13px; }
.vigie-counts .vg-new { background: var(--vg-red); color: #fff; font-weight: 600; }
.vigie-sound { display: flex; align-items: center; gap: 6px; padding: 4px 10px; border-radius: 4px; border: 1px solid var(--vg-amber);
  background: rgba(249,168,37,0.15); color: inherit; font: inherit; font-size: 14px; cursor: pointer; }
.vigie-sound .mdi { font-size: 18px; }
.vigie-operator { display: flex; align-items: center; gap: 6px; font-size: 14px; }
.vigie-operator input { padding: 4px 6px; border: 1px solid var(--vg-field-line); border-radius: 4px; width: 150px; color: inherit; background: transparent; }
.vigie-operator.vg-missing { order: -1; flex: 1 1 100%; flex-wrap: wrap; padding: 8px 12px; border-radius: 6px; border: 2px solid var(--vg-amber);
  background: rgba(249,168,37,0.18); font-size: 16px; font-weight: 600; }
.vigie-operator.vg-missing input { border-color: var(--vg-red-mark); box-shadow: 0 0 0 2px rgba(211,47,47,0.25); width: 220px; font-size: 16px; }
.vigie-operator .vg-hint { font-weight: 400; font-size: 14px; }
.vigie-banner { display: flex; align-items: center; gap: 12px; padding: 10px 14px; border-radius: 6px; background: var(--vg-red); color: #fff;
  font-size: 18px; font-weight: 600; cursor: pointer; animation: vg-pulse 1s ease-in-out infinite alternate; border: none; text-align: left; width: 100%; }
.vigie-banner .mdi { font-size: 26px; }
/* the pulse darkens the red (white text keeps its contrast), it never fades it */
@keyframes vg-pulse { from { background: var(--vg-red); } to { background: #a31515; } }
/* focused: a white ring inside the red and a focus ring outside it; the pulse holds still meanwhile */
.vigie-banner:focus-visible { outline: 3px solid #fff; outline-offset: -7px; box-shadow: 0 0 0 3px var(--vg-focus); animation-play-state: paused; }
.vigie-dropped { display: flex; align-items: center; gap: 12px; padding: 8px 14px; border-radius: 6px; border: 2px solid var(--vg-amber);
  background: rgba(249,168,37,0.18); font-size: 15px; font-weight: 600; }
.vigie-dropped .mdi { font-size: 22px; }
.vigie-dropped span:nth-child(2) { flex: 1 1 auto; }
.vigie-dropped button { padding: 4px 12px; border-radius: 4px; border: 1px solid currentColor; background: transparent; color: inherit; font: inherit; cursor: pointer; }
.vigie-sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.vigie-main { display: grid; grid-template-columns: minmax(320px, 30%) 1fr; gap: 12px; align-items: start; }
.vigie-queue-box { display: flex; flex-direction: column; gap: 6px; min-width: 0; }
.vigie-queue-head { height: 34px; flex: 0 0 34px; display: flex; align-items: center; font-size: 13px; }
.vigie-queue-head .vg-order { opacity: 0.7; padding-left: 2px; }
.vigie-news { display: flex; align-items: center; justify-content: center; gap: 8px; width: 100%; height: 100%; padding: 0 10px; border: none; border-radius: 6px;
  background: var(--vg-red); color: #fff; font: inherit; font-size: 15px; font-weight: 600; cursor: pointer; }
.vigie-news .mdi { font-size: 18px; }
.vigie-news:focus-visible { outline: 3px solid #fff; outline-offset: -6px; box-shadow: 0 0 0 3px var(--vg-focus); }
.vigie-news.vg-quiet:focus-visible { outline: 4px solid var(--vg-focus); outline-offset: 2px; box-shadow: none; }
.vigie-news.vg-quiet { background: var(--vg-bg); color: inherit; border: 1px dashed var(--vg-line); font-size: 13px; font-weight: 500; }
.vigie-queue { display: flex; flex-direction: column; gap: 6px; overflow-y: auto; max-height: 82vh; margin: 0; list-style: none; padding: 7px;
  /* a line scrolled into view by keyboard keeps its focus ring (4 px, offset 3 px) inside the queue's edges */
  scroll-padding-block: 8px; }
.vigie-item { display: grid; grid-template-columns: 40px 1fr auto; gap: 2px 10px; align-items: center; padding: 8px 10px; border-radius: 6px;
  border: 1px solid var(--vg-line); border-left: 6px solid var(--vg-grey-mark); background: var(--vg-bg); cursor: pointer; text-align: left; width: 100%; color: inherit; font: inherit; }
/* the keyboard's place (thick, offset, orange) and the alert open (blue edge, tinted, a blue stripe inside the
   state's edge, aria-current) look nothing alike, and a row can be both. The queue's padding keeps the ring unclipped. */
.vigie-item:focus-visible { outline: 4px solid var(--vg-focus); outline-offset: 3px; }
.vigie-item.vg-state-new { border-left-color: var(--vg-red-mark); }
.vigie-item.vg-state-seen { border-left-color: var(--vg-amber-mark); }
/* handled lines are faded by their words' colour, not by opacity: opacity faded the badges too (white on a
   paled green or red, under 4.5:1). The words stay at 4.5:1 or more, the badges keep their colours. */
.vigie-item.vg-state-confirmed { border-left-color: var(--vg-green-mark); color: color-mix(in srgb, currentColor 85%, transparent); }
.vigie-item.vg-state-escalated { border-left-color: var(--vg-purple-mark); color: color-mix(in srgb, currentColor 85%, transparent); }
.vigie-item.vg-state-dismissed { color: color-mix(in srgb, currentColor 70%, transparent); }
.vigie-item.vg-state-dismissed .vg-meta { color: inherit; }
.vigie-item.vg-removed { opacity: 0.45; border-style: dashed; border-left-style: solid; cursor: not-allowed; }
.vg-badge.vg-removed-badge { background: transparent; color: inherit; border: 1px solid var(--vg-line); font-weight: 500; }
.vigie-item.vg-selected { border-color: var(--vg-blue-mark); border-width: 2px 2px 2px 6px; padding: 7px 9px 7px 10px;
  background: rgba(21,101,192,0.16); box-shadow: inset 5px 0 0 var(--vg-blue-mark); }
.vigie-item.vg-flash { animation: vg-flash 0.6s ease-in-out 6 alternate; }
@keyframes vg-flash { from { background: rgba(211,47,47,0.45); } to { background: var(--vg-bg); } }
.vigie-item .vg-icon { grid-row: span 2; font-size: 30px; text-align: center; }
.vigie-item .vg-label { font-weight: 600; font-size: 16px; }
.vigie-item .vg-meta { font-size: 13px; color: color-mix(in srgb, currentColor 85%, transparent); grid-column: 2 / 4; }
.vigie-item .vg-when { font-size: 13px; text-align: right; white-space: nowrap; }
.vg-badge { display: inline-block; padding: 1px 7px; border-radius: 9px; font-size: 12px; font-weight: 600; background: var(--vg-grey); color: #fff; margin-left: 6px; vertical-align: middle; }
.vg-badge.vg-new { background: var(--vg-red); } .vg-badge.vg-seen { background: var(--vg-amber); color: #222; }
.vg-badge.vg-confirmed { background: var(--vg-green); } .vg-badge.vg-escalated { background: var(--vg-purple); }
.vg-badge.vg-cam-failed { background: var(--vg-red); } .vg-badge.vg-cam-proposed, .vg-badge.vg-cam-waiting { background: var(--vg-amber); color: #222; }
.vg-badge.vg-cam-on-target { background: var(--vg-green); } .vg-badge.vg-cam-moving { background: var(--vg-blue); }
.vg-badge.vg-cam-unavailable { background: var(--vg-amber); color: #222; }
.vg-badge.vg-cam-offline { background: var(--vg-red); }
.vg-offline-note { color: var(--vg-red-mark); font-weight: 600; }
.vg-badge.vg-clock { background: transparent; color: inherit; border: 1px solid var(--vg-amber); font-weight: 500; }
.vg-clock-note { margin: 4px 0 0; font-size: 13px; border-left: 3px solid var(--vg-amber); padding-left: 8px; }
.vigie-empty { padding: 24px; text-align: center; opacity: 0.7; border: 1px dashed var(--vg-line); border-radius: 6px; }
.vigie-detail { display: grid; grid-template-columns: minmax(0, 3fr) minmax(240px, 2fr); grid-template-areas: 'head head' 'facts facts' 'watch side' 'rest side'; grid-template-rows: auto auto auto 1fr; gap: 10px; min-width: 0; align-items: start; }
.vigie-head { grid-area: head; display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 16px; }
.vigie-head h3 { margin: 0; font-size: 22px; }
.vigie-head .mdi { font-size: 26px; }
.vigie-facts { grid-area: facts; display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); grid-auto-flow: row dense; gap: 4px 14px; font-size: 14px; margin: 0; }
.vigie-facts > .vg-wide { grid-column: 1 / -1; }
.vigie-facts dt { font-size: 12px; opacity: 0.7; margin: 0; } .vigie-facts dd { margin: 0 0 4px 0; font-weight: 500; }
.vigie-facts .vg-copy { display: inline-flex; align-items: center; gap: 4px; margin-top: 2px; padding: 1px 6px; border: 1px solid var(--vg-line); border-radius: 4px;
  background: transparent; color: inherit; font: inherit; font-size: 12px; font-weight: 400; cursor: pointer; }
.vigie-facts .vg-coords { display: block; font-size: 12px; font-weight: 400; user-select: all; }
/* the picture, the decision bar and the history: the bar stays in view at the window's bottom edge */
.vigie-watch { grid-area: watch; display: flex; flex-direction: column; gap: 10px; min-width: 0; }
.vigie-video { position: relative; background: #111; border-radius: 6px; overflow: hidden; aspect-ratio: 16 / 9; display: flex; align-items: center; justify-content: center; color: #ddd; }
.vigie-video video, .vigie-video img { width: 100%; height: 100%; object-fit: contain; display: block; background: #111; }
.vigie-video .vg-mode { position: absolute; top: 6px; left: 6px; background: rgba(0,0,0,0.6); color: #fff; font-size: 12px; padding: 2px 8px; border-radius: 4px; }
.vigie-video .vg-live { background: var(--vg-red); }
.vigie-video.vg-stale video, .vigie-video.vg-stale img { opacity: 0.45; filter: grayscale(1); }
.vigie-video .vg-trouble { position: absolute; left: 50%; top: 50%; transform: translate(-50%, -50%); max-width: 85%; text-align: center;
  background: rgba(0,0,0,0.75); color: #fff; font-size: 17px; font-weight: 600; padding: 10px 16px; border-radius: 6px; border-left: 6px solid var(--vg-amber); }
.vigie-side { grid-area: side; display: flex; flex-direction: column; gap: 10px; min-width: 0; }
.vigie-plan { width: 100%; aspect-ratio: 4 / 3; border: 1px solid var(--vg-line); border-radius: 6px; background: rgba(127,127,127,0.06); }
/* the map's tiles are light whatever the theme: the plan's words, scale bar and north arrow keep a halo of
   the surface's colour, so that they read on a tile as on the bare plan (white words on a dark theme) */
.vigie-plan { --vg-halo: rgb(var(--v-theme-surface, 255, 255, 255)); }
.vigie-plan text { font-size: 11px; fill: currentColor; }
.vigie-plan text, .vigie-plan .vg-plan-north { paint-order: stroke; stroke: var(--vg-halo); stroke-width: 3px; stroke-linejoin: round; }
.vigie-plan .vg-plan-halo { stroke: var(--vg-halo); }
/* the camera's aim (dashed) and the bearing heard, over their halos: the ochre and the red read on white, the amber
   and the lightened red on a dark theme's halo */
.vigie-plan .vg-plan-aim { stroke: var(--vg-amber-mark); }
.vigie-plan .vg-plan-bearing { stroke: var(--vg-red-mark); }
.vigie-plan text.vg-plan-offline { fill: var(--vg-red-mark); }
.vigie-snapshot { max-width: 100%; max-height: 200px; width: auto; align-self: flex-start; border-radius: 6px; border: 1px solid var(--vg-line); display: block; }
.vigie-snapshot-box { margin: 0; display: flex; flex-direction: column; gap: 2px; }
.vigie-snapshot-box figcaption { font-size: 12px; opacity: 0.7; }
.vigie-snapshot-gone { margin: 0; max-width: 260px; padding: 8px 10px; font-size: 12px; border: 1px dashed var(--vg-line); border-radius: 6px; opacity: 0.85; }
/* bottom -1px: held at the edge, the bar is not wholly in view, which tells the console it covers something (vg-stuck) */
.vigie-actions { position: sticky; bottom: -1px; z-index: 3; display: flex; flex-wrap: wrap; gap: 8px; align-items: stretch; padding: 4px 0 5px;
  background: rgb(var(--v-theme-surface, 255, 255, 255)); }
.vigie-actions.vg-stuck { box-shadow: 0 -8px 8px -6px rgba(0, 0, 0, 0.35); }
/* the browser's grey placeholder is about 2.3:1: the words' own colour, faded, reads at 4.5:1 or more */
.vigie-console input::placeholder, .vigie-console textarea::placeholder { color: color-mix(in srgb, currentColor 72%, transparent); opacity: 1; }
.vigie-actions textarea { flex: 1 1 140px; min-height: 44px; padding: 6px 8px; border: 1px solid var(--vg-field-line); border-radius: 4px; color: inherit; background: transparent; font: inherit; resize: vertical; }
.vigie-btn { min-height: 44px; min-width: 110px; padding: 6px 14px; border-radius: 6px; border: none; font-size: 16px; font-weight: 600; color: #fff; cursor: pointer; }
/* aria-disabled (not disabled) while an answer is awaited: a button pressed by keyboard keeps the focus */
.vigie-btn:disabled, .vigie-btn[aria-disabled=true] { opacity: 0.45; cursor: not-allowed; }
.vigie-btn:focus-visible { outline: 4px solid var(--vg-focus); outline-offset: 2px; }
/* every other field and button of the console (the name, the note, copy coordinates, allow sound, acknowledge):
   the same orange ring as the decisions, not the browser's thin dark one (lost on a dark theme) */
.vigie-console input:focus-visible, .vigie-console textarea:focus-visible, .vigie-sound:focus-visible, .vigie-facts .vg-copy:focus-visible,
.vigie-dropped button:focus-visible { outline: 3px solid var(--vg-focus); outline-offset: 2px; }
.vigie-btn.vg-confirm { background: var(--vg-green); } .vigie-btn.vg-dismiss { background: var(--vg-grey); }
.vigie-btn.vg-escalate { background: var(--vg-purple); } .vigie-btn.vg-move { background: var(--vg-amber); color: #222; }
.vigie-actions .vigie-error.vg-inline, .vigie-actions .vigie-notice.vg-inline, .vigie-actions .vigie-move-end.vg-inline { flex: 1 1 100%; }
/* a camera request that moved no camera: no fault of the operator, something to act on */
.vigie-move-end { padding: 6px 10px; border-radius: 4px; font-size: 14px; border: 1px solid var(--vg-amber); border-left-width: 6px; background: rgba(249,168,37,0.14); }
.vigie-ask { flex: 1 1 100%; display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; padding: 10px 12px; border-radius: 6px;
  border: 2px solid var(--vg-amber); background: rgba(249,168,37,0.16); font-size: 16px; font-weight: 600; }
.vigie-ask .mdi { font-size: 24px; }
.vigie-ask .vg-ask-text { flex: 1 1 280px; }
/* the buttons wrap within the question rather than run past its edge (a long name: "Keep the decision of Hal (another console)") */
.vigie-ask .vg-ask-buttons { display: flex; flex-wrap: wrap; gap: 8px; flex: 0 1 auto; min-width: 0; max-width: 100%; margin-left: auto; }
.vigie-btn.vg-cancel { background: transparent; color: inherit; border: 1px solid var(--vg-line); }
.vigie-none { display: block; padding: 24px; border: 1px dashed var(--vg-line); border-radius: 6px; opacity: 0.8; }
.vigie-none p { margin: 0; }
.vigie-history { font-size: 13px; opacity: 0.85; margin: 0; padding-left: 18px; }
.vigie-error { color: #fff; background: var(--vg-red); padding: 6px 10px; border-radius: 4px; font-size: 14px; }
.vigie-notice { padding: 6px 10px; border-radius: 4px; font-size: 14px; border: 1px solid var(--vg-green); background: rgba(46,125,50,0.12); }
@media (max-width: 1100px) {
  .vigie-main { grid-template-columns: 1fr; }
  /* the alert starts below the queue, often below the fold: a bar sticky in it would be out of view there.
     Fixed to the window's bottom edge instead; the console sets its left and width to its own, and leaves
     room under its end (fitVideo). */
  .vigie-actions { position: fixed; bottom: 0; left: 0; right: auto; width: 100%; z-index: 5; padding: 6px 8px;
    box-shadow: 0 -8px 8px -6px rgba(0, 0, 0, 0.35); }
  .vigie-queue { max-height: 34vh; }
  .vigie-video { max-height: 56vh; }
  .vigie-detail { grid-template-columns: 1fr; grid-template-areas: 'head' 'facts' 'watch' 'side'; grid-template-rows: none; }
  .vigie-side { display: grid; grid-template-columns: 1fr 1fr; align-items: start; }
}
@media (max-width: 600px) { .vigie-side { grid-template-columns: 1fr; } }
/* A short window (1366x768 at 200 % zoom, a small laptop under the browser's toolbars): the bar is one
   row, the note beside the buttons, so that the queue and the picture keep most of the height. The
   buttons keep their words (their names for screen readers) and stay 36 px high (touch targets). The
   note grows when focused, for typing; what the bar says (a question, an error) stays, in smaller type. */
@media (max-height: 520px) {
  .vigie-actions { flex-wrap: wrap; gap: 6px; padding-top: 4px; padding-bottom: 4px; }
  .vigie-actions textarea { flex: 1 1 120px; min-width: 120px; min-height: 36px; height: 36px; padding: 6px 8px; font-size: 14px; resize: none; }
  .vigie-actions textarea:focus { height: 64px; }
  /* the hint on one line, cut short, not a second line half shown (the field's name stays whole) */
  .vigie-actions textarea::placeholder { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .vigie-actions .vigie-btn { flex: 0 0 auto; min-width: 0; min-height: 36px; padding: 2px 12px; font-size: 15px; }
  .vigie-actions .vigie-error, .vigie-actions .vigie-notice, .vigie-actions .vigie-move-end { padding: 3px 8px; font-size: 13px; }
  .vigie-ask { padding: 4px 8px; gap: 4px 8px; font-size: 14px; }
  .vigie-ask .mdi { font-size: 18px; }
}
/* A dark theme (Dashboard 2.0 marks its Vuetify theme dark when the page's background is dark; the console then
   has vg-dark): the marks and the focus ring are mixed with the theme's own text colour, toward which they gain
   contrast on its surface (the palette as is reads under 3:1 on near-black: #6a1b9a 1.5:1, #d32f2f 2.9:1). The
   red is mixed further, as "offline" is words (4.5:1) on surfaces as light as Nord's; the amber reads as is.
   A class, not light-dark(): browsers older than Chrome 123, Firefox 120 and Safari 17.5 have no light-dark()
   and kept the light theme's colours on a dark one; color-mix() is older (Chrome 111, Firefox 113, Safari 16.2). */
.vigie-console.vg-dark { --vg-on: rgb(var(--v-theme-on-surface, 255, 255, 255));
  --vg-focus: color-mix(in srgb, ${palette.focus} 70%, var(--vg-on));
  --vg-red-mark: color-mix(in srgb, var(--vg-red) 40%, var(--vg-on));
  --vg-amber-mark: var(--vg-amber);
  --vg-green-mark: color-mix(in srgb, var(--vg-green) 50%, var(--vg-on));
  --vg-blue-mark: color-mix(in srgb, var(--vg-blue) 50%, var(--vg-on));
  --vg-grey-mark: color-mix(in srgb, var(--vg-grey) 50%, var(--vg-on));
  --vg-purple-mark: color-mix(in srgb, var(--vg-purple) 50%, var(--vg-on)); }
/* A browser without color-mix() (older than Chrome 111, Firefox 113, Safari 16.2) would draw the fields to type in
   without edges (a border whose colour cannot be computed is not drawn), their hints in its own light grey, and, on a
   dark theme, the lines without their coloured edges, and the lines dealt with, and every line's details, no fainter
   than the rest: the fields' edges and hints take the words' colour (the hints in italics), the dark theme's marks
   are the same colours mixed with white beforehand (the theme's own text colour cannot be mixed in), and the faint
   words are the theme's text colour (Vuetify's on-surface, the words' colour in a Dashboard 2.0 group) made as
   transparent as color-mix() makes them. */
@supports not (color: color-mix(in srgb, red 50%, blue)) {
  .vigie-console { --vg-field-line: currentColor; }
  .vigie-item.vg-state-confirmed, .vigie-item.vg-state-escalated, .vigie-item .vg-meta { color: rgba(var(--v-theme-on-surface), 0.85); }
  .vigie-item.vg-state-dismissed { color: rgba(var(--v-theme-on-surface), 0.7); }
  .vigie-item.vg-state-confirmed .vg-meta, .vigie-item.vg-state-escalated .vg-meta { color: rgba(var(--v-theme-on-surface), 0.72); }
  .vigie-item.vg-state-dismissed .vg-meta { color: inherit; }
  .vigie-console input::placeholder, .vigie-console textarea::placeholder { color: inherit; font-style: italic; }
  .vigie-console.vg-dark { --vg-focus: ${mixedWithWhite(palette.focus, 70)};
    --vg-red-mark: ${mixedWithWhite(palette.red, 40)};
    --vg-green-mark: ${mixedWithWhite(palette.green, 50)};
    --vg-blue-mark: ${mixedWithWhite(palette.blue, 50)};
    --vg-grey-mark: ${mixedWithWhite(palette.grey, 50)};
    --vg-purple-mark: ${mixedWithWhite(palette.purple, 50)}; }
}
/* no pulse, no flash: a new alert's line is tinted instead while it would have flashed */
@media (prefers-reduced-motion: reduce) {
  .vigie-banner, .vigie-item.vg-flash { animation: none; }
  .vigie-item.vg-flash { background: rgba(211,47,47,0.22); }
}
`

if (typeof document !== 'undefined' && !document.getElementById('vigie-alert-dashboard-css')) {
    const el = document.createElement('style')
    el.id = 'vigie-alert-dashboard-css'
    el.textContent = css
    document.head.appendChild(el)
}

export default css
