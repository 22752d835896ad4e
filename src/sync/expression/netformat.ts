// FormatDateTime's engine: .NET custom date/time format strings, both directions. Supported
// specifiers: yyyy yy y, MMMM MMM MM M, dddd ddd dd d, HH H hh h, mm m, ss s, f…fffffff, F…FFFFFFF,
// tt t, zzz zz z, K; '…' and "…" literals, \x escapes; every other character is a literal (so the
// `Z` of `yyyyMMddHHmmss.fZ` matches a literal Z, as in .NET).
import { evalError } from './ast.js';

interface Part {
  readonly spec: string; // '' for a literal
  readonly text: string;
}

const SPEC_CHARS = new Set(['y', 'M', 'd', 'H', 'h', 'm', 's', 'f', 'F', 't', 'z', 'K']);
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Format strings are bounded by the expression length; parts are cached per format text. */
const cache = new Map<string, Part[]>();

export function compileFormat(fmt: string): Part[] {
  const hit = cache.get(fmt);
  if (hit) return hit;
  const parts: Part[] = [];
  let i = 0;
  while (i < fmt.length) {
    const c = fmt[i]!;
    if (c === "'" || c === '"') {
      const end = fmt.indexOf(c, i + 1);
      if (end < 0) throw evalError(`FormatDateTime: unterminated quote in format '${fmt}'.`);
      parts.push({ spec: '', text: fmt.slice(i + 1, end) });
      i = end + 1;
    } else if (c === '\\' && i + 1 < fmt.length) {
      parts.push({ spec: '', text: fmt[i + 1]! });
      i += 2;
    } else if (c === '%' && i + 1 < fmt.length) {
      i++;
    } else if (SPEC_CHARS.has(c)) {
      let j = i;
      while (fmt[j] === c) j++;
      parts.push({ spec: c, text: fmt.slice(i, j) });
      i = j;
    } else {
      parts.push({ spec: '', text: c });
      i++;
    }
  }
  if (cache.size > 256) cache.clear();
  cache.set(fmt, parts);
  return parts;
}

/** Wall-clock fields as read from the input; `offset` in minutes when the input carried one. */
export interface Fields {
  y: number;
  M: number;
  d: number;
  H: number;
  m: number;
  s: number;
  ticks: number; // fraction of a second in 100-ns units
  offset: number | null;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

export function parseWithFormat(input: string, fmt: string): Fields {
  const parts = compileFormat(fmt);
  const src = input.trim();
  const f: Fields = { y: 1, M: 1, d: 1, H: 0, m: 0, s: 0, ticks: 0, offset: null };
  let pm: boolean | null = null;
  let i = 0;
  const fail = (): never => {
    throw evalError(`FormatDateTime: '${src.slice(0, 64)}' does not match the input format '${fmt}'.`);
  };
  const digits = (min: number, max: number) => {
    let j = i;
    while (j - i < max && isDigit(src[j])) j++;
    if (j - i < min) fail();
    const n = Number(src.slice(i, j));
    i = j;
    return n;
  };
  for (const p of parts) {
    const n = p.text.length;
    switch (p.spec) {
      case '':
        if (src.slice(i, i + n) !== p.text) fail();
        i += n;
        break;
      case 'y':
        f.y = n <= 2 ? 2000 + digits(n, 2) : digits(n, Math.max(n, 4));
        break;
      case 'M':
        if (n >= 3) {
          const k = MONTHS.findIndex((mn) => src.startsWith(n === 3 ? mn.slice(0, 3) : mn, i));
          if (k < 0) fail();
          f.M = k + 1;
          i += n === 3 ? 3 : MONTHS[k]!.length;
        } else f.M = digits(n, 2);
        break;
      case 'd':
        if (n >= 3) {
          const k = DAYS.findIndex((dn) => src.startsWith(n === 3 ? dn.slice(0, 3) : dn, i));
          if (k < 0) fail();
          i += n === 3 ? 3 : DAYS[k]!.length;
        } else f.d = digits(n, 2);
        break;
      case 'H':
      case 'h':
        f.H = digits(n, 2);
        break;
      case 'm':
        f.m = digits(n, 2);
        break;
      case 's':
        f.s = digits(n, 2);
        break;
      case 'f':
      case 'F': {
        const start = i;
        const v = digits(p.spec === 'f' ? n : 0, n);
        f.ticks = Math.round(v * 10 ** (7 - (i - start)));
        break;
      }
      case 't': {
        const up = src.slice(i, i + n).toUpperCase();
        if (up.startsWith('A')) pm = false;
        else if (up.startsWith('P')) pm = true;
        else fail();
        i += Math.min(n, 2);
        break;
      }
      case 'z':
      case 'K': {
        if (p.spec === 'K' && (src[i] === 'Z' || src[i] === 'z')) {
          f.offset = 0;
          i++;
          break;
        }
        if (p.spec === 'K' && src[i] !== '+' && src[i] !== '-') break;
        const sign = src[i] === '-' ? -1 : src[i] === '+' ? 1 : fail();
        i++;
        const hh = digits(1, 2);
        let mm = 0;
        if (src[i] === ':') {
          i++;
          mm = digits(2, 2);
        }
        f.offset = sign * (hh * 60 + mm);
        break;
      }
    }
  }
  if (i !== src.length) fail();
  if (pm !== null) f.H = (f.H % 12) + (pm ? 12 : 0);
  if (f.M < 1 || f.M > 12 || f.d < 1 || f.d > 31 || f.H > 23 || f.m > 59 || f.s > 59) fail();
  return f;
}

const pad = (n: number, w: number) => String(Math.abs(n)).padStart(w, '0');

export function formatWithFormat(f: Fields, fmt: string): string {
  let out = '';
  const offset = (withMinutes: boolean, twoDigits: boolean) => {
    const o = f.offset ?? 0;
    const sign = o < 0 ? '-' : '+';
    const h = Math.floor(Math.abs(o) / 60);
    return sign + (twoDigits ? pad(h, 2) : String(h)) + (withMinutes ? `:${pad(Math.abs(o) % 60, 2)}` : '');
  };
  for (const p of compileFormat(fmt)) {
    const n = p.text.length;
    switch (p.spec) {
      case '':
        out += p.text;
        break;
      case 'y':
        out += n === 1 ? String(f.y % 100) : n === 2 ? pad(f.y % 100, 2) : pad(f.y, n);
        break;
      case 'M':
        out += n >= 4 ? MONTHS[f.M - 1] : n === 3 ? MONTHS[f.M - 1]!.slice(0, 3) : pad(f.M, n);
        break;
      case 'd': {
        const dow = DAYS[new Date(Date.UTC(f.y, f.M - 1, f.d)).getUTCDay()]!;
        out += n >= 4 ? dow : n === 3 ? dow.slice(0, 3) : pad(f.d, n);
        break;
      }
      case 'H':
        out += pad(f.H, Math.min(n, 2));
        break;
      case 'h':
        out += pad(f.H % 12 || 12, Math.min(n, 2));
        break;
      case 'm':
        out += pad(f.m, Math.min(n, 2));
        break;
      case 's':
        out += pad(f.s, Math.min(n, 2));
        break;
      case 'f':
      case 'F': {
        const digitsText = pad(f.ticks, 7).slice(0, Math.min(n, 7));
        out += p.spec === 'F' ? digitsText.replace(/0+$/, '') : digitsText;
        break;
      }
      case 't':
        out += (f.H < 12 ? 'AM' : 'PM').slice(0, Math.min(n, 2));
        break;
      case 'z':
        out += n >= 3 ? offset(true, true) : offset(false, n === 2);
        break;
      case 'K':
        out += f.offset === null ? '' : f.offset === 0 ? 'Z' : offset(true, true);
        break;
    }
  }
  return out;
}
