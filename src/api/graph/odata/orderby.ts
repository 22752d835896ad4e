// Parser for $orderby: `prop [asc|desc] (, prop [asc|desc])*`. Which properties may be sorted on is the
// catalog's business (store/query/compile.ts); this only checks the shape.
import { node, type OrderBy } from '../../../domain/odata.js';
import { lex, TokenStream } from './lexer.js';

export function parseOrderBy(text: string): OrderBy[] {
  const ts = new TokenStream(lex(text, 'orderby'), text, 'orderby');
  const out: OrderBy[] = [];
  for (;;) {
    ts.count();
    let property = ts.expect('word', 'a property name').text;
    while (ts.peek().type === 'slash') {
      ts.next();
      property += `/${ts.expect('word', 'a property name after /').text}`;
    }
    const dir = ts.word();
    if (dir === 'asc' || dir === 'desc') ts.next();
    out.push(node.orderBy(property, dir === 'desc' ? 'desc' : 'asc'));
    const t = ts.peek();
    if (t.type === 'eof') return out;
    if (t.type !== 'comma') throw ts.error(t, "Expected ',' , 'asc' or 'desc' after the property.");
    ts.next();
  }
}
