// Parser for Graph's directory $search: quoted terms joined by AND / OR with parentheses.
//
//   expr := and ('OR' and)*
//   and  := primary ('AND' primary)*
//   primary := '(' expr ')' | '"' chars '"'
//
// AND binds tighter than OR. The keywords are uppercase only (Graph treats `and` outside quotes as an
// error, not a keyword). Inside quotes a backslash takes the next character literally, so `\"` and `\\`
// are a quote and a backslash. The first unescaped ':' splits `property:text`; a colon that must be
// part of a property-less text is written `\:`, which keeps stringify → parse exact.
import { node, type SearchNode, type SearchTerm } from '../../../domain/odata.js';
import { MAX_NESTING, MAX_TERMS, syntaxError, tooDeep, tooManyTerms } from './lexer.js';

type SearchToken =
  | { type: 'lparen' | 'rparen' | 'and' | 'or' | 'eof'; pos: number }
  | { type: 'term'; pos: number; term: SearchTerm };

const isPropertyName = (s: string) =>
  s.length > 0 && Array.from(s).every((c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_');

function lexSearch(source: string): SearchToken[] {
  const out: SearchToken[] = [];
  const s = source;
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      out.push({ type: c === '(' ? 'lparen' : 'rparen', pos: i++ });
      continue;
    }
    if (c === '"') {
      const start = i++;
      let text = '';
      let colon = -1;
      for (;;) {
        if (i >= s.length) throw syntaxError('search', source, start, 'The quoted search term is not terminated.');
        const d = s[i] as string;
        if (d === '\\') {
          if (i + 1 >= s.length) throw syntaxError('search', source, i, 'A backslash must be followed by a character.');
          text += s[i + 1];
          i += 2;
          continue;
        }
        if (d === '"') {
          i++;
          break;
        }
        if (d === ':' && colon < 0) colon = text.length;
        text += d;
        i++;
      }
      const prop = colon >= 0 ? text.slice(0, colon) : '';
      const term = colon >= 0 && isPropertyName(prop) ? node.term(prop, text.slice(colon + 1)) : node.term(null, text);
      out.push({ type: 'term', pos: start, term });
      continue;
    }
    if (s.startsWith('AND', i) || s.startsWith('OR', i)) {
      const kw = s.startsWith('AND', i) ? 'and' : 'or';
      const end = i + (kw === 'and' ? 3 : 2);
      const after = s[end];
      if (after === undefined || after === ' ' || after === '(' || after === '"' || after === '\t') {
        out.push({ type: kw, pos: i });
        i = end;
        continue;
      }
    }
    throw syntaxError(
      'search',
      source,
      i,
      `Expected a quoted "property:text" term, AND, OR or parentheses; found '${c}'.`,
    );
  }
  out.push({ type: 'eof', pos: s.length });
  return out;
}

/** Parse `$search` text (the value with its quotes). Throws Request_BadRequest on malformed input. */
export function parseSearch(text: string): SearchNode {
  const tokens = lexSearch(text);
  let index = 0;
  const peek = () => tokens[index] ?? (tokens[tokens.length - 1] as SearchToken);
  const fail = (t: SearchToken, detail: string) => {
    // At the end of input, point at the last token, as the $filter errors do.
    const pos = t.type === 'eof' && tokens.length > 1 ? (tokens[tokens.length - 2] as SearchToken).pos : t.pos;
    return syntaxError('search', text, pos, detail);
  };

  const parseOr = (): SearchNode => {
    let left = parseAnd();
    while (peek().type === 'or') {
      index++;
      left = node.search('or', left, parseAnd());
    }
    return left;
  };
  const parseAnd = (): SearchNode => {
    let left = parsePrimary();
    while (peek().type === 'and') {
      index++;
      left = node.search('and', left, parsePrimary());
    }
    return left;
  };
  // Bounds as for $filter (lexer.ts): nesting and terms, so neither the parser nor a walker overflows.
  let depth = 0;
  let terms = 0;
  const parsePrimary = (): SearchNode => {
    const t = peek();
    if (t.type === 'term') {
      if (++terms > MAX_TERMS) throw tooManyTerms('search', text, t.pos);
      index++;
      return t.term;
    }
    if (t.type === 'lparen') {
      if (++depth > MAX_NESTING) throw tooDeep('search', text, t.pos);
      index++;
      const inner = parseOr();
      depth--;
      const close = peek();
      if (close.type !== 'rparen') throw fail(close, "Expected ')' to close the group.");
      index++;
      return inner;
    }
    throw fail(t, 'Expected a quoted "property:text" term or a parenthesized expression.');
  };

  if (peek().type === 'eof') throw fail(peek(), 'The search is empty.');
  const result = parseOr();
  const rest = peek();
  if (rest.type !== 'eof') throw fail(rest, 'Expected AND or OR between search terms.');
  return result;
}
