/**
 * The integration project's global set-up: installs the tools its tests run, once. Python's
 * .venv (moto's server, cfn-lint), .venv-localstack (LocalStack, the second S3/SQS emulator)
 * and, as root with apt-get, Debian's Chromium. Each script
 * does nothing, quietly, when its tools are there, and says on screen what it installs.
 * The unit project never runs this: it needs none of them.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

function run(script: string, ...args: string[]): void {
  const result = spawnSync('bash', [join(ROOT, 'scripts', script), ...args], { stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(
      `scripts/${script} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`,
    );
  }
}

export default function setup(): void {
  run('setup-python.sh');
  run('setup-python.sh', 'localstack');
  run('setup-system.sh', 'chromium');
}
