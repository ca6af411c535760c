#!/usr/bin/env node
// Regenerates test/fixtures/grub-script-conformance/expected/*.out: GRUB's grub-shell-tester
// runs each of these scripts in GRUB and in bash and requires the same output, so bash's output
// is the expected one. Cases whose expectation GRUB's test states itself ("reference": "stated"
// in manifest.json) are written from that statement (an empty output), not from bash.
// `--check` compares instead of writing and exits 1 on a difference.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../test/fixtures/grub-script-conformance/', import.meta.url));
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const check = process.argv.includes('--check');
// A fixed environment and an empty working directory: the scripts read no variables GRUB would
// not have, and an unquoted `\*` can match no file.
const cwd = mkdtempSync(join(tmpdir(), 'grub-conformance-'));
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
mkdirSync(join(dir, 'expected'), { recursive: true });
let differences = 0;
try {
  for (const testCase of manifest.cases) {
    if (testCase.kind !== 'output') continue;
    let expected = '';
    if (testCase.reference === 'bash') {
      const run = spawnSync('bash', [join(dir, 'cases', `${testCase.name}.grub`)], { cwd, env, encoding: 'utf8' });
      if (run.error) throw run.error;
      expected = run.stdout;
    }
    const file = join(dir, 'expected', `${testCase.name}.out`);
    if (check) {
      let current;
      try {
        current = readFileSync(file, 'utf8');
      } catch {
        current = undefined;
      }
      if (current !== expected) {
        differences++;
        console.error(`${testCase.name}: expected output differs from ${testCase.reference === 'bash' ? 'bash' : 'the stated expectation'}`);
      }
    } else {
      writeFileSync(file, expected);
    }
  }
} finally {
  rmSync(cwd, { recursive: true, force: true });
}
const bash = spawnSync('bash', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
console.log(`${check ? 'checked' : 'wrote'} expected outputs with ${bash}`);
process.exit(differences > 0 ? 1 : 0);
