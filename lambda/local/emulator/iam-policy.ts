/**
 * An IAM identity-policy evaluator: does a role's policies allow one action on one resource?
 * It follows AWS's evaluation logic for identity-based policies in one account
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
 * an explicit Deny in any statement wins, else any Allow allows, else the request is implicitly
 * denied. Not modelled: resource-based policies, permission boundaries, SCPs/RCPs, session
 * policies, policy variables (`${aws:username}`: a statement using one does not apply, see
 * {@link unsupportedPolicyFeatures}), IpAddress/Binary operators.
 */

export type Strings = string | string[];

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: Strings;
  NotAction?: Strings;
  Resource?: Strings;
  NotResource?: Strings;
  Condition?: Record<string, Record<string, Strings | boolean>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

/** One request as IAM sees it. */
export interface IamRequest {
  /** `service:Action`, e.g. 's3:GetObject'. */
  action: string;
  /** The resource ARN, or '*' for actions without a resource type. */
  resource: string;
  /** Condition keys of the request context, e.g. 'aws:SecureTransport': 'true'. */
  context?: Record<string, string>;
}

export type Decision =
  | { effect: 'Allow'; statement: PolicyStatement }
  | { effect: 'ExplicitDeny'; statement: PolicyStatement }
  | { effect: 'ImplicitDeny' };

/** A policy document that IAM itself would refuse: names the statement and what is wrong. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

type Matcher = (value: string) => boolean;

interface CompiledStatement {
  source: PolicyStatement;
  deny: boolean;
  action: Matcher;
  resource: Matcher;
  condition: (context: ReadonlyMap<string, string>) => boolean;
  /** Set when the statement uses something this evaluator does not model: it never applies. */
  unsupported?: string;
}

const compiled = new WeakMap<PolicyDocument, CompiledStatement[]>();

/** AWS's decision for `request` under all of a principal's identity policies. */
export function evaluatePolicies(policies: readonly PolicyDocument[], request: IamRequest): Decision {
  const context = new Map(Object.entries(request.context ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  let allow: PolicyStatement | undefined;
  for (const policy of policies) {
    for (const statement of compile(policy)) {
      if (statement.unsupported) continue;
      if (!statement.action(request.action) || !statement.resource(request.resource)) continue;
      if (!statement.condition(context)) continue;
      if (statement.deny) return { effect: 'ExplicitDeny', statement: statement.source };
      allow ??= statement.source;
    }
  }
  return allow ? { effect: 'Allow', statement: allow } : { effect: 'ImplicitDeny' };
}

/**
 * What in `policies` the evaluator does not model (a condition operator such as
 * `IpAddress`, a policy variable), once each, with the statement that uses it. Such a statement
 * never applies: an Allow grants nothing, a Deny refuses nothing. Throws PolicyError on a
 * malformed document.
 */
export function unsupportedPolicyFeatures(policies: readonly PolicyDocument[]): string[] {
  const found = new Set<string>();
  for (const policy of policies) {
    for (const statement of compile(policy)) if (statement.unsupported) found.add(statement.unsupported);
  }
  return [...found];
}

/** Checks a policy document as IAM would on upload; throws PolicyError naming the problem. */
export function validatePolicy(policy: PolicyDocument): void {
  compile(policy);
}

function compile(policy: PolicyDocument): CompiledStatement[] {
  let statements = compiled.get(policy);
  if (!statements) {
    if (typeof policy !== 'object' || policy === null || !('Statement' in policy)) {
      throw new PolicyError(`a policy document needs a Statement, got ${JSON.stringify(policy)}`);
    }
    const list = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
    statements = list.map((s, i) => compileStatement(s, i));
    compiled.set(policy, statements);
  }
  return statements;
}

function compileStatement(statement: PolicyStatement, index: number): CompiledStatement {
  const where = `statement ${index}${statement?.Sid ? ` (Sid ${statement.Sid})` : ''}`;
  const fail = (what: string): never => {
    throw new PolicyError(`${where}: ${what}`);
  };
  if (typeof statement !== 'object' || statement === null) fail(`must be an object, got ${statement}`);
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') {
    fail(`Effect must be 'Allow' or 'Deny', got ${JSON.stringify(statement.Effect)}`);
  }
  const action = either(statement, 'Action', 'NotAction', fail);
  const resource = either(statement, 'Resource', 'NotResource', fail);
  for (const pattern of action.values) {
    if (pattern !== '*' && !/^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/.test(pattern)) {
      fail(`${action.key} ${JSON.stringify(pattern)} is not '*' or 'service:Action' (wildcards * and ?)`);
    }
  }
  for (const pattern of resource.values) {
    if (pattern !== '*' && !pattern.startsWith('arn:')) {
      fail(`${resource.key} ${JSON.stringify(pattern)} is not '*' or an ARN`);
    }
  }
  const actionMatch = anyOf(action.values.map((p) => wildcard(p, 'i', '.')));
  const resourceMatch = anyOf(resource.values.map(arnPattern));
  const conditions = compileConditions(statement.Condition, fail);
  const variable = [...resource.values, ...conditions.values].find((v) => v.includes('${'));
  const unsupported =
    conditions.unsupported ?? (variable ? `policy variable in ${JSON.stringify(variable)}` : undefined);
  return {
    source: statement,
    deny: statement.Effect === 'Deny',
    // NotAction/NotResource: the statement applies to everything they do not list
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html,
    // .../reference_policies_elements_notresource.html).
    action: action.negated ? (a) => !actionMatch(a) : actionMatch,
    resource: resource.negated ? (r) => !resourceMatch(r) : resourceMatch,
    condition: conditions.test,
    ...(unsupported && { unsupported: `${where}: ${unsupported}` }),
  };
}

function either(
  statement: PolicyStatement,
  key: 'Action' | 'Resource',
  notKey: 'NotAction' | 'NotResource',
  fail: (what: string) => never,
): { key: string; values: string[]; negated: boolean } {
  const has = statement[key] !== undefined;
  const hasNot = statement[notKey] !== undefined;
  if (has === hasNot) fail(`needs exactly one of ${key} and ${notKey}`);
  const k = has ? key : notKey;
  const raw = statement[k];
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0 || values.some((v) => typeof v !== 'string' || v === '')) {
    fail(`${k} must be a non-empty string or list of strings, got ${JSON.stringify(raw)}`);
  }
  return { key: k, values: values as string[], negated: !has };
}

function anyOf(matchers: Matcher[]): Matcher {
  return (value) => matchers.some((m) => m(value));
}

/** `*` any run of characters, `?` one character (`one` is the regex for one). */
function wildcard(pattern: string, flags: string, one: string, many = '.*'): Matcher {
  const source = [...pattern]
    .map((c) => (c === '*' ? many : c === '?' ? one : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const regex = new RegExp(`^${source}$`, flags);
  return (value) => regex.test(value);
}

/**
 * A Resource ARN pattern, case-sensitive. In the first five segments a wildcard stays within its
 * segment unless it ends it; in the resource part `*` spans anything, `/` and `:` included
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html:
 * "If the * wildcard is the last character of a resource ARN segment, it can expand to match
 * beyond the colon boundaries"; `arn:aws:s3:::bucket/*` matches every key, slashes included).
 */
function arnPattern(pattern: string): Matcher {
  if (pattern === '*') return () => true;
  const segments = pattern.split(':');
  const head = segments.slice(0, 5);
  const rest = segments.slice(5).join(':');
  const parts = head.map((segment) => segmentRegex(segment));
  if (segments.length > 5) parts.push(segmentRegex(rest, true));
  const regex = new RegExp(`^${parts.join(':')}$`);
  return (value) => regex.test(value);
}

function segmentRegex(segment: string, resourcePart = false): string {
  const chars = [...segment];
  return chars
    .map((c, i) => {
      if (c === '*') return resourcePart || i === chars.length - 1 ? '.*' : '[^:]*';
      if (c === '?') return resourcePart ? '.' : '[^:]';
      return c.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
    })
    .join('');
}

// ---- Conditions -----------------------------------------------------------------------------
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
// Operators AND together, keys within an operator AND together, a key's values OR together (NOR
// for a negated operator: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html).
// "If the key that you specify in a policy condition is not present in the request context, the
// values do not match and the condition is false. If the policy condition requires that the key
// is not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the
// condition is true. This logic applies to all condition operators except ...IfExists and Null."

type Compare = (actual: string, expected: string) => boolean;

const equalIgnoreCase: Compare = (a, e) => a.toLowerCase() === e.toLowerCase();
const like: Compare = (a, e) => wildcard(e, '', '.')(a);
const arnLike: Compare = (a, e) => arnPattern(e)(a);
/** The six comparisons of a Numeric or Date family, values parsed by `parse` (NaN never matches). */
function ordered(
  family: string,
  parse: (value: string) => number,
): Record<string, { compare: Compare; negated?: true }> {
  const on = (test: (a: number, e: number) => boolean): Compare => {
    return (a, e) => {
      const [x, y] = [parse(a), parse(e)];
      return !Number.isNaN(x) && !Number.isNaN(y) && test(x, y);
    };
  };
  const equals = on((a, e) => a === e);
  return {
    [`${family}Equals`]: { compare: equals },
    [`${family}NotEquals`]: { compare: equals, negated: true },
    [`${family}LessThan`]: { compare: on((a, e) => a < e) },
    [`${family}LessThanEquals`]: { compare: on((a, e) => a <= e) },
    [`${family}GreaterThan`]: { compare: on((a, e) => a > e) },
    [`${family}GreaterThanEquals`]: { compare: on((a, e) => a >= e) },
  };
}

/** Each supported operator: how a context value compares with one policy value, and whether it is negated. */
const OPERATORS: Readonly<Record<string, { compare: Compare; negated?: true }>> = {
  StringEquals: { compare: (a, e) => a === e },
  StringNotEquals: { compare: (a, e) => a === e, negated: true },
  StringEqualsIgnoreCase: { compare: equalIgnoreCase },
  StringNotEqualsIgnoreCase: { compare: equalIgnoreCase, negated: true },
  StringLike: { compare: like },
  StringNotLike: { compare: like, negated: true },
  ArnEquals: { compare: arnLike },
  ArnLike: { compare: arnLike },
  ArnNotEquals: { compare: arnLike, negated: true },
  ArnNotLike: { compare: arnLike, negated: true },
  Bool: { compare: equalIgnoreCase },
  ...ordered('Numeric', (v) => (v.trim() === '' ? Number.NaN : Number(v))),
  // Dates as ISO 8601 or epoch seconds, as IAM accepts them.
  ...ordered('Date', (v) => (/^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v))),
};

interface CompiledConditions {
  test: (context: ReadonlyMap<string, string>) => boolean;
  /** Every policy value, to find policy variables. */
  values: string[];
  unsupported?: string;
}

function compileConditions(
  condition: PolicyStatement['Condition'],
  fail: (what: string) => never,
): CompiledConditions {
  if (condition === undefined) return { test: () => true, values: [] };
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) {
    fail(`Condition must be an object of operators, got ${JSON.stringify(condition)}`);
  }
  const tests: Array<(context: ReadonlyMap<string, string>) => boolean> = [];
  const values: string[] = [];
  let unsupported: string | undefined;
  for (const [operator, block] of Object.entries(condition)) {
    if (typeof block !== 'object' || block === null || Array.isArray(block)) {
      fail(`Condition ${operator} must map condition keys to values, got ${JSON.stringify(block)}`);
    }
    const parsed = /^(?:(ForAnyValue|ForAllValues):)?(.+?)(IfExists)?$/.exec(operator)!;
    const [, set, name = '', ifExists] = parsed;
    const known = OPERATORS[name];
    if (!known && name !== 'Null') {
      unsupported ??= `condition operator ${operator} is not supported`;
      continue;
    }
    for (const [key, raw] of Object.entries(block)) {
      const list = (Array.isArray(raw) ? raw : [raw]).map((v) => (typeof v === 'boolean' ? String(v) : v));
      if (list.length === 0 || list.some((v) => typeof v !== 'string')) {
        fail(
          `Condition ${operator} ${key} must be a string, boolean or list of them, got ${JSON.stringify(raw)}`,
        );
      }
      values.push(...list);
      tests.push(keyTest(key.toLowerCase(), list, known, { set, ifExists: ifExists !== undefined }));
    }
  }
  return { test: (context) => tests.every((t) => t(context)), values, ...(unsupported && { unsupported }) };
}

function keyTest(
  key: string,
  expected: string[],
  operator: (typeof OPERATORS)[string] | undefined,
  options: { set: string | undefined; ifExists: boolean },
): (context: ReadonlyMap<string, string>) => boolean {
  // Null: true means "the key is absent", false "the key is present".
  if (!operator) return (context) => expected.some((e) => (e.toLowerCase() === 'true') === !context.has(key));
  const { compare, negated } = operator;
  return (context) => {
    const actual = context.get(key);
    if (actual === undefined) {
      // ForAllValues is true for an absent (empty) key; IfExists skips the check.
      if (options.ifExists || options.set === 'ForAllValues') return true;
      return negated === true;
    }
    // A context value here is single-valued: ForAnyValue/ForAllValues test the one value.
    const matches = expected.some((e) => compare(actual, e));
    return negated ? !matches : matches;
  };
}
