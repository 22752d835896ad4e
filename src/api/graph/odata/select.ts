// Parser for $select: a comma-separated list of property names (`*` is not offered: Graph's directory
// collections take explicit names). Unknown names are the route's business, since each resource knows
// its own shape.
import type { Select } from '../../../domain/odata.js';
import { lex, TokenStream } from './lexer.js';

export function parseSelect(text: string): Select {
  const ts = new TokenStream(lex(text, 'select'), text, 'select');
  const out: string[] = [];
  for (;;) {
    let name = ts.expect('word', 'a property name').text;
    while (ts.peek().type === 'slash') {
      ts.next();
      name += `/${ts.expect('word', 'a property name after /').text}`;
    }
    out.push(name);
    const t = ts.peek();
    if (t.type === 'eof') return Object.freeze(out);
    if (t.type !== 'comma') throw ts.error(t, "Expected ',' between property names.");
    ts.next();
  }
}
