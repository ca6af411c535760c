import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ErrorCode, ParseError, UsageError, ValidationError } from '../../errors.js';
import { preflightKernel } from '../../handoff/preflight.js';
import { planKernel } from '../../handoff/plan-kernel.js';
import { inspect, type InspectedImage } from '../../image/detect.js';
import { LIMITS } from '../../limits.js';
import { kernelArchOf, type KernelArch } from '../../syscall/numbers.js';
import { ExitCode } from '../exit-codes.js';
import { describeImage } from '../format-image.js';
import { writeJson, type CommandOutput } from '../output.js';
import type { Command } from '../cli.js';

const ARCHES: readonly KernelArch[] = ['x86_64', 'aarch64', 'riscv64'];

const usage = `Usage: kexec-ts inspect FILE [--arch x86_64|aarch64|riscv64] [--json]
Tells what FILE is (bzImage, ELF, arm64/RISC-V Image, EFI zboot, initrd), every header field that
matters, and whether this machine's kexec_file_load would take it: "loadable here: yes/no, because ...".
  --arch A   judge loadability for arch A instead of this machine's`;

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { arch: { type: 'string' } } });
  if (positionals.length !== 1) throw new UsageError(`inspect takes one FILE.\n${usage}`);
  const arch = (values.arch ?? kernelArchOf(process.arch)) as KernelArch | undefined;
  if (values.arch !== undefined && !ARCHES.includes(values.arch as KernelArch)) throw new UsageError(`--arch must be one of ${ARCHES.join(', ')}.`);
  const path = positionals[0]!;
  const bytes = readFileBounded(path);

  let image: InspectedImage | ParseError;
  try {
    image = inspect(bytes);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    image = error;
  }
  // Judge what the kernel would actually get: for a UKI, its .linux.
  const plan = planKernel(bytes, path);
  const verdict = loadableVerdict(plan.image, arch, path);
  if (plan.replacement !== undefined && verdict.loadable) verdict.because += ` (after kexec-ts unpacks it: ${plan.notes[0]})`;
  if (output.json) {
    writeJson(output, { ok: true, command: 'inspect', path, sizeBytes: bytes.length, image: image instanceof ParseError ? null : image, parseError: image instanceof ParseError ? { code: image.code, message: image.message, offset: image.offset, field: image.field } : null, loadable: verdict });
  } else {
    const lines = image instanceof ParseError ? [`${path}: ${image.message}`] : describeImage(path, bytes.length, image);
    lines.push('', `loadable here${arch !== undefined ? ` (${arch})` : ''}: ${verdict.loadable ? 'yes' : 'no'}, because ${verdict.because}`);
    output.out(`${lines.join('\n')}\n`);
  }
  return ExitCode.OK;
}

function loadableVerdict(image: InspectedImage | ParseError, arch: KernelArch | undefined, path: string): { loadable: boolean; because: string; notes: string[] } {
  if (arch === undefined) return { loadable: false, because: `kexec-ts has no kexec support for ${process.arch}`, notes: [] };
  if (image instanceof ParseError) return { loadable: false, because: 'kexec-ts does not recognise it as a kernel image', notes: [] };
  try {
    // The command line is judged at load time; here only the image.
    const notes = preflightKernel(image, arch, '', path);
    return { loadable: true, because: `it is ${describeKind(image)} that kexec_file_load on ${arch} takes`, notes };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { loadable: false, because: error.message.replace(/^The kernel image .*? cannot be loaded here: /, '').replace(/\.$/, ''), notes: error.remedy ? [error.remedy] : [] };
  }
}

function describeKind(image: InspectedImage): string {
  return { bzImage: 'a 64-bit bzImage', 'arm64-image': 'an arm64 Image', 'riscv-image': 'a RISC-V Image', elf: 'an ELF vmlinux', zboot: 'an EFI zboot image', initrd: 'an initrd', uki: 'a Unified Kernel Image', pe: 'a PE image' }[image.format];
}

/** Reads FILE whole, as kexec would, refusing what kexec_file_load would refuse for size. */
function readFileBounded(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw new ValidationError(ErrorCode.INPUT_NOT_FOUND, `Cannot open ${path} (${(cause as NodeJS.ErrnoException).code}).`, { path, cause });
  }
  try {
    const size = fstatSync(fd).size;
    if (!fstatSync(fd).isFile()) throw new ValidationError(ErrorCode.INPUT_NOT_REGULAR_FILE, `${path} is not a regular file.`, { path });
    if (size > LIMITS.kernelFileBytes) throw new ValidationError(ErrorCode.INPUT_UNREADABLE, `${path} is larger than any kernel kexec can load.`, { path });
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const length = readSync(fd, bytes, filled, size - filled, filled);
      if (length === 0) break;
      filled += length;
    }
    return bytes.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}

export const command: Command = { usage, run };
