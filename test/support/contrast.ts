/**
 * WCAG contrast of the console's colours as Chromium paints them, for the accessibility tests. The
 * in-page parts are strings, evaluated as is: the test runner's compiler wraps inner functions in a
 * helper the page does not have.
 */

/** WCAG contrast ratio of two CSS colours as computed: rgb(), or color(srgb …) as color-mix() computes. */
export function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const scale = c.startsWith('color(srgb') ? 1 : 255;
    const [r, g, bl] = (c.replace(/^color\(srgb/, '').match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
      const s = Number(v) / scale;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * The page's helpers: `parse` reads a computed colour (rgb(), rgba(), or color(srgb …) as color-mix()
 * and light-dark() compute), `paint(chain, 0, white, text)` the colour painted by the boxes of `chain`
 * (the backgrounds and opacities of every box, html first, over white) under or with `text`,
 * `ratio(a, b)` WCAG contrast of two painted colours, `wordsRatio(el)` that of an element's words on what is under them.
 */
const HELPERS = `
  const parse = (c) => {
    const srgb = /^color\\(srgb/.test(c);
    const m = (c.replace(/^color\\(srgb/, '').match(/[\\d.]+(e-?\\d+)?/g) || []).map(Number);
    const k = srgb ? 255 : 1;
    return { r: m[0] * k, g: m[1] * k, b: m[2] * k, a: m.length > 3 ? m[3] : 1 };
  };
  const over = (t, b) => ({ r: t.r * t.a + b.r * (1 - t.a), g: t.g * t.a + b.g * (1 - t.a), b: t.b * t.a + b.b * (1 - t.a), a: 1 });
  const mix = (b, y, o) => ({ r: b.r + (y.r - b.r) * o, g: b.g + (y.g - b.g) * o, b: b.b + (y.b - b.b) * o, a: 1 });
  // a box of opacity o: what it paints over what is under it, then mixed with that at o
  const paint = (chain, k, under, text) => {
    if (k === chain.length) return text ? over(text, under) : under;
    const s = getComputedStyle(chain[k]);
    return mix(under, paint(chain, k + 1, over(parse(s.backgroundColor), under), text), Number(s.opacity));
  };
  const white = { r: 255, g: 255, b: 255, a: 1 };
  const chainOf = (el) => { const chain = []; for (let e = el; e; e = e.parentElement) chain.unshift(e); return chain; };
  const lin = (v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
  const lum = (c) => 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
  const ratio = (a, b) => { const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x); return (hi + 0.05) / (lo + 0.05); };
  // the contrast of an element's own words, as painted, on what is painted under them
  const wordsRatio = (el) => { const chain = chainOf(el); return ratio(paint(chain, 0, white, parse(getComputedStyle(el).color)), paint(chain, 0, white, null)); };
`;

/**
 * In the page: each text under `selector` whose colour, as painted (the backgrounds and opacities of every
 * box it sits in, over white), reads under 4.5:1 on the colour painted under it.
 */
export const PAINTED_LOW_CONTRAST = `(selector) => {
  ${HELPERS}
  const out = [];
  for (const row of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent.trim()) continue;
      const el = n.parentElement;
      // the plan's words are SVG, painted by their fill: PAINTED_PLAN measures them
      if (el.closest('svg')) continue;
      const r = wordsRatio(el);
      if (r < 4.5) out.push((row.className.match(/vg-state-\\w+/) || [''])[0] + ': "' + n.textContent.trim() + '" at ' + r.toFixed(2) + ':1');
    }
  }
  return out;
}`;

/**
 * In the page: the marks that carry meaning, each with its contrast as painted and the least it needs
 * (WCAG 1.4.11: 3:1): the coloured edge of each queue line (on the line and on the queue around it), the
 * blue edge of the line open, and the colour of `focusedSelector`'s focus ring on what is around it.
 */
export const PAINTED_MARKS = `(focusedSelector) => {
  ${HELPERS}
  const out = [];
  const state = (row) => (row.className.match(/vg-state-\\w+/) || ['line'])[0] + (row.classList.contains('vg-selected') ? ' (open)' : '');
  for (const row of document.querySelectorAll('.vigie-item')) {
    const s = getComputedStyle(row);
    const inside = paint(chainOf(row), 0, white, null);
    const around = paint(chainOf(row.parentElement), 0, white, null);
    const edge = over(parse(s.borderLeftColor), around);
    out.push({ what: state(row) + ': its edge', ratio: Math.min(ratio(edge, inside), ratio(edge, around)), min: 3 });
    if (row.classList.contains('vg-selected')) out.push({ what: state(row) + ': its blue frame', ratio: ratio(over(parse(s.borderTopColor), around), around), min: 3 });
  }
  const focused = focusedSelector && document.querySelector(focusedSelector);
  if (focused) {
    const around = paint(chainOf(focused.parentElement), 0, white, null);
    out.push({ what: focusedSelector + ': its focus ring', ratio: ratio(over(parse(getComputedStyle(focused).outlineColor), around), around), min: 3 });
  }
  return out;
}`;

/**
 * In the page (async): each word and mark of the site plan with its contrast on what is painted under it:
 * its halo (an SVG stroke drawn under it, 2 px or wider) where it has one, else the map tile under it
 * (the tile image's mean colour, at its opacity, over the plan's background) or the plan's background.
 * Words need 4.5:1, the scale bar, the north arrow, the camera's aim and the bearing heard 3:1.
 */
export const PAINTED_PLAN = `async () => {
  ${HELPERS}
  const svg = document.querySelector('svg.vigie-plan');
  const ground = paint(chainOf(svg), 0, white, null);
  const tileColour = async (img) => {
    const bitmap = await createImageBitmap(await (await fetch(img.getAttribute('href'))).blob());
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    const d = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let j = 0; j < 3; j++) sum[j] += d[i + j];
    const n = d.length / 4;
    const o = Number(img.getAttribute('opacity') || 1) * Number(getComputedStyle(img).opacity);
    return over({ r: sum[0] / n, g: sum[1] / n, b: sum[2] / n, a: o }, ground);
  };
  const tiles = Array.from(svg.querySelectorAll('image'));
  const tileUnder = async (el) => {
    const b = el.getBoundingClientRect();
    const x = b.left + b.width / 2, y = b.top + b.height / 2;
    const t = tiles.find((i) => { const r = i.getBoundingClientRect(); return x >= r.left && x < r.right && y >= r.top && y < r.bottom; });
    return t ? tileColour(t) : ground;
  };
  const under = async (el) => {
    const s = getComputedStyle(el);
    const halo = s.stroke !== 'none' && parseFloat(s.strokeWidth) >= 2 && s.paintOrder.startsWith('stroke');
    const tile = await tileUnder(el);
    return halo ? over(parse(s.stroke), tile) : tile;
  };
  const out = [];
  for (const t of svg.querySelectorAll('text')) {
    const bg = await under(t);
    out.push({ what: 'plan: "' + t.textContent.trim() + '"', ratio: ratio(over(parse(getComputedStyle(t).fill), bg), bg), min: 4.5 });
  }
  // the scale bar (a halo is a wider line drawn under it) and the north arrow
  const bar = svg.querySelector('[data-test=plan-scale-bar]');
  const barHalo = svg.querySelector('[data-test=plan-scale-halo]');
  if (bar) {
    const tile = await tileUnder(bar);
    const bg = barHalo && getComputedStyle(barHalo).stroke !== 'none' ? over(parse(getComputedStyle(barHalo).stroke), tile) : tile;
    out.push({ what: 'plan: the scale bar', ratio: ratio(over(parse(getComputedStyle(bar).stroke), bg), bg), min: 3 });
  }
  const arrow = svg.querySelector('[data-test=plan-north]');
  if (arrow) {
    const bg = await under(arrow);
    out.push({ what: 'plan: the north arrow', ratio: ratio(over(parse(getComputedStyle(arrow).fill), bg), bg), min: 3 });
  }
  // the camera's aim (dashed) and the bearing heard, each on its halo where it has one (a wider line drawn under
  // it), else on the tile at its middle
  for (const [key, what] of [['aim', 'the camera\\'s aim'], ['bearing', 'the bearing heard']]) {
    const line = svg.querySelector('[data-test=plan-' + key + ']');
    const halo = svg.querySelector('[data-test=plan-' + key + '-halo]');
    if (!line) continue;
    const tile = await tileUnder(line);
    const bg = halo && getComputedStyle(halo).stroke !== 'none' ? over(parse(getComputedStyle(halo).stroke), tile) : tile;
    out.push({ what: 'plan: ' + what, ratio: ratio(over(parse(getComputedStyle(line).stroke), bg), bg), min: 3 });
  }
  return out;
}`;

/**
 * In the page: each field to type in under `selector` (the operator's name, the note) with the contrast
 * of its edge on what is around it (WCAG 1.4.11: 3:1) and of its placeholder on the field (4.5:1), as
 * painted.
 */
export const PAINTED_FIELDS = `(selector) => {
  ${HELPERS}
  const out = [];
  for (const field of document.querySelectorAll(selector)) {
    const s = getComputedStyle(field);
    const name = field.dataset.test || field.tagName.toLowerCase();
    const around = paint(chainOf(field.parentElement), 0, white, null);
    const inside = paint(chainOf(field), 0, white, null);
    // a border whose colour a browser cannot compute is not drawn at all (its style falls back to none)
    const drawn = s.borderTopStyle !== 'none' && parseFloat(s.borderTopWidth) > 0;
    out.push({ what: name + ': its edge' + (drawn ? '' : ' (not drawn)'), ratio: drawn ? ratio(over(parse(s.borderTopColor), around), around) : 0, min: 3 });
    const hint = getComputedStyle(field, '::placeholder');
    // a pseudo-element's opacity is not among its painted boxes: applied to the colour itself
    const hintColour = parse(hint.color);
    hintColour.a *= Number(hint.opacity || 1);
    if (field.placeholder) out.push({ what: name + ': its placeholder', ratio: ratio(over(hintColour, inside), inside), min: 4.5 });
  }
  return out;
}`;

/**
 * In the page: the contrast of each element's own words (its colour, as painted, on what is painted
 * under it), by selector: how faint a queue line's words are drawn. Undefined for a selector that
 * matches nothing.
 */
export const PAINTED_WORDS_RATIO = `(selectors) => {
  ${HELPERS}
  const out = {};
  for (const selector of selectors) {
    const el = document.querySelector(selector);
    if (el) out[selector] = wordsRatio(el);
  }
  return out;
}`;
