// Text from trees: parse(stringify(ast)) deep-equals ast for every tree the parsers build. Parentheses
// are written only where precedence needs them (a lower-precedence child, or a right child of the same
// operator, since the parsers nest left), so the text stays the way a person would write it.
import type { FilterNode, Literal, OrderBy, SearchNode, Select } from '../../../domain/odata.js';

export function stringifyLiteral(l: Literal): string {
  switch (l.kind) {
    case 'string':
      return `'${l.value.split("'").join("''")}'`;
    case 'number':
      return String(l.value);
    case 'boolean':
      return l.value ? 'true' : 'false';
    case 'null':
      return 'null';
    case 'guid':
    case 'dateTimeOffset':
      return l.value;
  }
}

const rank = (n: FilterNode) => (n.kind === 'or' ? 1 : n.kind === 'and' ? 2 : 3);

function child(n: FilterNode, parentRank: number, right: boolean): string {
  const r = rank(n);
  const text = stringifyFilter(n);
  return r < parentRank || (right && r === parentRank) ? `(${text})` : text;
}

export function stringifyFilter(n: FilterNode): string {
  switch (n.kind) {
    case 'or':
    case 'and':
      return `${child(n.left, rank(n), false)} ${n.kind} ${child(n.right, rank(n), true)}`;
    case 'not':
      return `not(${stringifyFilter(n.operand)})`;
    case 'compare':
      return `${n.path.join('/')} ${n.op} ${stringifyLiteral(n.value)}`;
    case 'in':
      return `${n.path.join('/')} in (${n.values.map(stringifyLiteral).join(', ')})`;
    case 'call':
      return `${n.fn}(${n.path.join('/')}, ${stringifyLiteral(n.value)})`;
    case 'lambda': {
      const body = n.variable === null || n.body === null ? '' : `${n.variable}: ${stringifyFilter(n.body)}`;
      return `${n.collection.join('/')}/${n.quantifier}(${body})`;
    }
  }
}

const escapeSearch = (s: string, colon: boolean) =>
  Array.from(s, (c) => (c === '"' || c === '\\' || (colon && c === ':') ? `\\${c}` : c)).join('');

export function stringifySearch(n: SearchNode): string {
  if (n.kind === 'term') {
    // Without a property, a colon in the text would read back as `property:`; escape it.
    return n.property === null ? `"${escapeSearch(n.text, true)}"` : `"${n.property}:${escapeSearch(n.text, false)}"`;
  }
  const r = n.kind === 'or' ? 1 : 2;
  const side = (c: SearchNode, right: boolean) => {
    const cr = c.kind === 'term' ? 3 : c.kind === 'or' ? 1 : 2;
    const text = stringifySearch(c);
    return cr < r || (right && cr === r) ? `(${text})` : text;
  };
  return `${side(n.left, false)} ${n.kind.toUpperCase()} ${side(n.right, true)}`;
}

export const stringifyOrderBy = (list: readonly OrderBy[]): string =>
  list.map((o) => `${o.property} ${o.direction}`).join(',');

export const stringifySelect = (list: Select): string => list.join(',');
