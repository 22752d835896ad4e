// Tokenizer of the expression language: hand-written scanning so every token knows its offset, which
// the syntax errors report.
import { type CompareOp, MAX_ATTRIBUTE_NAME, MAX_EXPRESSION_LENGTH, syntaxError } from './ast.js';

export type TokenType = 'lparen' | 'rparen' | 'comma' | 'attribute' | 'string' | 'number' | 'ident' | 'op' | 'eof';

export interface Token {
  readonly type: TokenType;
  /** Decoded value for strings and attributes, the operator for ops, the source text otherwise. */
  readonly text: string;
  readonly pos: number;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isHex = (c: string | undefined) =>
  c !== undefined && (isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
const isIdentStart = (c: string | undefined) =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
const isIdentPart = (c: string | undefined) => isIdentStart(c) || isDigit(c);
const isSpace = (c: string | undefined) =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\u00a0' || c === '\f' || c === '\v';

export const describe = (t: Token) =>
  t.type === 'eof' ? 'the end of the expression' : t.type === 'string' ? 'a string' : `'${t.text}'`;

export function tokenize(src: string): Token[] {
  if (src.length > MAX_EXPRESSION_LENGTH) {
    throw syntaxError(
      MAX_EXPRESSION_LENGTH,
      `The expression is longer than ${MAX_EXPRESSION_LENGTH} characters`,
      'Expression_TooLong',
    );
  }
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '(' || c === ')' || c === ',') {
      out.push({ type: c === '(' ? 'lparen' : c === ')' ? 'rparen' : 'comma', text: c, pos: i++ });
    } else if (c === '[') {
      const end = src.indexOf(']', i + 1);
      if (end < 0) throw syntaxError(start, "Expected ']' to close the attribute name started");
      const name = src.slice(i + 1, end);
      if (!name.trim()) throw syntaxError(start, 'Expected an attribute name inside [ ]');
      if (name.length > MAX_ATTRIBUTE_NAME || name.includes('[')) {
        throw syntaxError(start + 1, `Expected an attribute name of at most ${MAX_ATTRIBUTE_NAME} characters without '['`);
      }
      out.push({ type: 'attribute', text: name, pos: start });
      i = end + 1;
    } else if (c === '"') {
      i = readString(src, i, out);
    } else if (c === '&' && (src[i + 1] === 'H' || src[i + 1] === 'h')) {
      i += 2;
      while (isHex(src[i])) i++;
      if (i === start + 2) throw syntaxError(start, "Expected hexadecimal digits after '&H'");
      if (i - start > 18) throw syntaxError(start, 'Expected a hexadecimal number of at most 16 digits');
      out.push({ type: 'number', text: src.slice(start, i), pos: start });
    } else if (isDigit(c) || (c === '-' && isDigit(src[i + 1])) || (c === '.' && isDigit(src[i + 1]))) {
      if (c === '-') i++;
      while (isDigit(src[i])) i++;
      if (src[i] === '.') {
        i++;
        if (!isDigit(src[i])) throw syntaxError(i, "Expected a digit after '.'");
        while (isDigit(src[i])) i++;
      }
      if (isIdentPart(src[i])) throw syntaxError(i, `Expected ',' or ')' after the number, found '${src[i]}'`);
      out.push({ type: 'number', text: src.slice(start, i), pos: start });
    } else if (isIdentStart(c)) {
      while (isIdentPart(src[i])) i++;
      out.push({ type: 'ident', text: src.slice(start, i), pos: start });
    } else if (c === '=' || c === '<' || c === '>') {
      const two = src.slice(i, i + 2);
      const op: CompareOp = two === '<>' || two === '>=' || two === '<=' ? two : (c as CompareOp);
      out.push({ type: 'op', text: op, pos: start });
      i += op.length;
    } else {
      throw syntaxError(start, `Unexpected character '${c}'; expected a function call, [attribute], "string" or number`);
    }
  }
  out.push({ type: 'eof', text: '', pos: src.length });
  return out;
}

/** A "…" constant. `\"` and `\\` are escapes; any other `\x` stays as the two characters, so regex
 *  patterns written with single or doubled backslashes mean the same. */
function readString(src: string, start: number, out: Token[]): number {
  let i = start + 1;
  let value = '';
  let from = i;
  for (;;) {
    if (i >= src.length) throw syntaxError(start, 'Expected \'"\' to close the string started');
    const ch = src[i];
    if (ch === '"') break;
    if (ch === '\\' && (src[i + 1] === '"' || src[i + 1] === '\\')) {
      value += src.slice(from, i) + src[i + 1];
      i += 2;
      from = i;
      continue;
    }
    i++;
  }
  value += src.slice(from, i);
  out.push({ type: 'string', text: value, pos: start });
  return i + 1;
}
