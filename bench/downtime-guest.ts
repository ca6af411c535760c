// What the guest does for the downtime benchmark: one hand-off per boot, each boot's part written
// as a `boot_N` function for the scenario runner of test/vm-systemd (guest-scripts.ts). Every
// hand-off starts with the same preparation, then a KTS-DT-T0 marker right before the command;
// the host stamps each console line as it arrives (timed-qemu.ts), so the guest's clock, which
// restarts with every kernel, is never used.
import type { GuestScenario } from '../test/vm-systemd/guest-scripts.js';

/** The ways from a running system to the next kernel's userspace that the benchmark compares. */
export const DOWNTIME_PATH = {
  kexecTsReboot: 'kexec-ts-reboot',
  kexecToolsOrderly: 'kexec-tools-orderly',
  kexecToolsBare: 'kexec-tools-bare',
  systemdKexec: 'systemd-kexec',
  firmwareReboot: 'firmware-reboot',
} as const;
export type DowntimePath = (typeof DOWNTIME_PATH)[keyof typeof DOWNTIME_PATH];

/** Where `systemctl kexec` finds the boot entry it loads itself (SYSTEMD_ESP_PATH, below). */
const BLS_ENTRY = '/boot/loader/entries/kexects-downtime.conf';

/** How long the guest rests after its scenario unit starts, before the next hand-off: boot-time work settles. */
const SETTLE_SECONDS = 3;

/**
 * A refused command leaves the machine running; a command killed by the shutdown it started
 * takes this shell with it within moments. Waiting before giving up keeps the two apart (a
 * power-off queued during a kexec shutdown would replace the kexec job).
 */
const GIVE_UP_AFTER_SECONDS = 15;

/** The next kernel's command line: the GRUB default entry's own, then what the benchmark adds. */
export interface NextCmdline {
  entry: string;
  appended: string;
}

export function fullCmdline(cmdline: NextCmdline): string {
  return `${cmdline.entry} ${cmdline.appended}`;
}

function handOffCommand(handOff: DowntimePath, cmdline: NextCmdline): string {
  const load = 'kexec -l "/boot/vmlinuz-$(uname -r)" --initrd="/boot/initrd.img-$(uname -r)" --reuse-cmdline && mark DT-LOADED "$boot"';
  switch (handOff) {
    case DOWNTIME_PATH.kexecTsReboot:
      // The default entry of the machine's own grub.cfg; --append adds only what the benchmark
      // needs on every next kernel's command line (see downtime.ts), the same for every path.
      return `kexec-ts reboot --append '${cmdline.appended}' >/tmp/dt.out 2>&1`;
    case DOWNTIME_PATH.kexecToolsOrderly:
      return `${load} && systemctl kexec`;
    case DOWNTIME_PATH.kexecToolsBare:
      return `${load} && kexec -e`;
    case DOWNTIME_PATH.systemdKexec:
      // systemd 261+ loads the default boot loader entry itself when no kernel is loaded. The
      // image has GRUB and no ESP; SYSTEMD_ESP_PATH (find-esp.c: taken as given, for testing)
      // points it at /boot, where the entry written before T0 names the same kernel, initrd and
      // command line as the GRUB default entry.
      return 'SYSTEMD_ESP_PATH=/boot systemctl kexec';
    case DOWNTIME_PATH.firmwareReboot:
      return 'systemctl reboot';
  }
}

function preparation(handOff: DowntimePath, cmdline: NextCmdline): string {
  const lines = [
    'mark DT-STARTUP "$boot $(systemd-analyze time 2>&1 | head -n 1)"',
    // The first unit systemd stops marks where the shutdown begins (KTS-EXECSTOP).
    'arm_stop_marker',
    '[ "$(cat /sys/kernel/kexec_loaded)" = 0 ] || kexec -u',
  ];
  if (handOff === DOWNTIME_PATH.systemdKexec) {
    lines.push(
      `mkdir -p ${BLS_ENTRY.slice(0, BLS_ENTRY.lastIndexOf('/'))}`,
      `printf 'title Debian GNU/Linux\\nlinux /vmlinuz-%s\\ninitrd /initrd.img-%s\\noptions %s\\n' "$(uname -r)" "$(uname -r)" '${fullCmdline(cmdline)}' >${BLS_ENTRY}`,
    );
  }
  lines.push('sync', `sleep ${SETTLE_SECONDS}`);
  return lines.join('\n');
}

export interface PlannedHandOff {
  /** The boot that runs the command; the next boot (boot + 1) is where it lands. */
  boot: number;
  handOff: DowntimePath;
  round: number;
}

/**
 * `rounds` rounds of `handOffs` in turn, one per boot, from boot 1 (QEMU's direct boot), then a
 * boot that powers off.
 */
export function downtimeScenario(name: string, handOffs: DowntimePath[], rounds: number, cmdline: NextCmdline): { scenario: GuestScenario; planned: PlannedHandOff[] } {
  const planned: PlannedHandOff[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const handOff of handOffs) planned.push({ boot: planned.length + 1, handOff, round });
  }
  const boots = planned.map(({ boot, handOff, round }) => `
${preparation(handOff, cmdline)}
mark DT-T0 "${boot} ${handOff} ${round}"
{ ${handOffCommand(handOff, cmdline)}; } && mark DT-RETURNED "${boot}" || {
  status=$?
  sleep ${GIVE_UP_AFTER_SECONDS}
  mark DT-FAILED "$boot ${handOff} $status"
  sed "s/^/KTS-DT-OUTPUT:/" /tmp/dt.out >/dev/ttyS0 2>/dev/null
  power_off
}
sleep 600
`);
  boots.push(`
mark DT-STARTUP "$boot $(systemd-analyze time 2>&1 | head -n 1)"
power_off
`);
  return { scenario: { name, boots }, planned };
}
