// npm run bench: where kexec-ts spends its time around a load.
//  1. On this host: the work before the syscall (cmdline check, opening and checking the
//     kernel and initrd, starting the kernel-log capture) on Debian's cloud bzImage.
//  2. In the test VM, same boot: wall time of `kexec-ts load` against kexec-tools' `kexec -s -l`
//     on the same kernel, initrd and command line, alternating, several rounds.
// Prints Markdown for bench/RESULTS.md.
import { cpus } from 'node:os';
import { validateCmdline } from '../src/handoff/cmdline.js';
import { startKernelLogCapture } from '../src/handoff/kernel-log.js';
import { closeImage, openImage } from '../src/handoff/open-image.js';
import { hostSyscalls } from '../src/syscall/index.js';
import { cloudKernelFixture } from '../test/vm/fixtures.js';
import { bootVm, markerLines, vmSkipReason } from '../test/vm/harness.js';
import { GUEST_SECOND_INITRD_PATH, GUEST_VMLINUZ_PATH, ensureBaseInitramfs, secondStageInitrd } from '../test/vm/initramfs.js';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CMDLINE = 'console=ttyS0 root=/dev/vda1 ro quiet';
const HOST_ROUNDS = 2000;
const VM_ROUNDS = 5;

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

function preSyscallOnHost(): string {
  const kernel = cloudKernelFixture().vmlinuzPath;
  const initrd = join(mkdtempSync(join(tmpdir(), 'kexec-ts-bench-')), 'initrd.cpio');
  writeFileSync(initrd, secondStageInitrd());
  const syscalls = hostSyscalls();
  // The first round loads koffi (dlopen of the native module): reported on its own.
  const timeOnce = () => {
    const started = process.hrtime.bigint();
    validateCmdline(CMDLINE, 'x86_64');
    const kernelImage = openImage(kernel, 'kernel');
    const initrdImage = openImage(initrd, 'initrd');
    const capture = startKernelLogCapture(syscalls);
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    capture.close();
    closeImage(kernelImage);
    closeImage(initrdImage);
    return elapsed;
  };
  const first = timeOnce();
  const openDescriptors = () => readdirSync('/proc/self/fd').length;
  const collectGarbage = (globalThis as { gc?: () => void }).gc ?? (() => {});
  collectGarbage();
  const descriptorsBefore = openDescriptors();
  const heapBefore = process.memoryUsage();
  const samples: number[] = [];
  for (let round = 0; round < HOST_ROUNDS; round++) samples.push(timeOnce());
  collectGarbage();
  const heapAfter = process.memoryUsage();
  const heapGrowth = heapAfter.heapUsed - heapBefore.heapUsed;
  const buffersGrowth = heapAfter.arrayBuffers - heapBefore.arrayBuffers;
  const descriptorGrowth = openDescriptors() - descriptorsBefore;
  samples.sort((a, b) => a - b);
  return [
    `### Before the syscall, on the host (${HOST_ROUNDS} rounds)`,
    '',
    `Kernel: Debian cloud bzImage, ${(statSync(kernel).size / 1048576).toFixed(1)} MiB; initrd ${(statSync(initrd).size / 1024).toFixed(0)} KiB; cmdline ${CMDLINE.length} bytes.`,
    '',
    '| what | ms |',
    '| --- | --- |',
    `| first call (includes loading koffi) | ${first.toFixed(2)} |`,
    `| median | ${percentile(samples, 0.5).toFixed(3)} |`,
    `| p95 | ${percentile(samples, 0.95).toFixed(3)} |`,
    `| max | ${samples[samples.length - 1]!.toFixed(3)} |`,
    '',
    `Over the ${HOST_ROUNDS} rounds: after a full GC the JS heap grew ${(heapGrowth / 1024).toFixed(0)} KiB and buffers ${(buffersGrowth / 1024).toFixed(0)} KiB; open descriptors grew by ${descriptorGrowth}.`,
  ].join('\n');
}

async function loadInVm(): Promise<string> {
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

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
console.log(`## ${machine}\n`);
console.log(preSyscallOnHost());
console.log('');
console.log(await loadInVm());
