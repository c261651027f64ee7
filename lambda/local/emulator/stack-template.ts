import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A CloudFormation value as the template writes it: literals, lists, maps and intrinsic functions. */
export type TemplateValue = unknown;

/** One resource of a template. */
export interface TemplateResource {
  Type: string;
  Properties?: Record<string, TemplateValue>;
  Metadata?: Record<string, TemplateValue>;
}

/** A synthesized stack: its template and the folder its assets are in. */
export interface SynthesizedStack {
  /** The stack's name (its artifact id in cdk.out's manifest). */
  stackName: string;
  /** The cdk.out folder. */
  dir: string;
  resources: Record<string, TemplateResource>;
}

/** A problem with a cdk.out folder or its template, named so the user can find it. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

interface CloudAssemblyManifest {
  artifacts?: Record<string, { type?: string; properties?: { templateFile?: string } }>;
}

const readJson = (file: string, what: string): unknown => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TemplateError(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TemplateError(`${what} ${file} is not JSON: ${(err as Error).message}`);
  }
};

/**
 * Reads the stack of a cdk.out folder (what `cdk synth` writes): its manifest's one CloudFormation
 * stack, or the one named `stackName` when the assembly has several.
 */
export function readSynthesizedStack(dir: string, stackName?: string): SynthesizedStack {
  const manifest = readJson(join(dir, 'manifest.json'), 'cloud assembly manifest') as CloudAssemblyManifest;
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(
    ([, artifact]) => artifact.type === 'aws:cloudformation:stack',
  );
  if (stacks.length === 0)
    throw new TemplateError(`${dir} holds no CloudFormation stack (run \`cdk synth\`)`);
  const chosen = stackName ? stacks.filter(([name]) => name === stackName) : stacks;
  if (chosen.length !== 1) {
    const names = stacks.map(([name]) => name).join(', ');
    throw new TemplateError(
      stackName
        ? `${dir} has no stack ${stackName} (it has ${names})`
        : `${dir} has ${stacks.length} stacks (${names}): name one`,
    );
  }
  const [name, artifact] = chosen[0] as [string, { properties?: { templateFile?: string } }];
  const templateFile = artifact.properties?.templateFile ?? `${name}.template.json`;
  const template = readJson(join(dir, templateFile), 'template') as {
    Resources?: Record<string, TemplateResource>;
  };
  if (!template.Resources || typeof template.Resources !== 'object')
    throw new TemplateError(`template ${templateFile} has no Resources`);
  return { stackName: name, dir, resources: template.Resources };
}

/** What a Ref and a GetAtt of each resource stand for in the emulation. */
export interface ResourceValues {
  ref?: string;
  attributes?: Record<string, string>;
}

/** Pseudo parameters (`AWS::Region`, …) and the values of the resources the emulation made. */
export interface ResolveContext {
  region: string;
  accountId: string;
  stackName: string;
  resources: ReadonlyMap<string, ResourceValues>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Resolves the intrinsic functions of a template value (Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
 * Fn::Select, Fn::Split) to what they stand for in the emulation; `path` names the value in
 * errors. A function the emulation does not know, or a Ref to a resource it did not make, is
 * an error naming both.
 */
export function resolveValue(value: TemplateValue, context: ResolveContext, path: string): unknown {
  if (Array.isArray(value)) return value.map((item, i) => resolveValue(item, context, `${path}[${i}]`));
  if (!isRecord(value)) return value;
  const keys = Object.keys(value);
  const [fn] = keys;
  if (keys.length === 1 && fn && (fn === 'Ref' || fn.startsWith('Fn::'))) {
    return resolveIntrinsic(fn, value[fn], context, path);
  }
  return Object.fromEntries(keys.map((key) => [key, resolveValue(value[key], context, `${path}.${key}`)]));
}

function pseudo(name: string, context: ResolveContext): string | undefined {
  switch (name) {
    case 'AWS::Region':
      return context.region;
    case 'AWS::AccountId':
      return context.accountId;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return context.stackName;
    default:
      return undefined;
  }
}

function refOf(name: string, context: ResolveContext, path: string): string {
  const value = pseudo(name, context) ?? context.resources.get(name)?.ref;
  if (value === undefined) throw new TemplateError(`${path}: Ref ${name} names nothing the emulation made`);
  return value;
}

function attributeOf(id: string, attribute: string, context: ResolveContext, path: string): string {
  const value = context.resources.get(id)?.attributes?.[attribute];
  if (value === undefined)
    throw new TemplateError(`${path}: Fn::GetAtt ${id}.${attribute} names nothing the emulation made`);
  return value;
}

function resolveIntrinsic(fn: string, args: unknown, context: ResolveContext, path: string): unknown {
  const here = `${path} (${fn})`;
  const text = (v: unknown) => {
    const resolved = resolveValue(v, context, here);
    if (typeof resolved !== 'string' && typeof resolved !== 'number')
      throw new TemplateError(`${here}: expected a string, got ${JSON.stringify(resolved)}`);
    return String(resolved);
  };
  switch (fn) {
    case 'Ref':
      return refOf(String(args), context, here);
    case 'Fn::GetAtt': {
      const [id, attribute] = Array.isArray(args) ? args : String(args).split('.');
      return attributeOf(String(id), String(attribute), context, here);
    }
    case 'Fn::Join': {
      const [separator, items] = args as [string, unknown];
      const list = resolveValue(items, context, here);
      if (!Array.isArray(list)) throw new TemplateError(`${here}: the list to join is not a list`);
      return list.map((item) => text(item)).join(separator);
    }
    case 'Fn::Select': {
      const [index, items] = args as [unknown, unknown];
      const list = resolveValue(items, context, here);
      if (!Array.isArray(list)) throw new TemplateError(`${here}: the list to select from is not a list`);
      return list[Number(text(index))];
    }
    case 'Fn::Split': {
      const [separator, source] = args as [string, unknown];
      return text(source).split(separator);
    }
    case 'Fn::Sub': {
      const [format, variables] = (Array.isArray(args) ? args : [args, {}]) as [
        string,
        Record<string, unknown>,
      ];
      return String(format).replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        if (name.startsWith('!')) return `\${${name.slice(1)}}`;
        if (variables && name in variables) return text(variables[name]);
        const [id, attribute] = name.split('.');
        return attribute ? attributeOf(String(id), attribute, context, here) : refOf(name, context, here);
      });
    }
    default:
      throw new TemplateError(`${path}: the emulation does not resolve ${fn}`);
  }
}
