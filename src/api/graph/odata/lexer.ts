// Tokenizer for $filter, $orderby and $select text. Hand-written scanning (no regex parsing) so every
// token knows its start position, which the syntax errors report the way Graph does.
import { errors } from '../../../domain/errors.js';

export type TokenType =
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'slash'
  | 'colon'
  | 'string'
  | 'number'
  | 'guid'
  | 'dateTimeOffset'
  | 'word'
  | 'eof';

export interface Token {
  readonly type: TokenType;
  /** Source text of the token (for strings: the decoded value). */
  readonly text: string;
  /** 0-based offset of the token's first character. */
  readonly pos: number;
}

/** The clause name Graph puts in front of a syntax error: "Invalid filter clause: …". */
export type Clause = 'filter' | 'orderby' | 'select' | 'search';

export function syntaxError(clause: Clause, source: string, pos: number, detail: string) {
  return errors.badRequest(`Invalid ${clause} clause: Syntax error at position ${pos} in '${source}'. ${detail}`);
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isHex = (c: string | undefined) =>
  c !== undefined && (isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
const isWordStart = (c: string | undefined) =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === '$' || c === '@');
const isWordPart = (c: string | undefined) => isWordStart(c) || isDigit(c) || c === '.';

/** Length of a GUID (8-4-4-4-12 hex digits) at `i`, or 0. */
function guidLength(s: string, i: number): number {
  const groups = [8, 4, 4, 4, 12];
  let j = i;
  for (let g = 0; g < groups.length; g++) {
    for (let k = 0; k < (groups[g] ?? 0); k++, j++) if (!isHex(s[j])) return 0;
    if (g < groups.length - 1) {
      if (s[j] !== '-') return 0;
      j++;
    }
  }
  return isWordPart(s[j]) || s[j] === '-' ? 0 : j - i;
}

/** Count of digits at `i`, at most `max`. */
function digits(s: string, i: number, max = Number.POSITIVE_INFINITY): number {
  let n = 0;
  while (n < max && isDigit(s[i + n])) n++;
  return n;
}

/** Length of a DateTimeOffset (`YYYY-MM-DDThh:mm[:ss[.f+]](Z|±hh:mm)`) or a bare date at `i`, or 0. */
function dateTimeLength(s: string, i: number): number {
  // Most tokens are not dates: leave before building the matcher below.
  const first = s.charCodeAt(i);
  if (!(first >= 48 && first <= 57)) return 0;
  let j = i;
  const fixed = (n: number, sep?: string) => {
    if (digits(s, j, n) !== n) return false;
    j += n;
    if (sep === undefined) return true;
    if (s[j] !== sep) return false;
    j++;
    return true;
  };
  if (!(fixed(4, '-') && fixed(2, '-') && fixed(2))) return 0;
  if (s[j] !== 'T' && s[j] !== 't') return isWordPart(s[j]) ? 0 : j - i;
  j++;
  if (!(fixed(2, ':') && fixed(2))) return 0;
  if (s[j] === ':') {
    j++;
    if (!fixed(2)) return 0;
    if (s[j] === '.') {
      j++;
      const f = digits(s, j);
      if (f === 0) return 0;
      j += f;
    }
  }
  if (s[j] === 'Z' || s[j] === 'z') j++;
  else if (s[j] === '+' || s[j] === '-') {
    j++;
    if (!(fixed(2, ':') && fixed(2))) return 0;
  } else return 0;
  return isWordPart(s[j]) ? 0 : j - i;
}

/** Length of a number (`-?digits[.digits][e[+-]digits]`) at `i`, or 0. */
function numberLength(s: string, i: number): number {
  let j = i;
  if (s[j] === '-') j++;
  const int = digits(s, j);
  if (int === 0) return 0;
  j += int;
  if (s[j] === '.' && isDigit(s[j + 1])) j += 1 + digits(s, j + 1);
  if ((s[j] === 'e' || s[j] === 'E') && (isDigit(s[j + 1]) || ((s[j + 1] === '+' || s[j + 1] === '-') && isDigit(s[j + 2])))) {
    j += 2;
    j += digits(s, j);
  }
  return isWordStart(s[j]) ? 0 : j - i;
}

export function lex(source: string, clause: Clause): Token[] {
  const tokens: Token[] = [];
  const s = source;
  let i = 0;
  const push = (type: TokenType, text: string, pos: number) => tokens.push({ type, text, pos });
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    const single: Partial<Record<string, TokenType>> = { '(': 'lparen', ')': 'rparen', ',': 'comma', '/': 'slash', ':': 'colon' };
    const t = c === undefined ? undefined : single[c];
    if (t) {
      push(t, c ?? '', i++);
      continue;
    }
    if (c === "'") {
      // OData doubles a quote inside a string literal: 'O''Brien'.
      const start = i++;
      let value = '';
      for (;;) {
        if (i >= s.length) throw syntaxError(clause, source, start, 'The string literal is not terminated.');
        if (s[i] === "'") {
          if (s[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += s[i++];
      }
      push('string', value, start);
      continue;
    }
    let n = guidLength(s, i);
    if (n > 0) {
      push('guid', s.slice(i, i + n), i);
      i += n;
      continue;
    }
    n = dateTimeLength(s, i);
    if (n > 0) {
      push('dateTimeOffset', s.slice(i, i + n), i);
      i += n;
      continue;
    }
    n = numberLength(s, i);
    if (n > 0) {
      push('number', s.slice(i, i + n), i);
      i += n;
      continue;
    }
    if (isWordStart(c)) {
      const start = i;
      while (isWordPart(s[i])) i++;
      push('word', s.slice(start, i), start);
      continue;
    }
    throw syntaxError(clause, source, i, `The character '${c}' is not valid here.`);
  }
  push('eof', '', s.length);
  return tokens;
}

/**
 * Bounds of every recursive parser (and of what walks its tree: the SQL compiler, stringify, the
 * planners). Thousands of nested parentheses or `not`s would overflow the stack, and a chain of
 * thousands of terms builds a tree as deep; both are refused as syntax errors long before that.
 * Graph's own directory queries stay far below (its `in` takes 15 values on most properties).
 */
export const MAX_NESTING = 32;
export const MAX_TERMS = 500;

export function tooDeep(clause: Clause, source: string, pos: number) {
  return syntaxError(clause, source, pos, `The expression is nested more than ${MAX_NESTING} levels deep.`);
}
export function tooManyTerms(clause: Clause, source: string, pos: number) {
  return syntaxError(clause, source, pos, `The expression has more than ${MAX_TERMS} terms.`);
}

/** A cursor over tokens with the error context of one clause. */
export class TokenStream {
  private index = 0;
  private depth = 0;
  private terms = 0;
  constructor(
    private readonly tokens: readonly Token[],
    readonly source: string,
    readonly clause: Clause,
  ) {}

  peek(offset = 0): Token {
    const last = this.tokens[this.tokens.length - 1] as Token;
    return this.tokens[this.index + offset] ?? last;
  }
  next(): Token {
    const t = this.peek();
    if (t.type !== 'eof') this.index++;
    return t;
  }
  /** Runs `fn` one nesting level deeper (a group, a `not`, a lambda body), within MAX_NESTING. */
  nested<T>(fn: () => T): T {
    if (++this.depth > MAX_NESTING) throw tooDeep(this.clause, this.source, this.peek().pos);
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }
  /** Counts `n` more terms (comparisons, calls, list values) against MAX_TERMS. */
  count(n = 1): void {
    this.terms += n;
    if (this.terms > MAX_TERMS) throw tooManyTerms(this.clause, this.source, this.peek().pos);
  }
  /** The word at the cursor, lowercased, if the cursor is on a word. */
  word(offset = 0): string | undefined {
    const t = this.peek(offset);
    return t.type === 'word' ? t.text.toLowerCase() : undefined;
  }
  expect(type: TokenType, what: string): Token {
    const t = this.peek();
    if (t.type !== type) throw this.error(t, `Expected ${what}.`);
    return this.next();
  }
  /**
   * An error at token `t`. At the end of input Graph points at the last token (the one left
   * dangling: position 12 in 'displayName eq'), which is where the reader needs to look.
   */
  error(t: Token, detail: string) {
    let pos = t.pos;
    if (t.type === 'eof') pos = this.tokens.length > 1 ? (this.tokens[this.tokens.length - 2] as Token).pos : 0;
    return syntaxError(this.clause, this.source, pos, detail);
  }
}
