// The order the store's indexes keep: UTF-8 bytes (SQLite BINARY, PostgreSQL "C"), i.e. code-point
// order. JavaScript's `<` compares UTF-16 units, which differs only where a surrogate pair (U+10000 and
// up) meets a unit in U+E000..U+FFFF; pages served from memory must page exactly like the SQL ones, so
// that case is corrected here.

/** -1, 0 or 1 as `a` sorts before, with or after `b` in code-point order. */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (D800–DFFF) stand for code points above every BMP unit: move them past E000–FFFF.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/**
 * First position in `arr` whose entry is not before (key, id) in (key, id) order; `keyAt(i)` and
 * `idAt(i)` read an entry's sort key and object id. With id '' it is the first entry of that key.
 */
export function lowerBound(n: number, keyAt: (i: number) => string, idAt: (i: number) => string, key: string, id: string): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((compareText(keyAt(mid), key) || compareText(idAt(mid), id)) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First position strictly after (key, id): where a keyset cursor resumes. */
export function upperBound(n: number, keyAt: (i: number) => string, idAt: (i: number) => string, key: string, id: string): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((compareText(keyAt(mid), key) || compareText(idAt(mid), id)) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
