// String functions. Null rule where Entra documents none: null in ⇒ null out (so the attribute is not
// flowed, as the service never provisions null), except Left and Word (documented: null ⇒ "") and
// Append (null source reads as "").
import { randomInt } from 'node:crypto';
import { evalError } from './ast.js';
import { regexGroup, regexReplace, regexReplaceGroup } from './regex.js';
import { type FunctionSpec, opt, p } from './spec.js';
import { DIGITS, LOWER, normalizeDiacritics, pcase, SPECIALS, UPPER, word } from './text.js';
import { type Env, int, intOr, isEmpty, isNullish, manyText, str, text, type Val } from './values.js';

const mapNull = (v: Val, fn: string, f: (s: string) => Val) => {
  const s = str(v, fn);
  return s === null ? null : f(s);
};

/** Longest RandomString: Entra's documented limit. */
const MAX_RANDOM_LENGTH = 256;

function rand(env: Env, n: number): number {
  const r = env.ctx.random;
  if (!r) return randomInt(n);
  return Math.min(n - 1, Math.floor(r() * n));
}

function guid(env: Env): string {
  const hex = '0123456789abcdef';
  let s = '';
  for (let i = 0; i < 32; i++) {
    let d = rand(env, 16);
    if (i === 12) d = 4; // version 4
    if (i === 16) d = 8 | (d & 3); // RFC 4122 variant
    s += hex[d];
  }
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

function randomString(vals: readonly Val[], env: Env): string {
  const fn = 'RandomString';
  const [length, nums, specials, caps, lowers] = [0, 1, 2, 3, 4].map((i) =>
    intOr(vals[i], fn, ['Length', 'MinimumNumbers', 'MinimumSpecialCharacters', 'MinimumCapital', 'MinimumLowerCase'][i]!, 0),
  ) as [number, number, number, number, number];
  const avoid = str(vals[5], fn) ?? '';
  if (length < 1 || length > MAX_RANDOM_LENGTH) throw evalError(`${fn}: Length must be between 1 and ${MAX_RANDOM_LENGTH}.`);
  if ([nums, specials, caps, lowers].some((n) => n < 0) || nums + specials + caps + lowers > length) {
    throw evalError(`${fn}: the minimum counts must be non-negative and add up to at most Length.`);
  }
  const pool = (chars: string) => [...chars].filter((c) => !avoid.includes(c)).join('');
  const sets = [pool(DIGITS), pool(SPECIALS), pool(UPPER), pool(LOWER)];
  const all = sets.join('');
  const mins = [nums, specials, caps, lowers];
  if (mins.some((n, i) => n > 0 && !sets[i]) || !all) throw evalError(`${fn}: CharactersToAvoid leaves no characters to use.`);
  const out: string[] = [];
  mins.forEach((n, i) => {
    for (let k = 0; k < n; k++) out.push(sets[i]![rand(env, sets[i]!.length)]!);
  });
  while (out.length < length) out.push(all[rand(env, all.length)]!);
  for (let i = out.length - 1; i > 0; i--) {
    const j = rand(env, i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out.join('');
}

/** Replace's modes are chosen by which slots are filled, which is syntax: checked when parsed. */
function replaceMode(present: readonly boolean[]): string | undefined {
  const [, oldValue, pattern, group, replacement, replacementAttr, template] = present;
  if (oldValue && !pattern && (replacement || template) && !(replacement && template)) return undefined;
  if (pattern && !oldValue && replacement && !replacementAttr && !template) return undefined;
  if (pattern && group && replacementAttr && !oldValue && !replacement && !template) return undefined;
  return 'Replace needs oldValue with replacementValue or template, or regexPattern with replacementValue (and optionally regexGroupName), or regexPattern, regexGroupName and replacementAttributeName';
}

function replace(vals: readonly Val[]): Val {
  const fn = 'Replace';
  const at = (i: number) => str(vals[i] ?? null, fn);
  const [src, oldValue, pattern, group, replacement, replacementAttr, template] = [0, 1, 2, 3, 4, 5, 6].map(at) as (
    | string
    | null
  )[] as [string | null, string | null, string | null, string | null, string | null, string | null, string | null];
  if (vals[2] !== undefined && vals[2] !== null && pattern !== null) {
    if (group !== null && vals[5] !== undefined && vals[5] !== null) {
      if (src !== null && src !== '') return src;
      return replacementAttr === null ? null : regexGroup(pattern, replacementAttr, group);
    }
    if (src === null) return null;
    return group !== null
      ? regexReplaceGroup(pattern, src, group, replacement ?? '')
      : regexReplace(pattern, src, replacement ?? '');
  }
  if (oldValue === null || oldValue === '') return src;
  if (vals[6] !== undefined && vals[6] !== null) return template === null ? null : template.split(oldValue).join(src ?? '');
  return src === null ? null : src.split(oldValue).join(replacement ?? '');
}

export const stringFunctions: FunctionSpec[] = [
  {
    name: 'Append',
    params: [p('source'), p('suffix')],
    min: 2,
    max: 2,
    strict: ([a, b]) => text(a, 'Append') + text(b, 'Append'),
    note: 'A null source or suffix reads as "".',
  },
  {
    name: 'Join',
    params: [p('separator'), p('source', { multiple: true })],
    min: 2,
    max: Number.POSITIVE_INFINITY,
    strict: ([sep, ...srcs]) =>
      manyText(srcs, 'Join')
        .filter((s) => s !== '')
        .join(text(sep, 'Join')),
    note: 'Null and empty sources are skipped; a multi-valued source contributes all its values.',
  },
  {
    name: 'Left',
    params: [p('String'), p('NumChars', { type: 'Integer' })],
    min: 2,
    max: 2,
    strict: ([s, n]) => {
      const t = text(s, 'Left');
      const k = int(n, 'Left', 'NumChars');
      return k < 0 ? t : t.slice(0, k);
    },
  },
  {
    name: 'Mid',
    params: [p('source'), p('start', { type: 'Integer' }), p('length', { type: 'Integer' })],
    min: 3,
    max: 3,
    strict: ([s, a, b]) =>
      mapNull(s!, 'Mid', (t) => {
        const start = Math.max(1, int(a, 'Mid', 'start'));
        const len = int(b, 'Mid', 'length');
        return len <= 0 ? '' : t.slice(start - 1, start - 1 + len);
      }),
    note: 'start < 1 reads as 1; a range past the end stops at the end.',
  },
  {
    name: 'Word',
    params: [p('String'), p('WordNumber', { type: 'Integer' }), p('Delimiters')],
    min: 3,
    max: 3,
    strict: ([s, n, d]) => word(text(s, 'Word'), int(n, 'Word', 'WordNumber'), text(d, 'Word')),
    note: 'Consecutive delimiters make no empty words.',
  },
  {
    name: 'InStr',
    params: [p('value1'), p('value2'), opt('start', { type: 'Integer' }), opt('compareType')],
    min: 2,
    max: 4,
    strict: ([a, b, st, ct]) => {
      const hay = str(a, 'InStr');
      const needle = str(b, 'InStr');
      if (hay === null || needle === null) return null;
      const start = intOr(st, 'InStr', 'start', 1);
      if (start < 1) throw evalError('InStr: start must be 1 or more.');
      const cmp = str(ct ?? null, 'InStr') ?? 'vbBinaryCompare';
      const text = cmp === 'vbTextCompare' || cmp === '1';
      if (!text && cmp !== 'vbBinaryCompare' && cmp !== '0') {
        throw evalError(`InStr: compareType must be vbBinaryCompare or vbTextCompare, got '${cmp}'.`);
      }
      const i = text ? hay.toLowerCase().indexOf(needle.toLowerCase(), start - 1) : hay.indexOf(needle, start - 1);
      return i + 1;
    },
    note: 'Not found: 0. Default comparison: vbBinaryCompare (case-sensitive).',
  },
  {
    name: 'PCase',
    params: [p('source'), opt('wordSeparators')],
    min: 1,
    max: 2,
    strict: ([s, sep]) => mapNull(s!, 'PCase', (t) => pcase(t, isEmpty(sep) ? null : str(sep, 'PCase'))),
    note: 'Default separators follow TextInfo.ToTitleCase by Unicode category (space, control, punctuation, symbols); input is lower-cased first.',
  },
  ...(['ToLower', 'ToUpper'] as const).map(
    (name): FunctionSpec => ({
      name,
      params: [p('source'), opt('culture')],
      min: 1,
      max: 2,
      strict: ([s, c]) =>
        mapNull(s!, name, (t) => {
          const culture = str(c ?? null, name);
          if (!culture) return name === 'ToLower' ? t.toLowerCase() : t.toUpperCase();
          try {
            return name === 'ToLower' ? t.toLocaleLowerCase(culture) : t.toLocaleUpperCase(culture);
          } catch {
            throw evalError(`${name}: '${culture.slice(0, 32)}' is not a culture name.`);
          }
        }),
      note: "Cultures use Node's ICU case mappings (tr-TR, az-AZ, lt-LT differ from invariant); other cultures match invariant.",
    }),
  ),
  {
    name: 'StripSpaces',
    params: [p('source')],
    min: 1,
    max: 1,
    strict: ([s]) => mapNull(s!, 'StripSpaces', (t) => t.split(' ').join('')),
  },
  {
    name: 'NormalizeDiacritics',
    params: [p('source')],
    min: 1,
    max: 1,
    strict: ([s]) => mapNull(s!, 'NormalizeDiacritics', normalizeDiacritics),
  },
  {
    name: 'Replace',
    params: [
      p('source'),
      opt('Find', { aliases: ['oldValue'] }),
      opt('regexPattern'),
      opt('regexGroupName'),
      opt('Replacement', { aliases: ['replacementValue'] }),
      opt('replacementAttributeName'),
      opt('template'),
    ],
    min: 3,
    max: 7,
    check: (args) => replaceMode(Array.from({ length: 7 }, (_, i) => !!args[i])),
    strict: replace,
    note: 'Regular expressions run on RE2 (linear time): .NET backreferences and lookaround are rejected.',
  },
  {
    name: 'Split',
    params: [p('source'), p('delimiter')],
    min: 2,
    max: 2,
    strict: ([s, d]) => mapNull(s!, 'Split', (t) => (isNullish(d) || d === '' ? [t] : t.split(text(d, 'Split')))),
    note: 'Values are not trimmed (String.Split); the documentation example hides a leading space.',
  },
  {
    name: 'ConvertToBase64',
    params: [p('source')],
    min: 1,
    max: 1,
    strict: ([s]) => mapNull(s!, 'ConvertToBase64', (t) => Buffer.from(t, 'utf16le').toString('base64')),
    note: 'Base64 of the UTF-16LE bytes, as .NET Encoding.Unicode.',
  },
  {
    name: 'ConvertToUTF8Hex',
    params: [p('source')],
    min: 1,
    max: 1,
    strict: ([s]) => mapNull(s!, 'ConvertToUTF8Hex', (t) => Buffer.from(t, 'utf8').toString('hex').toUpperCase()),
  },
  { name: 'Guid', params: [], min: 0, max: 0, strict: (_, env) => guid(env) },
  {
    name: 'RandomString',
    params: [
      p('Length', { type: 'Integer' }),
      p('MinimumNumbers', { type: 'Integer' }),
      p('MinimumSpecialCharacters', { type: 'Integer' }),
      p('MinimumCapital', { type: 'Integer' }),
      p('MinimumLowerCase', { type: 'Integer' }),
      opt('CharactersToAvoid'),
    ],
    min: 5,
    max: 6,
    strict: randomString,
  },
  {
    name: 'Redact',
    params: [p('value')],
    min: 1,
    max: 1,
    strict: ([v]) => v ?? null,
    note: 'The value passes through; provisioning logs show [Redact] instead.',
  },
];
