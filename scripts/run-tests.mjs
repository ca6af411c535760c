// Runs every compiled test file (dist/test/**/*.test.js) with Node's test runner. The files are
// listed explicitly because the runner's own discovery would also take the helpers that live
// under test/ (harness.js, fixtures) for tests.
//
// The busybox VM suites (dist/test/vm/) then run again on the kernels of the newer Debian
// releases (KEXEC_TS_VM_SUITE, see test/vm/fixtures.ts): what users run is proven on 6.1, 6.12
// and 7.x alike.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const testRoot = join(root, 'dist', 'test');
const only = process.argv.slice(2);
/** Releases whose kernels the busybox VM suites boot after the default run (Debian 12's 6.1). */
const NEWER_VM_SUITES = ['trixie', 'sid'];

const files = readdirSync(testRoot, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.js'))
  .map((file) => join(testRoot, file))
  .filter((file) => only.length === 0 || only.some((part) => relative(root, file).includes(part)))
  .sort();
if (files.length === 0) {
  console.error(`no test files under ${testRoot} match ${only.join(' ')}`);
  process.exit(1);
}

function runTests(testFiles, env = {}) {
  const result = spawnSync(process.execPath, ['--test', ...testFiles], { stdio: 'inherit', cwd: root, env: { ...process.env, ...env } });
  return result.status ?? 1;
}

let status = runTests(files);
const busyboxVmFiles = files.filter((file) => relative(testRoot, file).startsWith(`vm${sep}`));
for (const suite of NEWER_VM_SUITES) {
  if (busyboxVmFiles.length === 0) break;
  console.log(`\n# the busybox VM suites on Debian ${suite}'s kernel (KEXEC_TS_VM_SUITE=${suite})`);
  const suiteStatus = runTests(busyboxVmFiles, { KEXEC_TS_VM_SUITE: suite });
  if (status === 0) status = suiteStatus;
}
process.exit(status);
