/**
 * Where JSON text breaks the grammar (RFC 8259), found by reading it: JSON.parse names the
 * position of some faults only ("Expected ',' or '}' … at position 7"), and for the most common
 * ones (a stray character, a trailing comma: "Unexpected token 'x', "…" is not valid JSON") it
 * quotes the text around the fault instead, which an error that must not quote the file cannot use.
 */

/** JSON's whitespace. */
function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/**
 * The offset of the first character of `text` that JSON's grammar does not allow there
 * (`text.length` when the text ends before the JSON is complete), or undefined when `text` is
 * valid JSON. Iterative: a deeply nested text does not overflow the stack.
 */
export function jsonFaultOffset(text: string): number | undefined {
  const n = text.length;
  let i = 0;
  /** The containers open: '{' or '['. */
  const open: string[] = [];
  const skipSpace = (): void => {
    while (i < n && isSpace(text[i])) i++;
  };
  /** A string from its opening quote at i; false at a fault (i on it). */
  const string = (): boolean => {
    i++;
    while (i < n) {
      const c = text[i];
      if (c === '"') {
        i++;
        return true;
      }
      if (c < ' ') return false;
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          for (let k = 2; k < 6; k++) {
            if (i + k >= n) {
              i = n;
              return false;
            }
            if (!/[0-9a-fA-F]/.test(text[i + k])) {
              i += k;
              return false;
            }
          }
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) {
          i += 1;
          return false;
        }
        i += 2;
        continue;
      }
      i++;
    }
    return false;
  };
  /** A number from i; false at a fault (i on it). */
  const number = (): boolean => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else if (isDigit(text[i])) while (isDigit(text[i])) i++;
    else return false;
    if (text[i] === '.') {
      i++;
      if (!isDigit(text[i])) return false;
      while (isDigit(text[i])) i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!isDigit(text[i])) return false;
      while (isDigit(text[i])) i++;
    }
    return true;
  };
  /** A value from i (whitespace skipped); false at a fault (i on it). Opens containers. */
  const value = (): boolean => {
    const c = text[i];
    if (c === '{' || c === '[') {
      open.push(c);
      i++;
      return true;
    }
    if (c === '"') return string();
    if (c === '-' || isDigit(c)) return number();
    for (const word of ['true', 'false', 'null']) {
      if (c !== word[0]) continue;
      for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) return false;
      return true;
    }
    return false;
  };
  /** What may come next: a value, or a member's name (after '{' or ','), or what ends an item. */
  let want: 'value' | 'name-or-end' | 'name' | 'value-or-end' | 'after' = 'value';
  for (;;) {
    skipSpace();
    if (i >= n) return want === 'after' && open.length === 0 ? undefined : n;
    const c = text[i];
    if (want === 'name-or-end' || want === 'name') {
      if (want === 'name-or-end' && c === '}') {
        open.pop();
        i++;
        want = 'after';
        continue;
      }
      if (c !== '"' || !string()) return i;
      skipSpace();
      if (i >= n) return n;
      if (text[i] !== ':') return i;
      i++;
      want = 'value';
      continue;
    }
    if (want === 'value-or-end' && c === ']') {
      open.pop();
      i++;
      want = 'after';
      continue;
    }
    if (want === 'value' || want === 'value-or-end') {
      const before = open.length;
      if (!value()) return i >= n ? n : i;
      if (open.length > before) want = c === '{' ? 'name-or-end' : 'value-or-end';
      else want = 'after';
      continue;
    }
    // After a value: the end of the text (checked above), a comma or the end of its container.
    const top = open[open.length - 1];
    if (top === undefined) return i;
    if (c === ',') {
      i++;
      want = top === '{' ? 'name' : 'value';
    } else if ((c === '}' && top === '{') || (c === ']' && top === '[')) {
      open.pop();
      i++;
    } else return i;
  }
}

/**
 * Where `text` breaks JSON's grammar: found by reading it (jsonFaultOffset), else the position
 * JSON.parse's message names ("… at position 7"); undefined when neither says.
 */
export function jsonFaultAt(text: string, parseMessage: string): number | undefined {
  const found = jsonFaultOffset(text);
  if (found !== undefined) return found;
  const named = /at position (\d+)/.exec(parseMessage);
  return named ? Number(named[1]) : undefined;
}

/** The line and column (both from 1) of character `offset` of `text`. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.min(offset, text.length));
  return { line: before.split('\n').length, column: before.length - before.lastIndexOf('\n') };
}
