// In the test VM, same boot: wall time of `kexec-ts load` against kexec-tools' `kexec -s -l` on
// the same kernel, initrd and command line, alternating, several rounds.
import { bootVm, markerLines, vmSkipReason } from '../test/vm/harness.js';
import { GUEST_SECOND_INITRD_PATH, GUEST_VMLINUZ_PATH, ensureBaseInitramfs } from '../test/vm/initramfs.js';
import { CMDLINE } from './common.js';

const VM_ROUNDS = 5;

export async function loadInVm(): Promise<string> {
  const reason = vmSkipReason();
  if (reason !== undefined) return `### In the VM\n\nnot run: ${reason}`;
  ensureBaseInitramfs();
  const rounds = Array.from({ length: VM_ROUNDS }, (_, round) => `
kexec-ts unload >/dev/null
t0=$(cut -d' ' -f1 /proc/uptime); kexec-ts load ${GUEST_VMLINUZ_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append '${CMDLINE}' --json > /tmp/load.json; t1=$(cut -d' ' -f1 /proc/uptime)
echo "KTS-KEXEC-TS:${round} $t0 $t1 $(grep -o '"durationMs": [0-9.]*' /tmp/load.json | cut -d' ' -f2)"
kexec -s -u
t0=$(cut -d' ' -f1 /proc/uptime); kexec -s -l ${GUEST_VMLINUZ_PATH} --initrd=${GUEST_SECOND_INITRD_PATH} --command-line='${CMDLINE}'; t1=$(cut -d' ' -f1 /proc/uptime)
echo "KTS-KEXEC-TOOLS:${round} $t0 $t1"
t0=$(cut -d' ' -f1 /proc/uptime); node -e '' ; t1=$(cut -d' ' -f1 /proc/uptime)
echo "KTS-NODE-START:${round} $t0 $t1"`).join('\n');
  const run = await bootVm({ timeoutMs: 300_000, body: rounds });
  const spans = (name: string) =>
    markerLines(run.serial, name).map((line) => {
      const [, t0, t1, inner] = line.split(' ');
      return { wallMs: (Number(t1) - Number(t0)) * 1000, syscallMs: inner === undefined ? undefined : Number(inner) };
    });
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
  const ours = spans('KEXEC-TS');
  const theirs = spans('KEXEC-TOOLS');
  const nodeStart = spans('NODE-START');
  if (ours.length !== VM_ROUNDS || theirs.length !== VM_ROUNDS) return `### In the VM\n\nincomplete run:\n\n\`\`\`\n${run.serial.slice(-3000)}\n\`\`\``;
  const fmt = (values: number[]) => `${median(values).toFixed(0)} (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;
  return [
    `### In the VM: load of the same kernel, initrd and cmdline, same boot (${VM_ROUNDS} rounds, alternating)`,
    '',
    'QEMU TCG, 1 vCPU, 1 GiB; times from /proc/uptime (10 ms resolution); median (min–max), ms.',
    '',
    '| what | ms |',
    '| --- | --- |',
    `| \`kexec -s -l\` (kexec-tools, wall) | ${fmt(theirs.map((span) => span.wallMs))} |`,
    `| \`kexec-ts load\` (CLI, wall, includes starting node) | ${fmt(ours.map((span) => span.wallMs))} |`,
    `| \`kexec-ts load\`: the kexec_file_load call alone (--json durationMs) | ${fmt(ours.map((span) => span.syscallMs ?? NaN))} |`,
    `| \`node -e ''\` (node start-up alone) | ${fmt(nodeStart.map((span) => span.wallMs))} |`,
  ].join('\n');
}

