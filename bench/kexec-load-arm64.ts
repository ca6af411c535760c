// arm64, Debian 13's own kernel (no kexec_file_load), in the arm64 test VM: `kexec-ts load`
// (falling back to kexec_load) against kexec-tools' `kexec -l` on the same Image, initrd and
// command line, alternating in one boot; then the hand-off, `kexec-ts exec --force` against
// `kexec -e`, one boot each, timed on the host from the line before the jump to the second
// kernel's first line (the guest's clocks restart with the kernel; the host's does not).
import { withArm64Vm, type Arm64GuestKernel } from '../test/vm-arm64/harness.js';
import { arm64VmSkipReason } from '../test/vm-arm64/harness.js';
import { GUEST_DEBIAN_IMAGE_PATH, GUEST_SECOND_INITRD_PATH } from '../test/vm-arm64/initramfs.js';
import { markerLines } from '../test/vm/harness.js';
import { SECOND_KERNEL_UP_MARKER } from '../test/vm/initramfs.js';
import { runTimedQemu } from './timed-qemu.js';

const ROUNDS = 5;
const KERNEL: Arm64GuestKernel = 'debian-trixie';
/** See test/vm-arm64/debian-kernel.test.ts: 6.12 wants a CPU without LPA2 for kexec_load. */
const CPU = 'max,pauth-impdef=on,lpa2=off';
const CMDLINE = 'console=ttyAMA0 panic=-1 quiet kexec_ts.bench=1';
const TIMEOUT_MS = 600_000;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const fmt = (values: number[]): string => `${median(values).toFixed(0)} (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;

async function timedBoot(body: string): Promise<Awaited<ReturnType<typeof runTimedQemu>>> {
  return withArm64Vm({ kernel: KERNEL, cpu: CPU, timeoutMs: TIMEOUT_MS, body }, (qemuArgs, binary) => runTimedQemu(qemuArgs, TIMEOUT_MS, undefined, binary));
}

/** Host milliseconds from the line `JUMP` to the second kernel's up marker. */
function handOffMs(run: Awaited<ReturnType<typeof runTimedQemu>>): number {
  const jump = run.lines.find((line) => line.text.includes('KTS-JUMP'));
  const up = run.lines.find((line) => line.text.includes(SECOND_KERNEL_UP_MARKER));
  return jump !== undefined && up !== undefined ? up.atMs - jump.atMs : NaN;
}

export async function kexecLoadArm64AgainstKexecTools(): Promise<string> {
  const reason = arm64VmSkipReason(KERNEL);
  if (reason !== undefined) return `### arm64 kexec_load in the VM\n\nnot run: ${reason}`;
  const rounds = Array.from({ length: ROUNDS }, (_, round) => `
kexec-ts unload >/dev/null 2>&1
t0=$(cut -d' ' -f1 /proc/uptime); kexec-ts load ${GUEST_DEBIAN_IMAGE_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append '${CMDLINE}' --json > /tmp/load.json; t1=$(cut -d' ' -f1 /proc/uptime)
echo "KTS-KEXEC-TS:${round} $t0 $t1 $(grep -o '"durationMs": [0-9.]*' /tmp/load.json | cut -d' ' -f2) $(grep -o '"syscall": "[a-z_]*"' /tmp/load.json | cut -d'"' -f4)"
kexec -u
t0=$(cut -d' ' -f1 /proc/uptime); kexec -l ${GUEST_DEBIAN_IMAGE_PATH} --initrd=${GUEST_SECOND_INITRD_PATH} --append='${CMDLINE}'; t1=$(cut -d' ' -f1 /proc/uptime)
echo "KTS-KEXEC-TOOLS:${round} $t0 $t1 $?"
t0=$(cut -d' ' -f1 /proc/uptime); node -e '' ; t1=$(cut -d' ' -f1 /proc/uptime)
echo "KTS-NODE-START:${round} $t0 $t1"`).join('\n');
  const loads = await timedBoot(`${rounds}\necho "KTS-KEXEC-TOOLS-VERSION:$(kexec --version 2>&1)"\n`);
  const serial = loads.lines.map((line) => line.text).join('\n');
  const spans = (name: string) => markerLines(serial, name).map((line) => {
    const [, t0, t1, inner, syscall] = line.split(' ');
    return { wallMs: (Number(t1) - Number(t0)) * 1000, innerMs: Number(inner), syscall };
  });
  const ours = spans('KEXEC-TS');
  const theirs = spans('KEXEC-TOOLS');
  const nodeStart = spans('NODE-START');
  if (ours.length !== ROUNDS || theirs.length !== ROUNDS) return `### arm64 kexec_load in the VM\n\nincomplete run:\n\n\`\`\`\n${serial.slice(-3000)}\n\`\`\``;
  const peerVersion = markerLines(serial, 'KEXEC-TOOLS-VERSION')[0] ?? 'unknown';

  const hand = async (load: string, jump: string): Promise<number> => handOffMs(await timedBoot(`${load} >/dev/null\necho KTS-JUMP\n${jump}\n`));
  const oursJump = await hand(`kexec-ts load ${GUEST_DEBIAN_IMAGE_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append '${CMDLINE}'`, 'kexec-ts exec --force');
  const theirsJump = await hand(`kexec -l ${GUEST_DEBIAN_IMAGE_PATH} --initrd=${GUEST_SECOND_INITRD_PATH} --append='${CMDLINE}'`, 'kexec -e');
  return [
    `### arm64 kexec_load in the VM: Debian 13's own kernel (no kexec_file_load), ${ROUNDS} rounds alternating; peer ${peerVersion}`,
    '',
    `QEMU TCG aarch64, 1 vCPU (${CPU}), 2 GiB; load times from /proc/uptime (10 ms resolution), median (min–max), ms; the hand-off on the host clock, from the line printed just before the jump to the second kernel's first marker, one boot each.`,
    '',
    '| what | ms |',
    '| --- | --- |',
    `| \`kexec -l\` (kexec-tools, wall) | ${fmt(theirs.map((span) => span.wallMs))} |`,
    `| \`kexec-ts load\` (CLI, wall, includes starting node; syscall ${ours[0]?.syscall}) | ${fmt(ours.map((span) => span.wallMs))} |`,
    `| \`kexec-ts load\`: the kexec_load call alone (--json durationMs) | ${fmt(ours.map((span) => span.innerMs))} |`,
    `| \`node -e ''\` (node start-up alone) | ${fmt(nodeStart.map((span) => span.wallMs))} |`,
    `| hand-off, \`kexec -e\` → second kernel up | ${theirsJump.toFixed(0)} |`,
    `| hand-off, \`kexec-ts exec --force\` → second kernel up | ${oursJump.toFixed(0)} |`,
  ].join('\n');
}
