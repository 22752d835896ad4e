// AST → text in Graph's canonical spelling (`Replace([x], "-", , , "_", , )`); parse∘stringify
// round-trips. Recursion is safe: the parser and the Graph converter bound trees to MAX_DEPTH.
import type { ExprNode } from './ast.js';

export const quote = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

export function stringifyExpression(n: ExprNode): string {
  switch (n.type) {
    case 'attribute':
      return `[${n.name}]`;
    case 'string':
      return quote(n.value);
    case 'number':
      return n.text;
    case 'keyword':
      return n.name;
    case 'call':
      return `${n.name}(${n.args.map((a) => (a ? stringifyExpression(a) : '')).join(', ')})`;
    case 'compare':
      return `${stringifyExpression(n.left)} ${n.op} ${stringifyExpression(n.right)}`;
  }
}

/** Source attributes an expression reads, in first-use order. */
export function attributesOf(n: ExprNode): string[] {
  const out = new Set<string>();
  const walk = (x: ExprNode | null) => {
    if (!x) return;
    if (x.type === 'attribute') out.add(x.name);
    else if (x.type === 'call') x.args.forEach(walk);
    else if (x.type === 'compare') {
      walk(x.left);
      walk(x.right);
    }
  };
  walk(n);
  return [...out];
}
