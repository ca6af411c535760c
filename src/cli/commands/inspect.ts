import { parseCommandArgs } from '../args.js';
import { readFileSync } from 'node:fs';
import { readWholeInputFile } from '../../input-file.js';
import { basename, dirname, join } from 'node:path';
import { parseAuthenticode, probePe } from '../../image/pe/index.js';
import { KEXEC_RELEVANT_OPTIONS, parseKernelConfig } from '../../image/kernel-config.js';
import { readMachineFacts } from '../../handoff/machine-facts.js';
import { decompress } from '../../image/codecs/index.js';
import { parseElf } from '../../image/elf/parse.js';
import { extractEmbeddedConfig } from '../../image/ikconfig.js';
import { ParseError, UsageError } from '../../errors.js';
import { planKernel } from '../../handoff/plan-kernel.js';
import { progressOnTerminal, progressOption } from '../progress.js';
import type { InspectedImage } from '../../image/detect.js';
import { LIMITS } from '../../limits.js';
import { kernelArchOf, type KernelArch } from '../../syscall/numbers.js';
import { ExitCode } from '../exit-codes.js';
import { describeImage } from '../format-image.js';
import { writeJson, type CommandOutput } from '../output.js';
import type { Command } from '../cli.js';
import { imageLoadability } from '../../handoff/loadability.js';

const ARCHES: readonly KernelArch[] = ['x86_64', 'aarch64', 'riscv64'];

const usage = `Usage: kexec-ts inspect FILE [--arch x86_64|aarch64|riscv64] [--json]
Tells what FILE is (bzImage, ELF, arm64/RISC-V Image, EFI zboot, initrd), every header field that
matters, and whether this machine's kexec_file_load would take it: "loadable here: yes/no, because ...".
  --arch A   judge loadability for arch A instead of this machine's`;

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { arch: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError(`inspect takes one FILE.\n${usage}`);
  const arch = (values.arch ?? kernelArchOf(process.arch)) as KernelArch | undefined;
  if (values.arch !== undefined && !ARCHES.includes(values.arch as KernelArch)) throw new UsageError(`--arch must be one of ${ARCHES.join(', ')}.`);
  const path = positionals[0]!;
  const bytes = readWholeInputFile(path, {
    what: 'file',
    maxBytes: { bytes: LIMITS.wholeImageReadBytes, why: 'inspect reads a file whole, and no kernel image is near that size' },
  });

  // The plan inspects the file, and judges what the kernel would actually get: for a UKI, its .linux.
  const plan = await planKernel(bytes, path, progressOption(output, 'decompressing'));
  const image = plan.fileImage;
  // Judged for this machine unless --arch names another.
  const judged = imageLoadability(plan.image, arch, path, values.arch === undefined ? readMachineFacts() : undefined);
  const verdict = plan.replacement !== undefined && judged.loadable ? { ...judged, because: `${judged.because} (after kexec-ts unpacks it: ${plan.notes[0]})` } : judged;
  const signature = signatureSummary(bytes);
  // A UKI's kernel carries its own signature, which is what the kernel checks after unpacking.
  const innerSignature = plan.replacement !== undefined ? signatureSummary(plan.replacement.bytes) : undefined;
  const kernelBytes = plan.replacement?.bytes ?? bytes;
  const payload = await inspectPayload(plan.image, kernelBytes, progressOnTerminal(output, 'decompressing the payload'));
  const config = payload?.embeddedConfig ?? configBeside(path, plan.image);
  if (output.json) {
    writeJson(output, {
      ok: true,
      command: 'inspect',
      path,
      sizeBytes: bytes.length,
      image: image instanceof ParseError ? null : image,
      parseError: image instanceof ParseError ? { code: image.code, message: image.message, offset: image.offset, field: image.field } : null,
      signature,
      unpacked: plan.replacement === undefined ? null : { path: plan.replacement.path, sizeBytes: plan.replacement.bytes.length, image: plan.image instanceof ParseError ? null : plan.image, signature: innerSignature ?? null, notes: plan.notes },
      payload: payload === undefined ? null : { ...payload, embeddedConfig: undefined },
      kernelConfig: config ?? null,
      loadable: verdict,
    });
  } else {
    const signatureRow = (summary: SignatureSummary | undefined): Array<[string, string]> => (summary === undefined ? [] : [['signature', describeSignature(summary)]]);
    const lines = image instanceof ParseError ? [`${path}: ${image.message}`] : describeImage(path, bytes.length, image, signatureRow(signature));
    for (const note of plan.notes) lines.push(`  note: ${note}`);
    if (plan.replacement !== undefined && !(plan.image instanceof ParseError)) {
      lines.push('', ...describeImage(plan.replacement.path, plan.replacement.bytes.length, plan.image, signatureRow(innerSignature)));
    }
    if (payload !== undefined) {
      lines.push('', `payload: ${payload.codec}, ${payload.compressedBytes} -> ${payload.decompressedBytes} bytes, ${payload.content}`);
    }
    if (config !== undefined) lines.push('', `kernel config (${config.source}):`, ...Object.entries(config.options).map(([name, value]) => `  ${name}=${value}`));
    lines.push('', `loadable here${arch !== undefined ? ` (${arch})` : ''}: ${verdict.loadable ? 'yes' : 'no'}, because ${verdict.because}`);
    output.out(`${lines.join('\n')}\n`);
  }
  return ExitCode.OK;
}

export const command: Command = { usage, run };

interface SignatureSummary {
  readonly status: 'unsigned' | 'signed' | 'malformed';
  readonly signers: ReadonlyArray<{ subject: string | undefined; issuer: string | undefined; signatureVerifies: boolean | undefined }>;
  /** Whether every signature's image digest matches these bytes. */
  readonly digestMatches: boolean | undefined;
}

/** The Authenticode signature of a PE image (an EFI-stub kernel, a UKI); undefined for other files. */
function signatureSummary(bytes: Uint8Array): SignatureSummary | undefined {
  if (!probePe(bytes)) return undefined;
  try {
    const authenticode = parseAuthenticode(bytes);
    return {
      status: authenticode.status,
      signers: authenticode.signatures.flatMap((signature) => signature.signers.map(({ subject, issuer, signatureVerifies }) => ({ subject, issuer, signatureVerifies }))),
      digestMatches: authenticode.signatures.length === 0 ? undefined : authenticode.signatures.every((signature) => signature.digestMatches),
    };
  } catch (error) {
    if (error instanceof ParseError) return { status: 'malformed', signers: [], digestMatches: undefined };
    throw error;
  }
}

function describeSignature(signature: SignatureSummary): string {
  if (signature.status !== 'signed') return signature.status === 'unsigned' ? 'none (unsigned)' : 'present but unreadable';
  const who = signature.signers.map((signer) => `${signer.subject ?? 'unknown signer'} (issued by ${signer.issuer ?? 'unknown'})`).join('; ');
  return `Authenticode, signed by ${who}; image digest ${signature.digestMatches ? 'matches' : 'does NOT match (modified after signing)'}`;
}

/**
 * The kernel's build configuration where distributions keep it: /boot/config-RELEASE beside
 * /boot/vmlinuz-RELEASE. The release comes from the file name or the bzImage's version string.
 */
function configBeside(path: string, image: InspectedImage | ParseError): { source: string; options: Record<string, string> } | undefined {
  const fromName = /vmlinu[xz]-(.+)$/.exec(basename(path))?.[1];
  const fromHeader = !(image instanceof ParseError) && image.format === 'bzImage' ? image.bzImage.kernelVersion?.split(' ')[0] : undefined;
  for (const release of [fromName, fromHeader]) {
    if (release === undefined) continue;
    const candidate = join(dirname(path), `config-${release}`);
    let text: string;
    try {
      text = readFileSync(candidate, 'utf8');
    } catch {
      continue;
    }
    const config = parseKernelConfig(text);
    return { source: candidate, options: Object.fromEntries(KEXEC_RELEVANT_OPTIONS.flatMap((name) => (config.options.has(name) ? [[name, config.options.get(name)!]] : []))) };
  }
  return undefined;
}

interface PayloadSummary {
  readonly codec: string;
  readonly compressedBytes: number;
  readonly decompressedBytes: number;
  /** What the decompressed payload is (for x86: the ELF vmlinux). */
  readonly content: string;
  readonly embeddedConfig: { source: string; options: Record<string, string> } | undefined;
}

/**
 * Decompresses a bzImage's payload (the real vmlinux inside) and looks in it for an embedded
 * config (IKCONFIG); a plain arm64/RISC-V Image is searched as it is. Debian's kernels embed no
 * config; the decompression also proves the payload intact.
 */
async function inspectPayload(image: InspectedImage | ParseError, kernel: Uint8Array, onProgress: ((inBytes: number, outBytes: number) => void) | undefined): Promise<PayloadSummary | undefined> {
  if (image instanceof ParseError) return undefined;
  let codec = 'none';
  let compressedBytes = kernel.length;
  let decompressed = kernel;
  if (image.format === 'bzImage') {
    const payload = image.bzImage.payload;
    if (payload?.codec === undefined) return undefined;
    codec = payload.codec;
    compressedBytes = payload.length;
    decompressed = await decompress(payload.codec, kernel.subarray(payload.offset, payload.offset + payload.length), {
      maxOutputBytes: LIMITS.kernelPayloadBytes,
      within: { container: `the bzImage's payload`, offset: payload.offset },
      ...(onProgress !== undefined ? { onProgress } : {}),
    });
  } else if (image.format !== 'arm64-image' && image.format !== 'riscv-image') {
    return undefined;
  }
  let content = 'not an ELF file';
  try {
    const elf = parseElf(decompressed);
    content = `ELF${elf.class} ${elf.machineName} vmlinux, entry 0x${elf.entry.toString(16)}, ${elf.programHeaders.length} program headers`;
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    if (image.format !== 'bzImage') content = 'the plain kernel image';
  }
  const embedded = extractEmbeddedConfig(decompressed);
  return {
    codec,
    compressedBytes,
    decompressedBytes: decompressed.length,
    content,
    embeddedConfig:
      embedded === undefined
        ? undefined
        : { source: 'embedded in the kernel (IKCONFIG)', options: Object.fromEntries(KEXEC_RELEVANT_OPTIONS.flatMap((name) => (embedded.options.has(name) ? [[name, embedded.options.get(name)!]] : []))) },
  };
}
