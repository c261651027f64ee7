import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository this module runs from (its cdk.json and infra/), found upwards from here. */
export function projectRoot(from: string = fileURLToPath(import.meta.url)): string | undefined {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'cdk.json')) && existsSync(join(dir, 'infra'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Every file the synthesized stack depends on: the CDK app, the handlers it bundles, the lock file. */
async function sourceDigest(root: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(join(root, dir), { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile())
        hash
          .update(path)
          .update('\0')
          .update(await readFile(join(root, path)))
          .update('\0');
    }
  };
  for (const file of ['cdk.json', 'package-lock.json']) hash.update(await readFile(join(root, file)));
  await walk('infra');
  await walk('lambda');
  return hash.digest('hex').slice(0, 16);
}

/** What the cdk CLI adds to an app's context: the metadata that names each resource's construct and asset. */
const CLI_CONTEXT = { 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true };

/**
 * The default stack, synthesized as `cdk synth` synthesizes it (cdk.json's app and context,
 * the handlers bundled by esbuild): the deployment `fanout run --endpoint` emulates when no
 * `--template` is given. Kept in the system's temporary folder under a digest of its sources,
 * so it is synthesized again only when they change (about 6 s). Resolves to the cdk.out folder.
 */
export async function synthesizeDefaultStack(root = projectRoot()): Promise<string> {
  if (!root) throw new Error('the CDK app (cdk.json, infra/) is not beside this fanout: pass --template DIR');
  const dir = join(tmpdir(), `fanout-default-stack-${await sourceDigest(root)}`);
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  const cdk = JSON.parse(await readFile(join(root, 'cdk.json'), 'utf8')) as { app: string; context?: object };
  const [command, ...args] = cdk.app.split(/\s+/);
  const staging = `${dir}.${process.pid}.tmp`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const stderr = await new Promise<string>((done, fail) => {
    const child = spawn(command === 'node' ? process.execPath : (command as string), args, {
      cwd: root,
      env: {
        ...process.env,
        CDK_OUTDIR: staging,
        CDK_CONTEXT_JSON: JSON.stringify({ ...CLI_CONTEXT, ...cdk.context }),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let text = '';
    child.stderr.on('data', (d) => {
      text = (text + d).slice(-4000);
    });
    child.once('error', fail);
    child.once('exit', (code) =>
      code === 0
        ? done(text)
        : fail(new Error(`synthesizing the default stack failed (exit ${code}): ${text}`)),
    );
  });
  if (!existsSync(join(staging, 'manifest.json')))
    throw new Error(`synthesizing the default stack wrote no manifest: ${stderr}`);
  try {
    await rename(staging, dir);
  } catch {
    // Another run synthesized it meanwhile: theirs is the same.
    await rm(staging, { recursive: true, force: true });
  }
  return dir;
}
