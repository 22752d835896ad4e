// Recursive-descent parser for $filter. Grammar (keywords and function names case-insensitive, as Graph
// accepts `startswith` as well as `startsWith`):
//
//   expr    := and ('or' and)*
//   and     := unary ('and' unary)*
//   unary   := 'not' unary | primary
//   primary := '(' expr ')'
//            | ('startsWith' | 'endsWith') '(' path ',' literal ')'
//            | path '/' ('any' | 'all') '(' [word ':' expr] ')'
//            | path ('eq'|'ne'|'gt'|'ge'|'lt'|'le') literal
//            | path 'in' '(' literal (',' literal)* ')'
//   path    := word ('/' word)*
//
// `not` takes the next unary term, so `not displayName eq 'x'` means not(displayName eq 'x'), which is
// what people mean when they write it, rather than OData's literal precedence.
import { type CompareOp, type FilterNode, type Literal, lit, node, type StringFunction } from '../../../domain/odata.js';
import { lex, type Token, TokenStream } from './lexer.js';

const COMPARE: ReadonlySet<string> = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const FUNCTIONS: Readonly<Record<string, StringFunction>> = { startswith: 'startsWith', endswith: 'endsWith' };

/** Parse `$filter` text. Throws DomainError Request_BadRequest on malformed input. */
export function parseFilter(text: string): FilterNode {
  const ts = new TokenStream(lex(text, 'filter'), text, 'filter');
  if (ts.peek().type === 'eof') throw ts.error(ts.peek(), 'The filter is empty.');
  const result = parseOr(ts);
  const rest = ts.peek();
  if (rest.type !== 'eof') throw ts.error(rest, `Unexpected '${rest.text}' after a complete expression.`);
  return result;
}

function parseOr(ts: TokenStream): FilterNode {
  let left = parseAnd(ts);
  while (ts.word() === 'or') {
    ts.next();
    left = node.or(left, parseAnd(ts));
  }
  return left;
}

function parseAnd(ts: TokenStream): FilterNode {
  let left = parseUnary(ts);
  while (ts.word() === 'and') {
    ts.next();
    left = node.and(left, parseUnary(ts));
  }
  return left;
}

function parseUnary(ts: TokenStream): FilterNode {
  // `not` is a keyword only when an operand follows; `not eq 'x'` would be a property named "not".
  if (ts.word() === 'not' && (ts.peek(1).type === 'lparen' || ts.peek(1).type === 'word')) {
    ts.next();
    // `not(…)` is one level (the group counts it), as is `not x`.
    if (ts.peek().type === 'lparen') return node.not(parseUnary(ts));
    return ts.nested(() => node.not(parseUnary(ts)));
  }
  return parsePrimary(ts);
}

function parsePrimary(ts: TokenStream): FilterNode {
  const t = ts.peek();
  if (t.type === 'lparen') {
    ts.next();
    const inner = ts.nested(() => parseOr(ts));
    ts.expect('rparen', "')' to close the group");
    return inner;
  }
  if (t.type !== 'word') throw ts.error(t, 'Expected a property, a function call or a parenthesized expression.');
  const fn = FUNCTIONS[t.text.toLowerCase()];
  if (fn && ts.peek(1).type === 'lparen') return parseCall(ts, fn);

  const path = [ts.next().text];
  while (ts.peek().type === 'slash') {
    ts.next();
    const seg = ts.expect('word', 'a property name after /');
    const q = seg.text.toLowerCase();
    if ((q === 'any' || q === 'all') && ts.peek().type === 'lparen') return parseLambda(ts, q, path);
    path.push(seg.text);
  }

  const opToken = ts.peek();
  const op = ts.word();
  ts.count();
  if (op === 'in') {
    ts.next();
    return node.in(path, parseList(ts));
  }
  if (op === undefined || !COMPARE.has(op)) {
    throw ts.error(opToken, `Expected a comparison operator (eq, ne, gt, ge, lt, le, in) after '${path.join('/')}'.`);
  }
  ts.next();
  return node.compare(op as CompareOp, path, parseLiteral(ts, opToken));
}

function parseCall(ts: TokenStream, fn: StringFunction): FilterNode {
  ts.count();
  ts.next();
  ts.expect('lparen', "'('");
  const path = [ts.expect('word', 'a property as the first argument').text];
  while (ts.peek().type === 'slash') {
    ts.next();
    path.push(ts.expect('word', 'a property name after /').text);
  }
  const comma = ts.expect('comma', "',' between the arguments");
  const value = parseLiteral(ts, comma);
  ts.expect('rparen', `')' to close ${fn}`);
  return node.call(fn, path, value);
}

function parseLambda(ts: TokenStream, quantifier: 'any' | 'all', collection: string[]): FilterNode {
  ts.expect('lparen', "'('");
  if (ts.peek().type === 'rparen') {
    ts.next();
    return node.lambda(quantifier, collection, null, null);
  }
  const variable = ts.expect('word', 'a range variable, as in any(x: x eq …)').text;
  ts.expect('colon', `':' after the range variable '${variable}'`);
  const body = ts.nested(() => parseOr(ts));
  ts.expect('rparen', `')' to close ${quantifier}`);
  return node.lambda(quantifier, collection, variable, body);
}

function parseList(ts: TokenStream): Literal[] {
  const open = ts.expect('lparen', "'(' to start the list of values");
  const values = [parseLiteral(ts, open)];
  while (ts.peek().type === 'comma') {
    const comma = ts.next();
    ts.count();
    values.push(parseLiteral(ts, comma));
  }
  ts.expect('rparen', "')' or ',' in the list of values");
  return values;
}

/** A literal; `after` is the token before it, named in the error when the value is missing. */
function parseLiteral(ts: TokenStream, after: Token): Literal {
  const t = ts.peek();
  const missing = () => ts.error(t.type === 'eof' ? after : t, `Expected a value after '${after.text}'.`);
  switch (t.type) {
    case 'string':
      ts.next();
      return lit.string(t.text);
    case 'number': {
      ts.next();
      const n = Number(t.text);
      if (!Number.isFinite(n)) throw ts.error(t, `The number '${t.text}' is out of range.`);
      return lit.number(n);
    }
    case 'guid':
      ts.next();
      return lit.guid(t.text);
    case 'dateTimeOffset':
      ts.next();
      return lit.dateTimeOffset(t.text);
    case 'word': {
      const w = t.text.toLowerCase();
      if (w === 'true' || w === 'false') {
        ts.next();
        return lit.boolean(w === 'true');
      }
      if (w === 'null') {
        ts.next();
        return lit.null();
      }
      throw missing();
    }
    default:
      throw missing();
  }
}
