// Runs every compiled test file (dist/test/**/*.test.js) with Node's test runner. The files are
// listed explicitly because the runner's own discovery would also take the helpers that live
// under test/ (harness.js, fixtures) for tests.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const testRoot = join(root, 'dist', 'test');
const only = process.argv.slice(2);
const files = readdirSync(testRoot, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.js'))
  .map((file) => join(testRoot, file))
  .filter((file) => only.length === 0 || only.some((part) => relative(root, file).includes(part)))
  .sort();
if (files.length === 0) {
  console.error(`no test files under ${testRoot} match ${only.join(' ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', ...files], { stdio: 'inherit', cwd: root });
process.exit(result.status ?? 1);
