// Shell pieces and parsing shared by the kexec VM scenarios: each step runs one kexec-ts
// command with --json and prints `KTS-<STEP>:<exit code> <json on one line>`.
import assert from 'node:assert/strict';
import { requireMarker, type VmRun } from './harness.js';
import { cloudKernelFixture, cloudKernelRelease } from './fixtures.js';
import type { GuestFile } from './initramfs.js';

/** Defines `step NAME command...` in the guest shell. */
export const STEP_FUNCTION = `
step() {
  name=$1; shift
  "$@" --json >/tmp/step.json 2>/tmp/step.err
  rc=$?
  echo "KTS-$name:$rc $(tr '\\n' ' ' </tmp/step.json)"
}
`;

export interface StepResult {
  exitCode: number;
  json: Record<string, any>;
}

export function stepResult(run: VmRun, name: string): StepResult {
  const line = requireMarker(run, name);
  const space = line.indexOf(' ');
  const exitCode = Number(line.slice(0, space));
  try {
    return { exitCode, json: JSON.parse(line.slice(space + 1)) as Record<string, any> };
  } catch (error) {
    assert.fail(`step ${name} printed no JSON: ${line}`);
  }
}

/** The error member of a failed step, after checking that it failed with `exitCode`. */
export function stepError(run: VmRun, name: string, exitCode: number): Record<string, any> {
  const result = stepResult(run, name);
  assert.equal(result.exitCode, exitCode, `${name}: ${JSON.stringify(result.json)}`);
  assert.equal(result.json.ok, false, name);
  return result.json.error as Record<string, any>;
}

/** The fetched kernel's config at /boot/config-RELEASE, where Debian puts it. */
export function kernelConfigInGuest(): GuestFile {
  const fixture = cloudKernelFixture();
  return { guestPath: `/boot/config-${cloudKernelRelease(fixture)}`, hostPath: fixture.configPath };
}
