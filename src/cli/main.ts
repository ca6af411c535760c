#!/usr/bin/env node
// The command's entry point: the only place that sets the process's exit code.
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
