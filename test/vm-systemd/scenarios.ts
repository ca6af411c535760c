// The boots each systemd guest goes through in one QEMU run (see guest-scripts.ts for the
// helpers). A scenario chains hand-offs where the state allows, since each boot under TCG costs
// about a minute; every boot first runs `report_boot`. `sleep 600` after a hand-off keeps the
// runner from going on while systemd stops it.
import type { GuestScenario } from './guest-scripts.js';

/** Tags passed as kexects.loaded= so each boot shows which load it came from. */
export const LOAD_TAG = {
  systemctlKexec: 'systemctl-kexec',
  execOrderly: 'exec-orderly',
  execForce: 'exec-force',
  agentExec: 'agent-exec',
} as const;

/** A boot that loads with kexec-ts and hands off with `systemctl kexec` itself (requirement 2). */
const LOAD_THEN_SYSTEMCTL_KEXEC = `
arm_stop_marker
load_same_kernel ${LOAD_TAG.systemctlKexec} || power_off
systemctl kexec || power_off
mark SYSTEMCTL-KEXEC-RETURNED "$boot $?"
sleep 600
`;

/** Units that run kexec-ts the way a fleet agent does (their output lands in /var/lib/kexects/out). */
export const AGENT_UNIT = { exec: 'kexects-agent-exec', reboot: 'kexects-agent-reboot' } as const;

/**
 * Orderly paths: a refused hand-off (masked kexec.target), `kexec-ts reboot` into the default
 * GRUB entry, `kexec-ts load` + `systemctl kexec`, `kexec-ts exec`, then a refusal by an
 * inhibitor lock, and power off.
 */
export const ORDERLY_SCENARIO: GuestScenario = {
  name: 'orderly',
  boots: [
    `
arm_stop_marker
systemctl mask --runtime kexec.target >/dev/null 2>&1
step REFUSED-MASKED kexec-ts reboot
mark SYSTEMCTL-SAYS-MASKED "$boot $(systemctl kexec --no-block 2>&1 | tr '\\n' ' ')"
mark ALIVE-AFTER-MASKED "$boot $(systemctl is-system-running)"
systemctl unmask --runtime kexec.target >/dev/null 2>&1
kexec-ts unload
step PLAN kexec-ts reboot --dry-run
step REBOOT kexec-ts reboot || power_off
sleep 600
`,
    LOAD_THEN_SYSTEMCTL_KEXEC,
    `
arm_stop_marker
load_same_kernel ${LOAD_TAG.execOrderly} || power_off
step EXEC kexec-ts exec || power_off
sleep 600
`,
    `
systemd-inhibit --what=shutdown --mode=block --who=kexects-test --why='holds off shutdown' sleep 1000 &
inhibitor=$!
sleep 3
mark INHIBITORS "$boot $(systemd-inhibit --list --no-legend | tr '\\n' ' ')"
step REFUSED-INHIBITED kexec-ts reboot
mark SYSTEMCTL-SAYS-INHIBITED "$boot $(systemctl kexec --no-block 2>&1 | tr '\\n' ' ')"
mark ALIVE-AFTER-INHIBITED "$boot $(systemctl is-system-running)"
kill "$inhibitor"
kexec-ts unload
power_off
`,
  ],
};

/**
 * The direct path and kexec-ts inside services: `kexec-ts exec --force`, then `kexec-ts exec`
 * and `kexec-ts reboot` each started by a unit, and power off.
 */
export const DIRECT_AND_AGENT_SCENARIO: GuestScenario = {
  name: 'direct-and-agents',
  boots: [
    `
arm_stop_marker
load_same_kernel ${LOAD_TAG.execForce} || power_off
step EXEC-FORCE kexec-ts exec --force || power_off
sleep 600
`,
    `
load_same_kernel ${LOAD_TAG.agentExec} || power_off
agent_unit ${AGENT_UNIT.exec} oneshot /usr/local/bin/kexec-ts exec --json
sleep 600
`,
    `
agent_unit ${AGENT_UNIT.reboot} simple /usr/local/bin/kexec-ts reboot --json
sleep 600
`,
    `
power_off
`,
  ],
};

/** sid (systemd 262 loads a kernel itself in `systemctl kexec` when none is loaded). */
export const SID_SCENARIO: GuestScenario = {
  name: 'sid',
  boots: [
    `
arm_stop_marker
step PLAN kexec-ts reboot --dry-run
step REBOOT kexec-ts reboot || power_off
sleep 600
`,
    LOAD_THEN_SYSTEMCTL_KEXEC,
    `
power_off
`,
  ],
};
