#!/usr/bin/env node
// Regenerates the golden outputs (test/**/goldens/*.json) from the current code: builds, then
// runs the golden tests with KEXEC_TS_UPDATE_GOLDENS=1. Review `git diff` before committing:
// a golden is only as good as the reading it was given.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const build = spawnSync('npx', ['tsc', '-p', '.'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const only = process.argv.slice(2);
const run = spawnSync(process.execPath, ['scripts/run-tests.mjs', ...(only.length > 0 ? only : ['goldens'])], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, KEXEC_TS_UPDATE_GOLDENS: '1' },
});
process.exit(run.status ?? 1);
