// The expression language's front door: what the sync engine and the Graph routes may use.
export type { CompareOp, ExprNode, ExprValue, ExpressionErrorCode } from './ast.js';
export { ExpressionError, MAX_DEPTH, MAX_EXPRESSION_LENGTH } from './ast.js';
export { expressionFunctionNotes, expressionFunctions } from './catalog.js';
export { evaluateExpression, evaluateMapping, type MappingOutcome } from './evaluate.js';
export { type AttributeMappingSource, mappingSourceToNode, nodeToMappingSource } from './mapping-source.js';
export { parseExpression } from './parser.js';
export { compileRegex, MAX_PATTERN_LENGTH, RegexError, regexMatches } from './regex.js';
export type { AttributeMappingFunctionSchema, AttributeMappingParameterSchema, AttributeType } from './spec.js';
export { attributesOf, stringifyExpression } from './stringify.js';
export {
  type ParseExpressionResponse,
  parseExpressionRequestSchema,
  type PublicError,
  testExpression,
} from './test-expression.js';
export { type AttributeReader, type EvalContext, toStrings } from './values.js';
