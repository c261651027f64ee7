// The functions a synthesized stack deploys, read from its cloud assembly (cdk.out): what
// bench/cold-start.mjs measures and test/infra/handler-bundles.test.ts checks.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** What starts the probe's report on its stdout (the handlers log JSON lines there too). */
const MARK = 'cold-start-probe ';

/**
 * `cdk synth` exactly as a user runs it (cdk.json's app, cdk-nag included) in `dir` (this
 * repository by default), into `out`, offline, with no AWS credentials or config within reach.
 */
export function synth(out, dir = ROOT) {
  const env = {
    ...process.env,
    PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`,
    AWS_CONFIG_FILE: join(out, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(out, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
  for (const name of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_REGION',
  ]) {
    delete env[name];
  }
  const cdk = join(ROOT, 'node_modules', '.bin', 'cdk');
  const res = spawnSync(cdk, ['synth', '--quiet', '--no-notices', '--output', out], {
    cwd: dir,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) throw new Error(`cdk synth in ${dir} failed:\n${res.stderr.slice(-3000)}`);
  return { stdout: res.stdout, stderr: res.stderr };
}

/**
 * The Node.js functions of every stack in the cloud assembly `out` whose code is an asset
 * (the stack's own functions, not CDK's helpers): name (the construct's id), bundle file and
 * the environment Lambda gives it (values that are not plain strings become placeholders).
 */
export function functionAssets(out) {
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  const functions = [];
  for (const artifact of Object.values(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const template = JSON.parse(readFileSync(join(out, artifact.properties.templateFile), 'utf8'));
    for (const resource of Object.values(template.Resources)) {
      const asset = resource.Metadata?.['aws:asset:path'];
      const { Handler, Runtime, Environment } = resource.Properties ?? {};
      if (resource.Type !== 'AWS::Lambda::Function' || !asset || !String(Runtime).startsWith('nodejs'))
        continue;
      const path = resource.Metadata['aws:cdk:path'].split('/');
      const moduleName = Handler.slice(0, Handler.lastIndexOf('.'));
      const file = ['.mjs', '.js', '.cjs']
        .map((ext) => join(out, asset, moduleName + ext))
        .find((f) => existsSync(f));
      if (!file) throw new Error(`${asset}: no module ${moduleName} for handler ${Handler}`);
      const environment = Object.fromEntries(
        Object.entries(Environment?.Variables ?? {}).map(([k, v]) => [
          k,
          typeof v === 'string' ? v : `placeholder-${k}`,
        ]),
      );
      functions.push({ name: path[path.length - 2], file, environment });
    }
  }
  if (functions.length === 0) throw new Error(`${out}: no Node.js function with a bundled asset`);
  return functions;
}

/** Bytes of a bundle, raw and gzipped (level 9). */
export function bundleSize(file) {
  const bytes = readFileSync(file);
  return { bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}

/**
 * The npm packages a bundle holds code from, by its source map (`<file>.map`, whose sources
 * name each input file esbuild kept): e.g. '@aws-sdk/client-s3'.
 */
export function bundledPackages(file) {
  const map = JSON.parse(readFileSync(`${file}.map`, 'utf8'));
  const names = map.sources.map((source) => source.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1]);
  return new Set(names.filter(Boolean));
}

/** The AWS SDK clients a bundle holds, by service ('s3', 'dynamodb', …), sorted. */
export function bundledSdkClients(file) {
  const prefix = '@aws-sdk/client-';
  return [...bundledPackages(file)]
    .filter((name) => name.startsWith(prefix))
    .map((name) => name.slice(prefix.length))
    .sort();
}

/**
 * Imports the bundle named by argv[1] as Lambda's runtime does; then, given an event (argv[2]),
 * calls its handler once with it. Prints how long each took.
 */
const PROBE = `const t0 = performance.now();
const mod = await import(process.argv[1]);
const t1 = performance.now();
const report = { importMs: t1 - t0, firstCallMs: null };
if (process.argv[2]) {
  try {
    await mod.handler(JSON.parse(process.argv[2]), { getRemainingTimeInMillis: () => 900000 });
    report.firstCallMs = performance.now() - t1;
  } catch (err) {
    report.firstCallError = String(err?.message ?? err);
  }
}
process.stdout.write('${MARK}' + JSON.stringify(report) + '\\n');
process.exit(0);`;

/**
 * For each function, an event its handler takes without calling AWS: the first call builds the
 * function's services (its SDK clients) and returns. Empty batches; for the API, an unknown route (404).
 */
export const NO_OP_EVENTS = {
  Dispatcher: { Records: [] },
  Worker: { Records: [] },
  DeadLetters: { Records: [] },
  Api: { httpMethod: 'GET', path: '/', resource: '/', pathParameters: null, body: null },
};

/**
 * A cold start of `fn` in a fresh process, with the environment Lambda gives it: the import's
 * ms, the first call's (on its NO_OP_EVENTS event, when it has one) or the error it threw
 * (firstCallError), and the process's wall ms. Rejects with the process's output when the
 * import fails.
 */
export function coldStart(fn) {
  const env = {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    ...fn.environment,
  };
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const event = NO_OP_EVENTS[fn.name];
    const args = ['--input-type=module', '-e', PROBE, pathToFileURL(fn.file).href];
    const child = spawn(process.execPath, event ? [...args, JSON.stringify(event)] : args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) {
        const what = `${fn.name}: ${fn.file} failed to load`;
        return reject(new Error(`${what} (exit ${code}):\n${stderr}`));
      }
      const report = stdout.split('\n').find((line) => line.startsWith(MARK));
      if (!report) return reject(new Error(`${fn.name}: the probe printed no report:\n${stdout}${stderr}`));
      resolve({ ...JSON.parse(report.slice(MARK.length)), wallMs });
    });
  });
}
