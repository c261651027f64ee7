// The `fanout` command's entry point; see cli/main.ts.
//
// This file parses and links on any Node that runs ES modules, so that an older Node than
// the CLI needs prints one line saying what to do instead of a SyntaxError. Keep it so: old
// syntax only, static imports of Node's own modules (as a namespace: a named import an old
// Node lacks fails to link) and of exit-codes.ts only; everything else loads with import()
// once the version is known to be enough. test/tooling/old-node.e2e.test.ts runs it on one.
import * as nodeModule from 'node:module';
import { EXIT } from './cli/exit-codes.js';

/** The oldest Node major version the CLI runs on: package.json's engines.node, put in by scripts/build.mjs. */
declare const REQUIRED_NODE_MAJOR: number;

const running = process.versions.node;
if (Number(running.split('.')[0]) < REQUIRED_NODE_MAJOR) {
  process.stderr.write(
    `fanout: needs Node.js ${REQUIRED_NODE_MAJOR} or newer, and this is Node.js ${running}; ` +
      `in the fanout folder run it as \`npx fanout\` (it uses the Node ${REQUIRED_NODE_MAJOR} that npm ci installed there), ` +
      `or install Node.js ${REQUIRED_NODE_MAJOR}\n`,
  );
  process.exitCode = EXIT.NODE_TOO_OLD;
} else {
  // Node keeps the bytecode it compiles for the CLI and its dependencies on disk (under the
  // OS temp dir, or NODE_COMPILE_CACHE), and later runs start from it instead of compiling
  // again. It never fails a run; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
  nodeModule.enableCompileCache();
  import('./cli/main.js')
    .then(({ main }) => main(process.argv))
    .then(
      (code) => {
        process.exitCode = code;
      },
      // The CLI could not load (a package missing from node_modules): not "some URLs failed".
      (err) => {
        process.stderr.write(`fanout: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exitCode = EXIT.FAILED;
      },
    );
}
