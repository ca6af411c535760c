// Shell run inside the systemd guests. The root image's kexects-scenario.service (baked in by
// scripts/fixtures/systemd-root.mjs, After=multi-user.target) runs lib/kexects/run from the
// second disk on every boot; `run` counts boots in /var/lib/kexects (the root disk survives each
// hand-off within one QEMU run) and calls the scenario's `boot_N` function for boot N.
//
// Every marker is written straight to /dev/ttyS0, opened per line: it reaches the serial
// console whatever the kernel's console= says and however far shutdown has got.
import type { GuestDiskFile } from './kexec-ts-disk.js';

/** The part of a scenario file each boot runs: shell text, given the boot number's `$boot`. */
export interface GuestScenario {
  name: string;
  /** Shell function bodies, one per boot, in order: boots[0] is boot 1. */
  boots: string[];
}

const RUNNER = `#!/bin/sh
# Runs this boot's part of the scenario named on the first boot's command line.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
state=/var/lib/kexects
mkdir -p "$state/out"
scenario=$(tr ' ' '\\n' </proc/cmdline | sed -n 's/^kexects\\.scenario=//p')
if [ -n "$scenario" ]; then echo "$scenario" >"$state/scenario"; else scenario=$(cat "$state/scenario"); fi
boot=$(( $(cat "$state/boot" 2>/dev/null || echo 0) + 1 ))
echo "$boot" >"$state/boot"
sync
. /usr/local/lib/kexects/common.sh
. "/usr/local/lib/kexects/scenarios/$scenario.sh"
report_boot
if command -v "boot_$boot" >/dev/null; then "boot_$boot"; else mark NO-SUCH-BOOT "$boot"; power_off; fi
`;

/**
 * Helpers every scenario uses:
 * - `mark NAME VALUE...`: prints `KTS-NAME:VALUE...` on the serial console.
 * - `step NAME cmd...`: runs a kexec-ts command with --json and prints
 *   `KTS-NAME:<exit code> <json on one line>`, the format test/vm/scenario.ts parses.
 * - `report_boot`: what each boot reports (kernel release, exact command line, the root
 *   filesystem's mount messages, multi-user.target, files the previous boot left).
 * - `arm_stop_marker`: a unit whose ExecStop= prints KTS-EXECSTOP:<boot> when systemd stops it.
 * - `load_same_kernel TAG`: loads the image's own kernel and initrd with this boot's command
 *   line plus kexects.loaded=TAG, so the next boot shows which load it came from.
 * - `agent_unit NAME TYPE COMMAND...`: starts COMMAND as a service, as a fleet agent runs it;
 *   its stdout and exit status land in /var/lib/kexects/out, printed by the next boot.
 */
const COMMON = `
mark() { name=$1; shift; echo "KTS-$name:$*" >/dev/ttyS0; }

step() {
  name=$1; shift
  "$@" --json >/tmp/step.json 2>/tmp/step.err
  rc=$?
  echo "KTS-$name:$rc $(tr '\\n' ' ' </tmp/step.json)" >/dev/ttyS0
  [ "$rc" = 0 ] || sed "s/^/KTS-STDERR-$name:/" /tmp/step.err >/dev/ttyS0
  return $rc
}

report_boot() {
  mark BOOT "$boot"
  mark UNAME "$boot $(uname -r)"
  mark CMDLINE "$boot $(cat /proc/cmdline)"
  dmesg | grep 'EXT4-fs (vda)' | while read -r line; do mark EXT4 "$boot $line"; done
  mark MULTI-USER "$boot $(systemctl is-active multi-user.target)"
  mark SYSTEMD "$boot $(systemctl --version | head -n 1)"
  for file in "$state"/out/*; do
    [ -f "$file" ] && mark FILE "$boot $(basename "$file") $(tr '\\n' ' ' <"$file")"
  done
  rm -f "$state"/out/*
}

arm_stop_marker() {
  cat >/run/systemd/system/kexects-stop-marker.service <<EOF
[Unit]
Description=kexec-ts test: its ExecStop= shows that systemd stopped units before the hand-off
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=/bin/sh -c 'echo "KTS-EXECSTOP:$boot" >/dev/ttyS0'
EOF
  systemctl daemon-reload
  systemctl start kexects-stop-marker.service
  mark STOP-MARKER-ARMED "$boot $(systemctl is-active kexects-stop-marker.service)"
}

kernel_release() { uname -r; }

load_same_kernel() {
  step "LOAD-$boot" kexec-ts load "/boot/vmlinuz-$(kernel_release)" --initrd "/boot/initrd.img-$(kernel_release)" \\
    --reuse-cmdline --append "kexects.loaded=$1"
}

agent_unit() {
  unit=$1; type=$2; shift 2
  cat >"/run/systemd/system/$unit.service" <<EOF
[Unit]
Description=kexec-ts test: $* started by a service, as a fleet agent runs it
[Service]
Type=$type
ExecStart=$*
StandardOutput=append:$state/out/$unit.stdout
StandardError=append:$state/out/$unit.stderr
ExecStopPost=/bin/sh -c 'echo "\\$SERVICE_RESULT \\$EXIT_CODE \\$EXIT_STATUS" >$state/out/$unit.exit; sync'
EOF
  systemctl daemon-reload
  systemctl start --no-block "$unit.service"
}

power_off() {
  mark GUEST-DONE "$boot"
  # An inhibitor lock left behind would refuse the orderly power-off: then not orderly.
  systemctl poweroff --no-block || systemctl poweroff --force
}
`;

function scenarioScript(scenario: GuestScenario): string {
  const functions = scenario.boots.map((body, index) => `boot_${index + 1}() {\n${body.trim()}\n}\n`);
  return `# scenario ${scenario.name}\n${functions.join('\n')}`;
}

/** The files of the second disk besides kexec-ts itself: the runner, its helpers, the scenarios. */
export function scenarioDiskFiles(scenarios: GuestScenario[]): GuestDiskFile[] {
  return [
    { diskPath: 'lib/kexects/run', text: RUNNER },
    { diskPath: 'lib/kexects/common.sh', text: COMMON, mode: 0o644 },
    ...scenarios.map((scenario) => ({ diskPath: `lib/kexects/scenarios/${scenario.name}.sh`, text: scenarioScript(scenario), mode: 0o644 })),
  ];
}
