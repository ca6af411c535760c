import { ErrorCode, ParseError } from '../errors.js';
import { CODECS, decompress, type Codec, type ProgressListener } from '../image/codecs/index.js';
import { inspect, type InspectedImage } from '../image/detect.js';
import { LIMITS } from '../limits.js';
import { combineUkiCmdline, parseUki, type AddonFile } from '../image/uki/index.js';
import type { InMemoryPart } from './memfd-image.js';

/**
 * What the kernel will be handed for a given image file, decided before anything is loaded.
 * Pure: bytes in, plan out. Formats kexec_file_load cannot take are unpacked here: a UKI gives
 * its .linux as the kernel, .ucode then .initrd in front of any initrds the caller adds, and its
 * .cmdline (plus addons) unless the caller gives one. (kexec-tools drops the UKI's command line;
 * we keep it, since it is what the UKI would boot with.)
 */
export interface KernelPlan {
  /** The kernel bytes to pass instead of the file; undefined: the file itself. */
  readonly replacement: InMemoryPart | undefined;
  /** What the kernel will receive, inspected (a ParseError when not recognised). */
  readonly image: InspectedImage | ParseError;
  /** The file as given, inspected: the same as `image` when nothing was unpacked. */
  readonly fileImage: InspectedImage | ParseError;
  /** Initrds that come from the image itself, to go before the caller's. */
  readonly initrdPrefix: readonly InMemoryPart[];
  /** The command line the image carries (a UKI's), used when the caller gives none. */
  readonly imageCmdline: string | undefined;
  /** For the user: what was unpacked, and what that means. */
  readonly notes: readonly string[];
}

export interface PlanOptions {
  /** A multi-profile UKI's profile (@N); 0 by default, as systemd-stub does. */
  readonly ukiProfile?: number;
  /** PE addons found beside a UKI (<uki>.extra.d/*.addon.efi). */
  readonly addons?: readonly AddonFile[];
  /** Whether the machine enforces signatures (lockdown or Secure Boot), for the warning below. */
  readonly signaturesEnforced?: boolean;
  /** Told how decompression advances (compressed bytes read, bytes produced). */
  readonly onProgress?: ProgressListener;
}

/**
 * A compressed kernel (Image.gz, vmlinuz.xz, ...) or an EFI zboot image is decompressed: arm64
 * and RISC-V kexec_file_load take only the plain Image (arm64 answers EINVAL to anything else
 * and logs nothing), and the kernel never decompresses for us. At most this many layers are
 * unwrapped (a UKI whose .linux is a zboot image whose payload is an Image is two).
 */
const MAX_UNWRAP_LAYERS = 3;

export async function planKernel(bytes: Uint8Array, path: string, options: PlanOptions = {}): Promise<KernelPlan> {
  const notes: string[] = [];
  const fileImage = inspectOrError(bytes);
  let current: { bytes: Uint8Array; path: string; image: InspectedImage | ParseError } = { bytes, path, image: fileImage };
  const initrdPrefix: InMemoryPart[] = [];
  let imageCmdline: string | undefined;

  if (!(current.image instanceof ParseError) && current.image.format === 'uki') {
    const uki = options.ukiProfile === undefined ? current.image.uki : parseUki(bytes, { profile: options.ukiProfile });
    const cmdline = combineUkiCmdline(uki, options.addons ?? []);
    if (uki.ucode !== undefined) initrdPrefix.push({ path: `${path}:.ucode`, bytes: uki.ucode });
    if (uki.initrd !== undefined) initrdPrefix.push({ path: `${path}:.initrd`, bytes: uki.initrd });
    notes.push(
      `unpacked the Unified Kernel Image${uki.profiles.length > 0 ? ` (profile @${uki.selectedProfile})` : ''}: .linux as the kernel${initrdPrefix.length > 0 ? `, ${initrdPrefix.map((part) => part.path.slice(path.length + 1)).join(' then ')} as the initrd` : ''}`,
      ...(cmdline.applied.length > 0 ? [`addons applied to the command line: ${cmdline.applied.join(', ')}`] : []),
      ...cmdline.skipped.map((skipped) => `addon ${skipped.fileName} ignored: ${skipped.reason}`),
    );
    if (options.signaturesEnforced === true) {
      notes.push("the UKI's signature covered its initrd and command line; unpacked, they are no longer covered by it (only .linux is verified again by the kernel)");
    }
    imageCmdline = uki.cmdline === undefined && cmdline.applied.length === 0 ? undefined : cmdline.cmdline;
    current = { bytes: uki.linux, path: `${path}:.linux`, image: inspectOrError(uki.linux) };
  }

  for (let layer = 0; layer < MAX_UNWRAP_LAYERS; layer++) {
    const compressed = compressedPayload(current.image, current.bytes);
    if (compressed === undefined) break;
    const output = await decompress(compressed.codec, compressed.payload, {
      maxOutputBytes: LIMITS.kernelPayloadBytes,
      within: { container: current.path, offset: compressed.offset },
      ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
    });
    notes.push(`decompressed ${compressed.what} (${compressed.codec}, ${compressed.payload.length} -> ${output.length} bytes) into memory`);
    current = { bytes: output, path: `${current.path} (decompressed)`, image: inspectOrError(output) };
  }

  return {
    replacement: current.bytes === bytes ? undefined : { path: current.path, bytes: current.bytes },
    image: current.image,
    fileImage,
    initrdPrefix,
    imageCmdline,
    notes,
  };
}

/** The compressed bytes inside `image`, if it is only a wrapper around another image. */
function compressedPayload(image: InspectedImage | ParseError, bytes: Uint8Array): { codec: Codec; payload: Uint8Array; offset: number; what: string } | undefined {
  if (image instanceof ParseError) return undefined;
  if (image.format === 'compressed') return { codec: image.codec, payload: bytes, offset: 0, what: 'the image' };
  if (image.format === 'zboot') {
    const codec = zbootCodec(image.zboot.compressionType);
    const offset = image.zboot.payloadOffset;
    return { codec, payload: bytes.subarray(offset, offset + image.zboot.payloadSize), offset, what: 'the EFI zboot payload' };
  }
  return undefined;
}

/** zboot names its codec as the kernel's build does (COMP_TYPE: "gzip", "lz4", "lzma", "lzo", "xz", "zstd"). */
function zbootCodec(name: string): Codec {
  const codec = (name === 'zstd22' ? 'zstd' : name) as Codec;
  if (!CODECS.includes(codec)) {
    throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, 'EFI zboot', `compression_type "${name}" is not one kexec-ts can decompress (${CODECS.join(', ')})`, { offset: 24, field: 'compression_type' });
  }
  return codec;
}

function inspectOrError(bytes: Uint8Array): InspectedImage | ParseError {
  try {
    return inspect(bytes);
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw error;
  }
}
