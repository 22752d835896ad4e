// Text helpers with .NET semantics the language promises: title case, diacritics table, word split.

/** TextInfo.ToTitleCase's word separators when PCase gets none: white space, control and format
 *  characters, punctuation and symbols (so `(second)` → `(Second)`, `john's` → `John'S`). */
const DEFAULT_SEPARATOR = /[\s\p{C}\p{P}\p{S}]/u;

export function pcase(source: string, separators: string | null): string {
  const isSep = separators === null ? (c: string) => DEFAULT_SEPARATOR.test(c) : (c: string) => separators.includes(c);
  let out = '';
  let atStart = true;
  // Input is lower-cased first: Entra turns all-caps words into title case (raw .NET keeps them).
  for (const c of source.toLowerCase()) {
    if (isSep(c)) {
      out += c;
      atStart = true;
    } else {
      out += atStart ? c.toUpperCase() : c;
      atStart = false;
    }
  }
  return out;
}

/** Microsoft's table for letters NFD cannot decompose or that map to two letters; the rest falls back
 *  to NFD with combining marks removed. */
const TABLE: Record<string, string> = {
  æ: 'ae',
  ǣ: 'ae',
  Æ: 'AE',
  Ǣ: 'AE',
  ø: 'oe',
  Ø: 'OE',
  œ: 'oe',
  Œ: 'OE',
  ß: 'ss',
  ł: 'l',
  Ł: 'L',
  ı: 'i',
  İ: 'I',
  đ: 'd',
  Đ: 'D',
};

export function normalizeDiacritics(s: string): string {
  let out = '';
  for (const c of s) {
    const t = TABLE[c];
    if (t !== undefined) out += t;
    else if (c.charCodeAt(0) < 0x80) out += c;
    else out += c.normalize('NFD').replace(/\p{M}+/gu, '');
  }
  // ø̄ and œ̄ (letter + combining macron) come out as oe: the letter is in the table, the macron is a mark.
  return out;
}

/** Word(s, n, delimiters): the nth (1-based) non-empty token split on any delimiter character. */
export function word(s: string, n: number, delimiters: string): string {
  if (n < 1) return '';
  let count = 0;
  let cur = '';
  for (const c of s) {
    if (delimiters.includes(c)) {
      if (cur) {
        if (++count === n) return cur;
        cur = '';
      }
    } else cur += c;
  }
  if (cur && ++count === n) return cur;
  return '';
}

/** Windows password-complexity special characters (RandomString's MinimumSpecialCharacters). */
export const SPECIALS = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/";
export const DIGITS = '0123456789';
export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
