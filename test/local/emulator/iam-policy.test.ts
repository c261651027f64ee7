import { describe, expect, it } from 'vitest';
import {
  evaluatePolicies,
  type PolicyDocument,
  type PolicyStatement,
  unsupportedPolicyFeatures,
  validatePolicy,
} from '../../../lambda/local/emulator/iam-policy.js';

const BUCKET = 'arn:aws:s3:::fanout-bucket';
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:fanout-chunks';

function policy(...Statement: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement };
}

function effect(
  policies: PolicyDocument[],
  action: string,
  resource: string,
  context?: Record<string, string>,
) {
  return evaluatePolicies(policies, { action, resource, ...(context && { context }) }).effect;
}

describe('evaluatePolicies: actions and resources', () => {
  const allowGet = policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: `${BUCKET}/*` });

  it.each([
    ['s3:GetObject', `${BUCKET}/results/a.json`, 'Allow'],
    // Action names are case-insensitive (IAM docs, "IAM JSON policy elements: Action").
    ['S3:getobject', `${BUCKET}/results/a.json`, 'Allow'],
    ['s3:PutObject', `${BUCKET}/results/a.json`, 'ImplicitDeny'],
    // The bucket itself is not bucket/*.
    ['s3:GetObject', BUCKET, 'ImplicitDeny'],
    // Resource matching is case-sensitive.
    ['s3:GetObject', 'arn:aws:s3:::Fanout-bucket/a', 'ImplicitDeny'],
    // `*` spans `/` and `:` in the resource part.
    ['s3:GetObject', `${BUCKET}/a/b:c/d`, 'Allow'],
  ])('%s on %s → %s', (action, resource, expected) => {
    expect(effect([allowGet], action, resource)).toBe(expected);
  });

  it('matches action wildcards * and ?', () => {
    const p = policy({ Effect: 'Allow', Action: ['sqs:*Message', 'dynamodb:?etItem'], Resource: '*' });
    expect(effect([p], 'sqs:SendMessage', QUEUE)).toBe('Allow');
    expect(effect([p], 'sqs:ReceiveMessage', QUEUE)).toBe('Allow');
    expect(effect([p], 'sqs:SendMessageBatch', QUEUE)).toBe('ImplicitDeny');
    expect(effect([p], 'dynamodb:GetItem', 'arn:aws:dynamodb:us-east-1:1:table/T')).toBe('Allow');
    expect(effect([p], 'dynamodb:PutItem', 'arn:aws:dynamodb:us-east-1:1:table/T')).toBe('ImplicitDeny');
    expect(effect([p], 'dynamodb:BatchGetItem', 'arn:aws:dynamodb:us-east-1:1:table/T')).toBe('ImplicitDeny');
  });

  it('keeps a wildcard inside its ARN segment unless it ends the segment', () => {
    const p = policy({
      Effect: 'Allow',
      Action: 'sqs:*',
      Resource: 'arn:aws:sqs:us-*-1:123456789012:fanout-*',
    });
    expect(effect([p], 'sqs:SendMessage', QUEUE)).toBe('Allow');
    expect(effect([p], 'sqs:SendMessage', 'arn:aws:sqs:eu-west-1:123456789012:fanout-chunks')).toBe(
      'ImplicitDeny',
    );
    expect(effect([p], 'sqs:SendMessage', 'arn:aws:sqs:us-east-1:999999999999:fanout-chunks')).toBe(
      'ImplicitDeny',
    );
    const table = policy({
      Effect: 'Allow',
      Action: 'dynamodb:Query',
      Resource: 'arn:aws:dynamodb:*:*:table/jobs/index/?y*',
    });
    expect(effect([table], 'dynamodb:Query', 'arn:aws:dynamodb:us-east-1:1:table/jobs/index/byStatus')).toBe(
      'Allow',
    );
    expect(effect([table], 'dynamodb:Query', 'arn:aws:dynamodb:us-east-1:1:table/jobs')).toBe('ImplicitDeny');
  });

  it('lets an explicit Deny win over any Allow, in any policy', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html:
    // an explicit deny in any policy overrides any allow.
    const allowAll = policy({ Effect: 'Allow', Action: '*', Resource: '*' });
    const deny = policy({
      Sid: 'NoDelete',
      Effect: 'Deny',
      Action: 's3:DeleteObject',
      Resource: `${BUCKET}/inputs/*`,
    });
    const decision = evaluatePolicies([allowAll, deny], {
      action: 's3:DeleteObject',
      resource: `${BUCKET}/inputs/a`,
    });
    expect(decision).toEqual({
      effect: 'ExplicitDeny',
      statement: expect.objectContaining({ Sid: 'NoDelete' }),
    });
    expect(effect([allowAll, deny], 's3:DeleteObject', `${BUCKET}/results/a`)).toBe('Allow');
    expect(effect([], 's3:GetObject', `${BUCKET}/a`)).toBe('ImplicitDeny');
  });

  it('NotAction: an Allow grants every action it does not list; a Deny refuses them', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html:
    // "Allow" with NotAction iam:* on "*" allows everything except IAM actions.
    const allowButIam = policy({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' });
    expect(effect([allowButIam], 's3:GetObject', `${BUCKET}/a`)).toBe('Allow');
    expect(effect([allowButIam], 'iam:CreateUser', 'arn:aws:iam::1:user/x')).toBe('ImplicitDeny');
    const denyButSqs = policy(
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', NotAction: ['sqs:*'], Resource: '*' },
    );
    expect(effect([denyButSqs], 'sqs:SendMessage', QUEUE)).toBe('Allow');
    expect(effect([denyButSqs], 's3:GetObject', `${BUCKET}/a`)).toBe('ExplicitDeny');
  });

  it('NotResource: the statement applies to every resource it does not list', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html:
    // a Deny with NotResource denies everything except the listed resources.
    const p = policy(
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:*', NotResource: [BUCKET, `${BUCKET}/*`] },
    );
    expect(effect([p], 's3:GetObject', `${BUCKET}/a`)).toBe('Allow');
    expect(effect([p], 's3:GetObject', 'arn:aws:s3:::other/a')).toBe('ExplicitDeny');
    const allow = policy({ Effect: 'Allow', Action: 's3:GetObject', NotResource: `${BUCKET}/secret/*` });
    expect(effect([allow], 's3:GetObject', `${BUCKET}/public/a`)).toBe('Allow');
    expect(effect([allow], 's3:GetObject', `${BUCKET}/secret/a`)).toBe('ImplicitDeny');
  });
});

describe('evaluatePolicies: conditions', () => {
  const allowIf = (Condition: PolicyStatement['Condition']) =>
    policy({ Effect: 'Allow', Action: 's3:ListBucket', Resource: BUCKET, Condition });
  const list = (p: PolicyDocument, context: Record<string, string>) =>
    effect([p], 's3:ListBucket', BUCKET, context);

  it('StringEquals / StringLike / their negations, values OR-ed, keys case-insensitive', () => {
    expect(list(allowIf({ StringEquals: { 's3:prefix': ['a/', 'b/'] } }), { 's3:prefix': 'b/' })).toBe(
      'Allow',
    );
    expect(list(allowIf({ StringEquals: { 'S3:Prefix': 'a/' } }), { 's3:prefix': 'a/' })).toBe('Allow');
    expect(list(allowIf({ StringEquals: { 's3:prefix': 'a/' } }), { 's3:prefix': 'A/' })).toBe(
      'ImplicitDeny',
    );
    expect(list(allowIf({ StringEqualsIgnoreCase: { 's3:prefix': 'a/' } }), { 's3:prefix': 'A/' })).toBe(
      'Allow',
    );
    expect(
      list(allowIf({ StringLike: { 's3:prefix': 'jobs/*/results/' } }), { 's3:prefix': 'jobs/j1/results/' }),
    ).toBe('Allow');
    expect(list(allowIf({ StringLike: { 's3:prefix': 'jobs/?' } }), { 's3:prefix': 'jobs/12' })).toBe(
      'ImplicitDeny',
    );
    // Negated operators with several values: NOR.
    expect(list(allowIf({ StringNotEquals: { 's3:prefix': ['a/', 'b/'] } }), { 's3:prefix': 'b/' })).toBe(
      'ImplicitDeny',
    );
    expect(list(allowIf({ StringNotEquals: { 's3:prefix': ['a/', 'b/'] } }), { 's3:prefix': 'c/' })).toBe(
      'Allow',
    );
    expect(list(allowIf({ StringNotLike: { 's3:prefix': 'secret*' } }), { 's3:prefix': 'secret/x' })).toBe(
      'ImplicitDeny',
    );
  });

  it('a key missing from the context: false, true for negated operators, IfExists and ForAllValues', () => {
    // reference_policies_elements_condition_operators.html: "If the key … is not present in the
    // request context, the values do not match and the condition is false. If the policy condition
    // requires that the key is not matched, such as StringNotLike … the condition is true."
    expect(list(allowIf({ StringEquals: { 's3:prefix': 'a/' } }), {})).toBe('ImplicitDeny');
    expect(list(allowIf({ StringNotLike: { 's3:prefix': 'a/*' } }), {})).toBe('Allow');
    expect(list(allowIf({ StringEqualsIfExists: { 's3:prefix': 'a/' } }), {})).toBe('Allow');
    expect(list(allowIf({ StringEqualsIfExists: { 's3:prefix': 'a/' } }), { 's3:prefix': 'b/' })).toBe(
      'ImplicitDeny',
    );
    expect(list(allowIf({ 'ForAllValues:StringEquals': { 's3:prefix': 'a/' } }), {})).toBe('Allow');
    expect(list(allowIf({ 'ForAnyValue:StringEquals': { 's3:prefix': 'a/' } }), {})).toBe('ImplicitDeny');
    expect(
      list(allowIf({ 'ForAnyValue:StringEquals': { 's3:prefix': ['x', 'a/'] } }), { 's3:prefix': 'a/' }),
    ).toBe('Allow');
  });

  it('Bool, Null, Numeric, Date and Arn operators; operators AND-ed', () => {
    const denyInsecure = policy(
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      {
        Effect: 'Deny',
        Action: 's3:*',
        Resource: '*',
        Condition: { Bool: { 'aws:SecureTransport': false } },
      },
    );
    expect(effect([denyInsecure], 's3:GetObject', `${BUCKET}/a`, { 'aws:SecureTransport': 'false' })).toBe(
      'ExplicitDeny',
    );
    expect(effect([denyInsecure], 's3:GetObject', `${BUCKET}/a`, { 'aws:SecureTransport': 'true' })).toBe(
      'Allow',
    );
    expect(list(allowIf({ Null: { 's3:prefix': 'true' } }), {})).toBe('Allow');
    expect(list(allowIf({ Null: { 's3:prefix': 'true' } }), { 's3:prefix': '' })).toBe('ImplicitDeny');
    expect(list(allowIf({ Null: { 's3:prefix': 'false' } }), { 's3:prefix': '' })).toBe('Allow');
    expect(list(allowIf({ NumericLessThanEquals: { 's3:max-keys': '10' } }), { 's3:max-keys': '10' })).toBe(
      'Allow',
    );
    expect(list(allowIf({ NumericLessThan: { 's3:max-keys': '10' } }), { 's3:max-keys': '10' })).toBe(
      'ImplicitDeny',
    );
    expect(list(allowIf({ NumericGreaterThan: { 's3:max-keys': '10' } }), { 's3:max-keys': 'ten' })).toBe(
      'ImplicitDeny',
    );
    expect(
      list(allowIf({ DateLessThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } }), {
        'aws:CurrentTime': '2026-12-08T00:00:00Z',
      }),
    ).toBe('Allow');
    expect(
      list(allowIf({ DateGreaterThan: { 'aws:EpochTime': '1800000000' } }), {
        'aws:EpochTime': '1700000000',
      }),
    ).toBe('ImplicitDeny');
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:Worker';
    expect(
      list(allowIf({ ArnLike: { 'aws:SourceArn': 'arn:aws:lambda:*:123456789012:function:*' } }), {
        'aws:SourceArn': arn,
      }),
    ).toBe('Allow');
    expect(list(allowIf({ ArnNotEquals: { 'aws:SourceArn': arn } }), { 'aws:SourceArn': arn })).toBe(
      'ImplicitDeny',
    );
    const both = allowIf({ StringEquals: { 's3:prefix': 'a/' }, NumericLessThan: { 's3:max-keys': '5' } });
    expect(list(both, { 's3:prefix': 'a/', 's3:max-keys': '4' })).toBe('Allow');
    expect(list(both, { 's3:prefix': 'a/', 's3:max-keys': '6' })).toBe('ImplicitDeny');
  });

  it('a statement with an unsupported operator never applies, and is listed', () => {
    const p = policy(
      {
        Sid: 'FromOffice',
        Effect: 'Allow',
        Action: 's3:*',
        Resource: '*',
        Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
      },
      { Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { BinaryEquals: { 'aws:x': 'QQ==' } } },
    );
    expect(effect([p], 's3:GetObject', `${BUCKET}/a`, { 'aws:SourceIp': '10.1.1.1', 'aws:x': 'QQ==' })).toBe(
      'ImplicitDeny',
    );
    expect(unsupportedPolicyFeatures([p])).toEqual([
      'statement 0 (Sid FromOffice): condition operator IpAddress is not supported',
      'statement 1: condition operator BinaryEquals is not supported',
    ]);
    const variable = policy({ Effect: 'Allow', Action: 's3:*', Resource: `${BUCKET}/\${aws:username}/*` });
    expect(effect([variable], 's3:GetObject', `${BUCKET}/\${aws:username}/a`)).toBe('ImplicitDeny');
    expect(unsupportedPolicyFeatures([variable])).toEqual([
      `statement 0: policy variable in "${BUCKET}/\${aws:username}/*"`,
    ]);
    expect(unsupportedPolicyFeatures([policy({ Effect: 'Allow', Action: '*', Resource: '*' })])).toEqual([]);
  });
});

describe('malformed policies', () => {
  it.each<[string, unknown, RegExp]>([
    ['no Statement', { Version: '2012-10-17' }, /needs a Statement/],
    [
      'bad Effect',
      policy({ Effect: 'allow' as 'Allow', Action: '*', Resource: '*' }),
      /statement 0: Effect must be 'Allow' or 'Deny', got "allow"/,
    ],
    [
      'Action and NotAction',
      policy({ Effect: 'Allow', Action: '*', NotAction: 's3:*', Resource: '*' }),
      /exactly one of Action and NotAction/,
    ],
    [
      'no Resource',
      policy({ Sid: 'S', Effect: 'Allow', Action: '*' }),
      /statement 0 \(Sid S\): needs exactly one of Resource and NotResource/,
    ],
    [
      'action without service',
      policy({ Effect: 'Allow', Action: 'GetObject', Resource: '*' }),
      /Action "GetObject" is not '\*' or 'service:Action'/,
    ],
    [
      'resource not an ARN',
      policy({ Effect: 'Allow', Action: '*', Resource: 'bucket/*' }),
      /Resource "bucket\/\*" is not '\*' or an ARN/,
    ],
    [
      'empty list',
      policy({ Effect: 'Allow', Action: [], Resource: '*' }),
      /Action must be a non-empty string/,
    ],
    [
      'condition value',
      policy({
        Effect: 'Allow',
        Action: '*',
        Resource: '*',
        Condition: { StringEquals: { k: 1 as unknown as string } },
      }),
      /Condition StringEquals k must be a string/,
    ],
  ])('%s', (_, document, message) => {
    expect(() => validatePolicy(document as PolicyDocument)).toThrow(message);
    expect(() =>
      evaluatePolicies([document as PolicyDocument], { action: 's3:GetObject', resource: '*' }),
    ).toThrow(message);
  });

  it('accepts a single statement object', () => {
    const single: PolicyDocument = {
      Statement: { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: QUEUE },
    };
    expect(effect([single], 'sqs:SendMessage', QUEUE)).toBe('Allow');
  });
});
