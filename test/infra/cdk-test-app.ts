import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll } from 'vitest';

/** The feature flags `cdk synth` uses (cdk.json's context), so tests synthesize what users deploy. */
export const CDK_CONTEXT = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

// Every test app writes its cloud assembly (templates, bundles) under one directory, removed after the file.
const outRoot = mkdtempSync(join(tmpdir(), 'fanout-infra-'));
let apps = 0;
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

/** An App with the project's feature flags, writing into a temporary directory. */
export function testApp(): App {
  apps += 1;
  return new App({ context: CDK_CONTEXT, outdir: join(outRoot, `app-${apps}`) });
}

/** The logical id of a construct's CloudFormation resource (the construct itself or its default child). */
export function logicalId(construct: IConstruct): string {
  const resource = (construct.node.defaultChild ?? construct) as IConstruct & { logicalId: string };
  return Stack.of(construct).resolve(resource.logicalId) as string;
}

/** A CloudFormation value as one readable string: `<Logical.Attr>` for GetAtt, `<Logical>` for Ref, joins concatenated. */
export function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    if (Array.isArray(node['Fn::Join'])) {
      const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
      return items.map(flat).join(delimiter);
    }
    if (Array.isArray(node['Fn::GetAtt'])) return `<${(node['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Ref' in node) return `<${String(node.Ref)}>`;
  }
  return JSON.stringify(value);
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/**
 * Every permission a role holds through the template's IAM policies, one `action resource`
 * line each, sorted: a role's complete grant, to compare with what its handler needs.
 */
export function permissionsOf(template: Template, roleLogicalId: string): string[] {
  const lines: string[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = (policy.Properties.Roles ?? []) as Array<{ Ref: string }>;
    if (!roles.some((r) => r.Ref === roleLogicalId)) continue;
    for (const s of policy.Properties.PolicyDocument.Statement as Statement[]) {
      const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      for (const action of actions) {
        for (const resource of resources) {
          const condition = s.Condition ? ` if ${JSON.stringify(s.Condition)}` : '';
          lines.push(`${s.Effect === 'Allow' ? '' : `${s.Effect} `}${action} ${flat(resource)}${condition}`);
        }
      }
    }
  }
  return lines.sort();
}
