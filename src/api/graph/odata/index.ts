// OData query options for the Graph routes: parse the raw query-string values into domain trees.
export { parseFilter } from './filter.js';
export { lex, syntaxError, type Token, type TokenType } from './lexer.js';
export { parseOrderBy } from './orderby.js';
export { parseSearch } from './search.js';
export { parseSelect } from './select.js';
export { stringifyFilter, stringifyLiteral, stringifyOrderBy, stringifySearch, stringifySelect } from './stringify.js';
