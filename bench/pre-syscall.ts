// Before the syscall, on the host: everything load() does before kexec_file_load on
// Debian's cloud bzImage (open and check both files, read and inspect the kernel, the
// preflight, the initrd check, the kernel-log capture).
import { readdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateCmdline } from '../src/handoff/cmdline.js';
import { startKernelLogCapture } from '../src/handoff/kernel-log.js';
import { closeImage, openImage, readHead, readWholeImage } from '../src/handoff/open-image.js';
import { planKernel } from '../src/handoff/plan-kernel.js';
import { preflightInitrd, preflightKernel } from '../src/handoff/preflight.js';
import { detectCodec } from '../src/image/codecs/index.js';
import { hostSyscalls } from '../src/syscall/index.js';
import { cloudKernelFixture } from '../test/vm/fixtures.js';
import { secondStageInitrd } from '../test/vm/initramfs.js';
import { CMDLINE, percentile } from './common.js';

const HOST_ROUNDS = 200;

export async function preSyscallOnHost(): Promise<string> {
  const kernel = cloudKernelFixture().vmlinuzPath;
  const initrd = join(mkdtempSync(join(tmpdir(), 'kexec-ts-bench-')), 'initrd.cpio');
  writeFileSync(initrd, secondStageInitrd());
  const syscalls = hostSyscalls();
  // The first round loads koffi (dlopen of the native module): reported on its own.
  const timeOnce = async () => {
    const started = process.hrtime.bigint();
    validateCmdline(CMDLINE, 'x86_64');
    const kernelImage = openImage(kernel, 'kernel');
    const plan = await planKernel(readWholeImage(kernelImage), kernel);
    preflightKernel(plan.image, 'x86_64', CMDLINE, kernel);
    const initrdImage = openImage(initrd, 'initrd');
    preflightInitrd(readHead(initrdImage, 4096), initrd, (head) => detectCodec(head) !== undefined);
    const capture = startKernelLogCapture(syscalls);
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    capture.close();
    closeImage(kernelImage);
    closeImage(initrdImage);
    return elapsed;
  };
  const first = await timeOnce();
  const openDescriptors = () => readdirSync('/proc/self/fd').length;
  const collectGarbage = (globalThis as { gc?: () => void }).gc ?? (() => {});
  collectGarbage();
  const descriptorsBefore = openDescriptors();
  const heapBefore = process.memoryUsage();
  const samples: number[] = [];
  for (let round = 0; round < HOST_ROUNDS; round++) samples.push(await timeOnce());
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

