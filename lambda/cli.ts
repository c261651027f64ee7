// The `fanout` command's entry point; see cli/main.ts.
import { enableCompileCache } from 'node:module';

// Node keeps the bytecode it compiles for the CLI and its dependencies on disk (under the
// OS temp dir, or NODE_COMPILE_CACHE), and later runs start from it instead of compiling
// again. It never fails a run; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
enableCompileCache();
const { main } = await import('./cli/main.js');

process.exitCode = await main(process.argv);
