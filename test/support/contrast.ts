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
 * `ratio(a, b)` WCAG contrast of two painted colours.
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
      const chain = chainOf(el);
      const r = ratio(paint(chain, 0, white, parse(getComputedStyle(el).color)), paint(chain, 0, white, null));
      if (r < 4.5) out.push((row.className.match(/vg-state-\\w+/) || [''])[0] + ': "' + n.textContent.trim() + '" at ' + r.toFixed(2) + ':1');
    }
  }
  return out;
}`;
