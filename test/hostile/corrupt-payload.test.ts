// A kernel whose compressed payload is corrupt: the error is typed, and its offset is the
// file's (where the user can look with a hex editor), not one inside the payload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { readFixture } from '../image/image-fixtures.js';
import { assertRefused, runCli } from './cli-run.js';

test("a bzImage with a corrupt payload: DECOMPRESSION_FAILED at an offset of the file, inside the payload's range", (t) => {
  const kernel = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (kernel === undefined) return;
  // boot protocol: setup_sects at 0x1f1, payload_offset and payload_length at 0x248/0x24c, from the protected-mode code.
  const payloadStart = (kernel[0x1f1]! + 1) * 512 + kernel.readUInt32LE(0x248);
  const payloadLength = kernel.readUInt32LE(0x24c);
  const corrupt = Buffer.from(kernel);
  corrupt.fill(0xff, payloadStart + 64, payloadStart + payloadLength - 64);
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-corrupt-payload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'vmlinuz');
  writeFileSync(path, corrupt);
  const json = assertRefused(runCli(['inspect', path, '--json']), { exitCode: ExitCode.INPUT_REJECTED, code: 'DECOMPRESSION_FAILED' }, 'inspect of a corrupt payload');
  const offset = Number(/at offset (\d+)/.exec(json.error.message)?.[1]);
  assert.ok(offset >= payloadStart && offset < payloadStart + payloadLength, `offset ${offset} lies in the payload ${payloadStart}..${payloadStart + payloadLength}: ${json.error.message}`);
  assert.match(json.error.message, new RegExp(`starts at offset ${payloadStart}\\b`));
});
