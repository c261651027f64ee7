// The `fanout` command's entry point; see cli/main.ts.
import { main } from './cli/main.js';

process.exitCode = await main(process.argv);
