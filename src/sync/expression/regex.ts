// Regular expressions of Replace and of the scoping operators REGEX_MATCH / NOT_REGEX_MATCH.
// Patterns come from tenant admins (Graph PUT schema, parseExpression), so they run on RE2JS (a pure
// JavaScript port of RE2, pinned): matching is linear in the input, so no pattern can backtrack
// catastrophically and no timeout is needed. The price: .NET constructs RE2 lacks (backreferences,
// lookaround, atomic groups) are rejected with a clear error when the expression is saved.
import { RE2JS } from 're2js';
import { ExpressionError, evalError } from './ast.js';

/** Longest pattern accepted; real provisioning patterns are < 200 characters. Bounds compile cost. */
export const MAX_PATTERN_LENGTH = 1_000;
/** Matching costs O(input length × program size), and counted repeats inflate the program (`x{1000}`
 *  is 1,000 copies of x) while the text stays short. Real provisioning patterns compile to < 100
 *  instructions; at 1,000 the worst case is ~25 ms on a 1,000-character attribute. */
export const MAX_PROGRAM_SIZE = 1_000;
/** Compiled patterns kept; literal patterns of the loaded mappings fit many times over. */
const CACHE_SIZE = 1_024;
const cache = new Map<string, RE2JS>();

export class RegexError extends ExpressionError {
  constructor(message: string) {
    super('Expression_InvalidRegex', message);
  }
}

/** .NET spelling → RE2 spelling: `(?'name'…)` becomes `(?<name>…)`; everything else RE2 reads as is. */
function translate(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      out += pattern.slice(i, i + 2);
      i++;
    } else if (c === '(' && pattern.startsWith("(?'", i)) {
      const end = pattern.indexOf("'", i + 3);
      if (end < 0) return out + pattern.slice(i);
      out += `(?<${pattern.slice(i + 3, end)}>`;
      i = end;
    } else out += c;
  }
  return out;
}

/** The compiled pattern (cached by text). Throws RegexError for an invalid or unsupported pattern. */
export function compileRegex(pattern: string): RE2JS {
  const hit = cache.get(pattern);
  if (hit) return hit;
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new RegexError(`The regular expression is longer than ${MAX_PATTERN_LENGTH} characters.`);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(translate(pattern));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new RegexError(
      `Invalid regular expression '${pattern.slice(0, 100)}': ${why.slice(0, 200)} (backreferences and lookaround are not supported).`,
    );
  }
  const size = (re as unknown as { re2Input?: { prog?: { numInst?: () => number } } }).re2Input?.prog?.numInst?.() ?? 0;
  if (size > MAX_PROGRAM_SIZE) {
    throw new RegexError(
      `The regular expression '${pattern.slice(0, 100)}' is too complex (its counted repetitions expand past ${MAX_PROGRAM_SIZE} steps).`,
    );
  }
  if (cache.size >= CACHE_SIZE) cache.clear();
  cache.set(pattern, re);
  return re;
}

export const regexMatches = (re: RE2JS, input: string) => re.matcher(input).find();

type Piece = string | number | { name: string };

/** .NET replacement syntax: `$1`, `${name}`, `$0` / `$&` (whole match), `$$`; anything else literal. */
function compileReplacement(repl: string, re: RE2JS): Piece[] {
  const pieces: Piece[] = [];
  const groups = re.groupCount();
  const named = re.namedGroups();
  let lit = '';
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i];
    if (c !== '$' || i + 1 >= repl.length) {
      lit += c;
      continue;
    }
    const nx = repl[i + 1]!;
    if (nx === '$') {
      lit += '$';
      i++;
    } else if (nx === '&') {
      pieces.push(lit, 0);
      lit = '';
      i++;
    } else if (nx >= '0' && nx <= '9') {
      let j = i + 1;
      while (j < repl.length && repl[j]! >= '0' && repl[j]! <= '9' && Number(repl.slice(i + 1, j + 1)) <= groups) j++;
      if (j === i + 1) {
        lit += c;
        continue;
      }
      pieces.push(lit, Number(repl.slice(i + 1, j)));
      lit = '';
      i = j - 1;
    } else if (nx === '{') {
      const end = repl.indexOf('}', i + 2);
      const name = end < 0 ? '' : repl.slice(i + 2, end);
      if (name && name in named) {
        pieces.push(lit, { name });
        lit = '';
        i = end;
      } else if (/^\d+$/.test(name) && Number(name) <= groups) {
        pieces.push(lit, Number(name));
        lit = '';
        i = end;
      } else lit += c;
    } else lit += c;
  }
  pieces.push(lit);
  return pieces.filter((p) => p !== '');
}

const replCache = new Map<string, Piece[]>();

function replacementFor(re: RE2JS, pattern: string, repl: string): Piece[] {
  const key = `${pattern}\u0000${repl}`;
  let pieces = replCache.get(key);
  if (!pieces) {
    pieces = compileReplacement(repl, re);
    if (replCache.size >= CACHE_SIZE) replCache.clear();
    replCache.set(key, pieces);
  }
  return pieces;
}

/** Regex.Replace(input, pattern, replacement): every match replaced. */
export function regexReplace(pattern: string, input: string, repl: string): string {
  const re = compileRegex(pattern);
  const pieces = replacementFor(re, pattern, repl);
  const m = re.matcher(input);
  let out = '';
  let last = 0;
  let from = 0;
  while (from <= input.length && m.find(from)) {
    const s = m.start();
    const e = m.end();
    out += input.slice(last, s);
    for (const p of pieces) {
      if (typeof p === 'string') out += p;
      else out += (typeof p === 'number' ? m.group(p) : m.group(p.name)) ?? '';
    }
    last = e;
    from = e === s ? e + 1 : e;
  }
  return out + input.slice(last);
}

/** Replace only the text captured by `group` in every match with `repl`. */
export function regexReplaceGroup(pattern: string, input: string, group: string, repl: string): string {
  const re = compileRegex(pattern);
  if (!(group in re.namedGroups())) throw evalError(`Replace: the pattern has no group named '${group}'.`);
  const m = re.matcher(input);
  let out = '';
  let last = 0;
  let from = 0;
  while (from <= input.length && m.find(from)) {
    const s = m.start(group);
    const e = m.end(group);
    if (s >= 0 && s >= last) {
      out += input.slice(last, s) + repl;
      last = e;
    }
    from = m.end() === m.start() ? m.end() + 1 : m.end();
  }
  return out + input.slice(last);
}

/** The capture of `group` in the first match, or null. */
export function regexGroup(pattern: string, input: string, group: string): string | null {
  const re = compileRegex(pattern);
  if (!(group in re.namedGroups())) throw evalError(`Replace: the pattern has no group named '${group}'.`);
  const m = re.matcher(input);
  return m.find() ? m.group(group) : null;
}
