import { ParseError } from '../errors.js';
import { inspect, type InspectedImage } from '../image/detect.js';
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
}

export function planKernel(bytes: Uint8Array, path: string, options: PlanOptions = {}): KernelPlan {
  const image = inspectOrError(bytes);
  if (image instanceof ParseError || image.format !== 'uki') {
    return { replacement: undefined, image, initrdPrefix: [], imageCmdline: undefined, notes: [] };
  }
  const uki = options.ukiProfile === undefined ? image.uki : parseUki(bytes, { profile: options.ukiProfile });
  const cmdline = combineUkiCmdline(uki, options.addons ?? []);
  const initrdPrefix: InMemoryPart[] = [];
  if (uki.ucode !== undefined) initrdPrefix.push({ path: `${path}:.ucode`, bytes: uki.ucode });
  if (uki.initrd !== undefined) initrdPrefix.push({ path: `${path}:.initrd`, bytes: uki.initrd });
  const notes = [
    `unpacked the Unified Kernel Image${uki.profiles.length > 0 ? ` (profile @${uki.selectedProfile})` : ''}: .linux as the kernel${initrdPrefix.length > 0 ? `, ${initrdPrefix.map((part) => part.path.slice(path.length + 1)).join(' then ')} as the initrd` : ''}`,
    ...(cmdline.applied.length > 0 ? [`addons applied to the command line: ${cmdline.applied.join(', ')}`] : []),
    ...cmdline.skipped.map((skipped) => `addon ${skipped.fileName} ignored: ${skipped.reason}`),
  ];
  if (options.signaturesEnforced === true) {
    notes.push("the UKI's signature covered its initrd and command line; unpacked, they are no longer covered by it (only .linux is verified again by the kernel)");
  }
  return {
    replacement: { path: `${path}:.linux`, bytes: uki.linux },
    image: inspectOrError(uki.linux),
    initrdPrefix,
    imageCmdline: uki.cmdline === undefined && cmdline.applied.length === 0 ? undefined : cmdline.cmdline,
    notes,
  };
}

function inspectOrError(bytes: Uint8Array): InspectedImage | ParseError {
  try {
    return inspect(bytes);
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw error;
  }
}
