// POST …/schema/parseExpression: the portal's "test expression". A parse or evaluation error is a
// 200 whose flags say which step failed (Graph's parseExpressionResponse carries its own `error`);
// only a malformed request body is a 400.
import { z } from 'zod';
import { errors } from '../../domain/errors.js';
import { type ExprValue, ExpressionError, MAX_EXPRESSION_LENGTH } from './ast.js';
import { evaluateMapping } from './evaluate.js';
import { type AttributeMappingSource, nodeToMappingSource } from './mapping-source.js';
import { parseExpression } from './parser.js';
import { toStrings } from './values.js';

/** Test objects are typed by hand in the portal: a user has well under 500 properties. */
const MAX_TEST_PROPERTIES = 500;
const MAX_VALUES = 1_000;
const MAX_VALUE_LENGTH = 32_768;

const scalar = z.union([z.string().max(MAX_VALUE_LENGTH), z.number(), z.boolean(), z.null()]);
const propertySchema = z.looseObject({
  key: z.string().min(1).max(256),
  value: z.union([scalar, z.array(scalar).max(MAX_VALUES)]).optional(),
});

export const parseExpressionRequestSchema = z.looseObject({
  expression: z.string().max(MAX_EXPRESSION_LENGTH),
  testInputObject: z
    .looseObject({
      definition: z.unknown().optional(),
      properties: z.array(propertySchema).max(MAX_TEST_PROPERTIES).nullish(),
    })
    .nullish(),
  targetAttributeDefinition: z.looseObject({}).nullish(),
});

export interface PublicError {
  code: string;
  message: string;
}

export interface ParseExpressionResponse {
  error: PublicError | null;
  evaluationResult: string[];
  evaluationSucceeded: boolean;
  parsedExpression: AttributeMappingSource | null;
  parsingSucceeded: boolean;
}

export function testExpression(body: unknown, now: Date): ParseExpressionResponse {
  const parsed = parseExpressionRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at '${issue.path.join('.')}'` : '';
    throw errors.badRequest(`Invalid parseExpression request${where}: ${issue?.message ?? 'malformed body'}.`);
  }
  const req = parsed.data;
  let tree: ReturnType<typeof parseExpression>;
  try {
    tree = parseExpression(req.expression);
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    return {
      error: { code: e.code, message: e.message },
      evaluationResult: [],
      evaluationSucceeded: false,
      parsedExpression: null,
      parsingSucceeded: false,
    };
  }
  const response: ParseExpressionResponse = {
    error: null,
    evaluationResult: [],
    evaluationSucceeded: false,
    parsedExpression: nodeToMappingSource(tree),
    parsingSucceeded: true,
  };
  // Without a test object there is nothing to evaluate against: parsing alone is reported.
  if (!req.testInputObject) return response;
  const values = new Map<string, ExprValue>();
  for (const p of req.testInputObject.properties ?? []) values.set(p.key, (p.value ?? null) as ExprValue);
  try {
    const out = evaluateMapping(tree, (name) => values.get(name), { now });
    response.evaluationSucceeded = true;
    if (out.kind === 'value' && out.value !== null) response.evaluationResult = toStrings(out.value);
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    response.error = { code: e.code, message: e.message };
  }
  return response;
}
