// Dates as the expression language sees them: UTC instants printed in .NET's invariant culture
// (`M/d/yyyy h:mm:ss tt`), VB's DateAdd/DateDiff arithmetic and AD FILETIME numbers.
import { evalError } from './ast.js';

const DAY = 86_400_000;
/** 100-ns ticks between 1601-01-01 and 1970-01-01 (AD FILETIME epoch). */
const FILETIME_EPOCH_MS = 11_644_473_600_000n;

const ISO = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const US = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(AM|PM)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

function offsetMinutes(z: string | undefined): number {
  if (!z || z.toUpperCase() === 'Z') return 0;
  const sign = z[0] === '-' ? -1 : 1;
  const digits = z.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
}

function instant(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, off: number) {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return Number.NaN;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (new Date(t).getUTCDate() !== d) return Number.NaN; // 2/30 and friends
  return t - off * 60_000;
}

/** CDate's parser: ISO-8601 dates and times (an offset is honoured; a date-only value with an offset
 *  is midnight at that offset; no offset means UTC) and the invariant form this module prints. */
export function parseDate(s: string, fn: string): number {
  const t = s.trim();
  if (t.length > 64) return bad(s, fn); // no date text is longer; keeps the matching below cheap
  let ms = Number.NaN;
  const iso = ISO.exec(t);
  if (iso) {
    const [, y, mo, d, h, mi, sec, frac, z] = iso;
    ms = instant(+y!, +mo!, +d!, +(h ?? 0), +(mi ?? 0), +(sec ?? 0), Math.floor(+`0.${frac ?? '0'}` * 1000), offsetMinutes(z));
  } else {
    const us = US.exec(t);
    if (us) {
      const [, mo, d, y, h, mi, sec, ampm, z] = us;
      let hour = +(h ?? 0);
      if (ampm) {
        if (hour < 1 || hour > 12) return bad(s, fn);
        hour = (hour % 12) + (ampm.toUpperCase() === 'PM' ? 12 : 0);
      }
      ms = instant(+y!, +mo!, +d!, hour, +(mi ?? 0), +(sec ?? 0), 0, offsetMinutes(z));
    }
  }
  if (Number.isNaN(ms)) return bad(s, fn);
  return ms;
}

function bad(s: string, fn: string): never {
  throw evalError(`${fn}: '${s.length > 64 ? `${s.slice(0, 64)}…` : s}' is not a date.`);
}

/** Invariant-culture general date/time: `3/16/2020 7:00:00 AM`. */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) throw evalError('The date is out of range.');
  const h = d.getUTCHours();
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h % 12 || 12}:${two(d.getUTCMinutes())}:${two(
    d.getUTCSeconds(),
  )} ${h < 12 ? 'AM' : 'PM'}`;
}

export type Interval = 'yyyy' | 'q' | 'm' | 'y' | 'd' | 'w' | 'ww' | 'h' | 'n' | 's';
const INTERVALS = new Set<string>(['yyyy', 'q', 'm', 'y', 'd', 'w', 'ww', 'h', 'n', 's']);

export function interval(s: string, fn: string): Interval {
  if (!INTERVALS.has(s)) throw evalError(`${fn}: unknown interval '${s}' (use yyyy, q, m, y, d, w, ww, h, n or s).`);
  return s as Interval;
}

function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const target = new Date(Date.UTC(y, m, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()));
  // .NET AddMonths clamps to the target month's last day (1/31 + 1 month = 2/28 or 2/29).
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), last));
  return target.getTime();
}

export function dateAdd(iv: Interval, n: number, ms: number): number {
  switch (iv) {
    case 'yyyy':
      return addMonths(ms, 12 * n);
    case 'q':
      return addMonths(ms, 3 * n);
    case 'm':
      return addMonths(ms, n);
    case 'ww':
      return ms + 7 * n * DAY;
    case 'h':
      return ms + n * 3_600_000;
    case 'n':
      return ms + n * 60_000;
    case 's':
      return ms + n * 1000;
    default: // y, d, w: days
      return ms + n * DAY;
  }
}

/** VB DateDiff: counts calendar boundaries crossed between the two instants (not elapsed time
 *  truncated), positive when `b` is later. `ww` counts Sunday-start weeks, `w` whole 7-day spans. */
export function dateDiff(iv: Interval, a: number, b: number): number {
  const da = new Date(a);
  const db = new Date(b);
  const day = (t: number) => Math.floor(t / DAY);
  switch (iv) {
    case 'yyyy':
      return db.getUTCFullYear() - da.getUTCFullYear();
    case 'q':
      return (
        db.getUTCFullYear() * 4 + Math.floor(db.getUTCMonth() / 3) - (da.getUTCFullYear() * 4 + Math.floor(da.getUTCMonth() / 3))
      );
    case 'm':
      return db.getUTCFullYear() * 12 + db.getUTCMonth() - (da.getUTCFullYear() * 12 + da.getUTCMonth());
    case 'ww': // 1970-01-01 was a Thursday: +4 aligns week boundaries on Sundays
      return Math.floor((day(b) + 4) / 7) - Math.floor((day(a) + 4) / 7);
    case 'w':
      return Math.trunc((day(b) - day(a)) / 7);
    case 'h':
      return Math.floor(b / 3_600_000) - Math.floor(a / 3_600_000);
    case 'n':
      return Math.floor(b / 60_000) - Math.floor(a / 60_000);
    case 's':
      return Math.floor(b / 1000) - Math.floor(a / 1000);
    default:
      return day(b) - day(a);
  }
}

/** AD FILETIME (100-ns ticks since 1601-01-01 UTC) → epoch ms. */
export function fromFileTime(s: string, fn: string): number {
  const t = s.trim();
  if (!/^\d{1,19}$/.test(t)) throw evalError(`${fn}: '${t.slice(0, 32)}' is not a FILETIME number.`);
  const ms = BigInt(t) / 10_000n - FILETIME_EPOCH_MS;
  if (ms > 8_640_000_000_000_000n || ms < -8_640_000_000_000_000n) throw evalError(`${fn}: the date is out of range.`);
  return Number(ms);
}

/** Epoch ms → AD FILETIME, as text (the number exceeds 2^53). */
export const toFileTime = (ms: number) => ((BigInt(Math.trunc(ms)) + FILETIME_EPOCH_MS) * 10_000n).toString();
