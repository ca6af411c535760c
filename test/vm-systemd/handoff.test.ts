// kexec-ts on real Debian systemd machines (Debian 13 and sid roots built by
// scripts/fixtures/systemd-root.mjs), installed with npm as a user would, running on the
// release's own nodejs. Three QEMU runs start together (each boots several times; see
// scenarios.ts) and each test reads the boots that concern it from the serial console.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeVmRun, hasMarker, markerLines, vmTestOptionsFor } from '../vm/harness.js';
import { stepError, stepResult } from '../vm/scenario.js';
import { bootMarker, bootMarkers, bootSystemdGuest, bootsSeen, ext4RecoveryLines, firstBootCmdline, grubDefaultEntry, systemdGuestSkipReason, type SystemdGuestRun } from './guest.js';
import { AGENT_UNIT, DIRECT_AND_AGENT_SCENARIO, LOAD_TAG, ORDERLY_SCENARIO, SID_SCENARIO } from './scenarios.js';
import type { GuestScenario } from './guest-scripts.js';
import type { DebianSuite } from './fixtures.js';

/** A boot to multi-user.target is ~30-60 s under TCG; with three guests on two cores a boot and its hand-off take 60-90 s, and more when other VMs share the machine. */
const PER_BOOT_TIMEOUT_MS = 240_000;
const TEST_TIMEOUT_MS = 40 * 60_000;

const options = { ...vmTestOptionsFor(systemdGuestSkipReason(['trixie', 'sid'])), timeout: TEST_TIMEOUT_MS };

const runs = new Map<string, Promise<SystemdGuestRun>>();

/** The QEMU run of `scenario` on `suite`, started once; all three start with the first test. */
function guestRun(suite: DebianSuite, scenario: GuestScenario): Promise<SystemdGuestRun> {
  const key = `${suite}/${scenario.name}`;
  if (!runs.has(key)) {
    const started = bootSystemdGuest(suite, scenario, scenario.boots.length * PER_BOOT_TIMEOUT_MS);
    started.catch(() => {}); // reported by the tests that await it
    runs.set(key, started);
  }
  return runs.get(key)!;
}

function startAll(): void {
  guestRun('trixie', ORDERLY_SCENARIO);
  guestRun('trixie', DIRECT_AND_AGENT_SCENARIO);
  guestRun('sid', SID_SCENARIO);
}

/** Fails, with the serial tail, unless boot `boot` reported itself. */
function assertReached(run: SystemdGuestRun, boot: number): void {
  assert.ok(bootsSeen(run).includes(boot), `${run.suite}: boot ${boot} never reported (boots seen: ${bootsSeen(run).join(', ')}): ${describeVmRun(run)}`);
}

/** `to` followed an orderly shutdown of `from`: the stop marker's ExecStop ran, / was unmounted cleanly, multi-user.target came up. */
function assertOrderlyHandoff(run: SystemdGuestRun, from: number, to: number): void {
  assertReached(run, to);
  assert.equal(bootMarker(run, 'STOP-MARKER-ARMED', from), 'active', `${run.suite} boot ${from}: the stop marker unit was not running`);
  assert.ok(markerLines(run.serial, 'EXECSTOP').includes(String(from)), `${run.suite}: no ExecStop marker from boot ${from}, so systemd did not stop units: ${describeVmRun(run)}`);
  const mountLines = bootMarkers(run, 'EXT4', to);
  assert.ok(mountLines.length > 0, `${run.suite} boot ${to}: no EXT4-fs (vda) lines in the kernel log to judge the unmount by`);
  assert.deepEqual(ext4RecoveryLines(run, to), [], `${run.suite} boot ${to}: the root filesystem was not cleanly unmounted`);
  assert.equal(bootMarker(run, 'MULTI-USER', to), 'active', `${run.suite} boot ${to}: multi-user.target`);
}

/** The last kexects.loaded= of a boot's command line (each load appends one to the reused line). */
function loadedTag(run: SystemdGuestRun, boot: number): string | undefined {
  const tags = (bootMarker(run, 'CMDLINE', boot) ?? '').split(' ').filter((parameter) => parameter.startsWith('kexects.loaded='));
  return tags.at(-1)?.slice('kexects.loaded='.length);
}

/** Requirement 1: `kexec-ts reboot` boots the default entry of the guest's own grub.cfg through `systemctl kexec`. */
function assertRebootIntoGrubDefault(run: SystemdGuestRun, scenario: GuestScenario): void {
  const grubDefault = grubDefaultEntry(run.grubCfg);
  assert.equal(grubDefault.kernel, run.manifest.vmlinuz, `${run.suite}: update-grub's default entry boots ${grubDefault.kernel}`);
  const plan = stepResult(run, 'PLAN');
  assert.equal(plan.exitCode, 0, JSON.stringify(plan.json));
  assert.equal(plan.json.kernel.path, grubDefault.kernel);
  assert.equal(plan.json.cmdline, grubDefault.cmdline);

  assert.equal(bootMarker(run, 'CMDLINE', 1), firstBootCmdline(scenario.name), `${run.suite}: boot 1 is not the -kernel boot`);
  assertOrderlyHandoff(run, 1, 2);
  assert.equal(bootMarker(run, 'UNAME', 2), grubDefault.kernel.replace(/^.*\/vmlinuz-/, ''));
  assert.equal(bootMarker(run, 'CMDLINE', 2), grubDefault.cmdline, `${run.suite}: boot 2 is not the default GRUB entry`);
}

/** Requirement 2: `kexec-ts load` then `systemctl kexec` boots the kernel kexec-ts loaded, with its command line. */
function assertSystemctlKexecUsesLoadedKernel(run: SystemdGuestRun, from: number): void {
  assert.equal(stepResult(run, `LOAD-${from}`).exitCode, 0, `${run.suite}: kexec-ts load in boot ${from}`);
  assertOrderlyHandoff(run, from, from + 1);
  // systemd 262 loads a kernel of its own only when none is loaded; its own would carry this
  // boot's command line without the tag.
  assert.equal(bootMarker(run, 'CMDLINE', from + 1), `${bootMarker(run, 'CMDLINE', from)} kexects.loaded=${LOAD_TAG.systemctlKexec}`);
  assert.equal(bootMarker(run, 'UNAME', from + 1), run.manifest.kernelRelease);
}

test('trixie: kexec-ts reboot hands off through systemctl kexec into the default GRUB entry, units stopped, / unmounted cleanly', options, async () => {
  startAll();
  assertRebootIntoGrubDefault(await guestRun('trixie', ORDERLY_SCENARIO), ORDERLY_SCENARIO);
});

test('sid: kexec-ts reboot hands off through systemctl kexec into the default GRUB entry', options, async () => {
  startAll();
  const run = await guestRun('sid', SID_SCENARIO);
  assert.match(bootMarker(run, 'SYSTEMD', 1) ?? '', /^systemd \d+/);
  assertRebootIntoGrubDefault(run, SID_SCENARIO);
});

test('trixie: kexec-ts exec is orderly; kexec-ts exec --force is direct (no units stopped, ext4 recovers on the next boot)', options, async () => {
  startAll();
  const orderly = await guestRun('trixie', ORDERLY_SCENARIO);
  assert.equal(stepResult(orderly, 'LOAD-3').exitCode, 0);
  assertOrderlyHandoff(orderly, 3, 4);
  assert.equal(loadedTag(orderly, 4), LOAD_TAG.execOrderly);

  const direct = await guestRun('trixie', DIRECT_AND_AGENT_SCENARIO);
  assert.equal(stepResult(direct, 'LOAD-1').exitCode, 0);
  assertReached(direct, 2);
  assert.equal(loadedTag(direct, 2), LOAD_TAG.execForce);
  assert.equal(bootMarker(direct, 'STOP-MARKER-ARMED', 1), 'active');
  assert.ok(!markerLines(direct.serial, 'EXECSTOP').includes('1'), 'exec --force went through systemd: the stop marker ran');
  assert.notDeepEqual(ext4RecoveryLines(direct, 2), [], `exec --force: boot 2 shows no ext4 recovery: ${bootMarkers(direct, 'EXT4', 2).join(' | ')}`);
});

test('trixie: an orderly hand-off systemd refuses exits 7 with systemd\'s message, and the machine stays up', options, async () => {
  startAll();
  const run = await guestRun('trixie', ORDERLY_SCENARIO);
  const masked = stepError(run, 'REFUSED-MASKED', 7);
  assert.equal(masked.code, 'ORDERLY_HANDOFF_FAILED');
  // The same refusal asked of systemctl itself right after: its words are in kexec-ts's error.
  const systemdSaysMasked = bootMarker(run, 'SYSTEMCTL-SAYS-MASKED', 1)?.trim();
  assert.ok(systemdSaysMasked, 'systemctl kexec with kexec.target masked printed nothing');
  assert.ok(masked.message.includes(systemdSaysMasked), `${masked.message} does not carry systemd's message: ${systemdSaysMasked}`);
  assert.match(bootMarker(run, 'ALIVE-AFTER-MASKED', 1) ?? '', /^(running|degraded)$/);

  assertReached(run, 4);
  assert.match(bootMarker(run, 'INHIBITORS', 4) ?? '', /kexects-test/, 'the inhibitor lock was not taken');
  const inhibited = stepError(run, 'REFUSED-INHIBITED', 7);
  assert.equal(inhibited.code, 'ORDERLY_HANDOFF_FAILED');
  const systemdSaysInhibited = bootMarker(run, 'SYSTEMCTL-SAYS-INHIBITED', 4)?.trim();
  assert.ok(systemdSaysInhibited, 'systemctl kexec under the inhibitor lock printed nothing');
  assert.ok(inhibited.message.includes(systemdSaysInhibited), `${inhibited.message} does not carry systemd's message: ${systemdSaysInhibited}`);
  assert.match(bootMarker(run, 'ALIVE-AFTER-INHIBITED', 4) ?? '', /^(running|degraded)$/);
  assert.ok(hasMarker(run.serial, 'GUEST-DONE'), describeVmRun(run));
});

test('trixie: kexec-ts load then systemctl kexec boots the kernel kexec-ts loaded', options, async () => {
  startAll();
  assertSystemctlKexecUsesLoadedKernel(await guestRun('trixie', ORDERLY_SCENARIO), 2);
});

test('sid: systemctl kexec (systemd 262) boots the kernel kexec-ts loaded, not one of its own', options, async () => {
  startAll();
  const run = await guestRun('sid', SID_SCENARIO);
  assertSystemctlKexecUsesLoadedKernel(run, 2);
  assert.ok(hasMarker(run.serial, 'GUEST-DONE'), describeVmRun(run));
});

/** What an agent unit left in /var/lib/kexects/out, as the next boot printed it. */
function agentFile(run: SystemdGuestRun, boot: number, file: string): string | undefined {
  return bootMarkers(run, 'FILE', boot).find((value) => value.startsWith(`${file} `))?.slice(file.length + 1).trim();
}

test('trixie: kexec-ts exec and reboot run by a service report their outcome, exit 0, and the hand-off happens', options, async () => {
  startAll();
  const run = await guestRun('trixie', DIRECT_AND_AGENT_SCENARIO);
  assertReached(run, 3);
  assert.equal(loadedTag(run, 3), LOAD_TAG.agentExec, 'the service\'s kexec-ts exec did not hand off to the loaded kernel');
  const execOutput = agentFile(run, 3, `${AGENT_UNIT.exec}.stdout`);
  assert.ok(execOutput, `no stdout from the exec service: ${bootMarkers(run, 'FILE', 3).join(' | ')}`);
  const exec = JSON.parse(execOutput) as Record<string, any>;
  assert.equal(exec.ok, true);
  assert.equal(exec.command, 'exec');
  assert.equal(exec.via, 'init-system');
  assert.equal(exec.initSystem, 'systemd');
  assert.match(exec.handoffCommand, /^systemctl kexec\b/);
  assert.equal(agentFile(run, 3, `${AGENT_UNIT.exec}.exit`), 'success exited 0', `stderr: ${agentFile(run, 3, `${AGENT_UNIT.exec}.stderr`)}`);

  assertReached(run, 4);
  const grubDefault = grubDefaultEntry(run.grubCfg);
  assert.equal(bootMarker(run, 'CMDLINE', 4), grubDefault.cmdline, 'the service\'s kexec-ts reboot did not boot the default entry');
  const rebootOutput = agentFile(run, 4, `${AGENT_UNIT.reboot}.stdout`);
  assert.ok(rebootOutput, `no stdout from the reboot service: ${bootMarkers(run, 'FILE', 4).join(' | ')}`);
  const reboot = JSON.parse(rebootOutput) as Record<string, any>;
  assert.equal(reboot.ok, true);
  assert.equal(reboot.command, 'reboot');
  assert.equal(reboot.via, 'init-system');
  assert.equal(reboot.cmdline, grubDefault.cmdline);
  assert.equal(agentFile(run, 4, `${AGENT_UNIT.reboot}.exit`), 'success exited 0', `stderr: ${agentFile(run, 4, `${AGENT_UNIT.reboot}.stderr`)}`);
  assert.ok(hasMarker(run.serial, 'GUEST-DONE'), describeVmRun(run));
});
