// Arguments as a hurried or hostile user types them: unknown options and stray operands are
// usage errors (exit 2), --json and --help count only where a flag can be, and every failure's
// JSON names the command as its success does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runMain } from '../cli/run-main.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { writeJson } from '../../src/cli/output.js';

const run = runMain;

test('status refuses an option or an operand it does not take', async () => {
  for (const args of [['status', '--bogus'], ['status', 'extra']]) {
    const result = await run(...args, '--json');
    assert.equal(result.exitCode, ExitCode.USAGE, args.join(' '));
    assert.equal(JSON.parse(result.out).error.code, 'USAGE', args.join(' '));
  }
});

test("'kexec-ts --json' alone is a usage error in JSON; no command at all is a usage error on stderr", async () => {
  const json = await run('--json');
  assert.equal(json.exitCode, ExitCode.USAGE);
  const parsed = JSON.parse(json.out);
  assert.equal(parsed.ok, false);
  assert.equal(parsed.command, null);
  assert.equal(parsed.error.code, 'USAGE');
  const bare = await run();
  assert.equal(bare.exitCode, ExitCode.USAGE);
  assert.match(bare.err, /No command given/);
});

test('--json and --help after -- are operands, and as an option value they are refused, not taken as flags', async () => {
  const afterDashes = await run('inspect', '--', '--json');
  assert.equal(afterDashes.exitCode, ExitCode.INPUT_REJECTED);
  assert.match(afterDashes.err, /The file --json does not exist/);
  const help = await run('inspect', '--', '--help');
  assert.match(help.err, /The file --help does not exist/);
  const asValue = await run('load', '--append', '--json', '/boot/vmlinuz');
  assert.equal(asValue.exitCode, ExitCode.USAGE);
  assert.equal(JSON.parse(asValue.out).error.code, 'USAGE');
  // Written with =, a value may start with a dash: it is the value, and --json is not set.
  const withEquals = await run('crash', 'dmesg', '--style=--json', '/nonexistent');
  assert.equal(withEquals.exitCode, ExitCode.USAGE);
  assert.doesNotMatch(withEquals.out, /^\{/);
  assert.match(withEquals.err, /--style is makedumpfile or vmcore-dmesg, not '--json'/);
});

test("a crash subcommand's JSON names it as 'crash SUBCOMMAND' on failure as on success", async () => {
  const failed = await run('crash', 'dmesg', '/nonexistent', '--json');
  assert.equal(JSON.parse(failed.out).command, 'crash dmesg');
  const flagFirst = await run('crash', '--json', 'reassemble', '/nonexistent', '/tmp/never');
  assert.equal(JSON.parse(flagFirst.out).command, 'crash reassemble');
});

test('--version is the package version, in text and JSON', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal((await run('--version')).out, `${version}\n`);
  assert.equal(JSON.parse((await run('--version', '--json')).out).version, version);
});

test('--json shows bytes as their size, a Buffer too (its toJSON would spell out every byte)', () => {
  let text = '';
  writeJson({ json: true, out: (chunk) => void (text += chunk), err: () => undefined }, { section: Buffer.alloc(1 << 20), view: new Uint8Array(3) });
  assert.deepEqual(JSON.parse(text), { section: { sizeBytes: 1 << 20 }, view: { sizeBytes: 3 } });
});
