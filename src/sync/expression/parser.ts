// Recursive-descent parser: text → frozen ExprNode tree. Grammar (Entra's documented forms):
//   expr    := primary ( ("=" | "<>" | ">=" | "<=" | ">" | "<") primary )?
//   primary := IDENT "(" [ arg ("," arg)* ] ")" | "[" name "]" | string | number | &Hhex | keyword
//   arg     := expr | <empty>        (an empty slot is an omitted optional argument)
// Recursion is bounded by MAX_DEPTH, so deep input is a clean 400, never a stack overflow.
import { type CompareOp, type ExprNode, KEYWORDS, MAX_DEPTH, node, syntaxError } from './ast.js';
import { checkCall, depthError } from './catalog.js';
import { describe, type Token, tokenize } from './lexer.js';

export function parseExpression(text: string): ExprNode {
  if (typeof text !== 'string') throw syntaxError(0, 'Expected the expression text');
  const toks = tokenize(text);
  let i = 0;
  const peek = () => toks[i]!;
  const next = () => toks[i++]!;

  function expect(type: Token['type'], what: string): Token {
    const t = peek();
    if (t.type !== type) throw syntaxError(t.pos, `Expected ${what} but found ${describe(t)}`);
    return next();
  }

  function expr(depth: number, isRoot: boolean): ExprNode {
    const left = primary(depth, isRoot);
    if (peek().type !== 'op') return left;
    const op = next();
    if (depth + 1 > MAX_DEPTH) throw depthError(op.pos);
    const right = primary(depth + 1, false);
    if (peek().type === 'op') throw syntaxError(peek().pos, 'Expected one comparison only (no chained operators)');
    return node.compare(op.text as CompareOp, left, right);
  }

  function primary(depth: number, isRoot: boolean): ExprNode {
    const t = next();
    switch (t.type) {
      case 'attribute':
        return node.attribute(t.text);
      case 'string':
        return node.string(t.text);
      case 'number':
        return node.number(t.text);
      case 'ident': {
        if (peek().type !== 'lparen') {
          if (KEYWORDS.has(t.text)) return node.keyword(t.text);
          throw syntaxError(t.pos, `Expected '(' after the function name '${t.text}' (or a known keyword)`);
        }
        if (depth + 1 > MAX_DEPTH) throw depthError(t.pos);
        next();
        const args: (ExprNode | null)[] = [];
        if (peek().type === 'rparen') next();
        else {
          for (;;) {
            const a = peek();
            args.push(a.type === 'comma' || a.type === 'rparen' ? null : expr(depth + 1, false));
            const sep = next();
            if (sep.type === 'rparen') break;
            if (sep.type !== 'comma') throw syntaxError(sep.pos, `Expected ',' or ')' but found ${describe(sep)}`);
          }
        }
        checkCall(t.text, args, t.pos, isRoot);
        return node.call(t.text, args);
      }
      default:
        throw syntaxError(t.pos, `Expected a function call, [attribute], "string" or number but found ${describe(t)}`);
    }
  }

  const root = expr(0, true);
  expect('eof', 'the end of the expression');
  return root;
}
