import { ByteView } from '../../binary/byte-view.js';
import { ErrorCode, ParseError } from '../../errors.js';
import { parsePe } from '../pe/parse-pe.js';
import type { PeImage } from '../pe/types.js';
import type { Uki } from './parse-uki.js';
import { isUkiSectionName, mangleStubCmdline, readUkiSection, sectionText, type UkiSectionName } from './sections.js';

const FORMAT = 'uki-addon';

/** A PE addon ("PE Addons" in the UKI spec): a signed PE carrying extra sections for a UKI. */
export interface UkiAddon {
  format: 'uki-addon';
  pe: PeImage;
  /** As systemd-stub reads it (see mangleStubCmdline); undefined without a .cmdline section. */
  cmdline: string | undefined;
  dtb: Uint8Array[];
  ucode: Uint8Array | undefined;
  initrd: Uint8Array | undefined;
  /** When present, the addon applies only to a UKI with the same .uname. */
  uname: string | undefined;
}

/** The sections that make a PE an addon: "PE Addons must contain at least one section of the following types". */
const ADDON_PAYLOAD_SECTIONS: readonly UkiSectionName[] = ['.cmdline', '.dtb', '.ucode', '.initrd'];

/**
 * Reads a PE addon (`*.addon.efi`). Throws ParseError: what parsePe throws; FORMAT_INVALID for a
 * PE with a .linux section ("PE Addons may not contain .linux PE sections") or with none of
 * .cmdline/.dtb/.ucode/.initrd; FORMAT_TRUNCATED for a section outside the file.
 */
export function parseAddon(bytes: Uint8Array): UkiAddon {
  const pe = parsePe(bytes);
  const view = new ByteView(bytes, FORMAT);
  const sections = pe.sections.flatMap((section) => {
    if (!isUkiSectionName(section.name)) return [];
    const contents = readUkiSection(view, { ...section, name: section.name }, () => {});
    return contents ? [contents] : [];
  });
  if (sections.some((section) => section.name === '.linux')) {
    throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, 'has a .linux section: a UKI, not an addon', { field: '.linux' });
  }
  if (!sections.some((section) => ADDON_PAYLOAD_SECTIONS.includes(section.name))) {
    throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, 'none of .cmdline, .dtb, .ucode, .initrd: not an addon', { field: '.cmdline' });
  }
  // As in a UKI, the first section of a name is the one systemd-stub uses (pe_locate_sections).
  const first = (name: UkiSectionName) => sections.find((section) => section.name === name)?.data;
  const cmdline = first('.cmdline');
  const uname = first('.uname');
  return {
    format: 'uki-addon',
    pe,
    cmdline: cmdline === undefined ? undefined : mangleStubCmdline(sectionText(cmdline)),
    dtb: sections.filter((section) => section.name === '.dtb').map((section) => section.data),
    ucode: first('.ucode'),
    initrd: first('.initrd'),
    uname: uname === undefined ? undefined : sectionText(uname).trim(),
  };
}

export interface AddonFile {
  fileName: string;
  bytes: Uint8Array;
}

export interface EffectiveCmdline {
  cmdline: string;
  /** File names of the addons whose .cmdline was appended, in the order applied. */
  applied: string[];
  /** Addons the stub would ignore, with the reason. */
  skipped: { fileName: string; reason: string }[];
}

const ADDON_SUFFIX = '.addon.efi';

/**
 * The command line systemd-stub hands to the kernel for `uki` plus PE addons (stub.c,
 * load_all_addons, load_addons, cmdline_append_and_measure_addons):
 * - global addons (ESP/loader/addons/) first, then the UKI's own (<uki>.extra.d/), each set
 *   sorted by file name with strcmp16 (UTF-16 code-unit order: what JavaScript's sort does);
 * - files not ending in ".addon.efi" (any case), starting with ".", or with non-ASCII names are
 *   not picked up; an addon that does not parse, carries .linux, targets another Machine (UKI
 *   spec: "candidates should be skipped when their header field reports a non-native CPU"), or
 *   has a .uname other than the UKI's is ignored;
 * - each addon's .cmdline is appended to the others with one space, the result is cleaned the
 *   way mangle_stub_cmdline cleans any command line and appended to the UKI's .cmdline after
 *   one space ("all command lines provided by addons are suffixed in this order").
 * A command line typed at the stub's invocation is out of scope here: under Secure Boot a UKI
 * with .cmdline ignores it anyway.
 */
export function combineUkiCmdline(uki: Uki, addons: readonly AddonFile[], globalAddons: readonly AddonFile[] = []): EffectiveCmdline {
  const applied: string[] = [];
  const skipped: { fileName: string; reason: string }[] = [];
  let addonCmdline = '';
  for (const addon of [...sortByFileName(globalAddons), ...sortByFileName(addons)]) {
    const reason = whyIgnored(addon, uki);
    if (typeof reason === 'string') {
      skipped.push({ fileName: addon.fileName, reason });
      continue;
    }
    if (reason.cmdline === undefined) continue;
    addonCmdline = addonCmdline === '' ? reason.cmdline : `${addonCmdline} ${reason.cmdline}`;
    applied.push(addon.fileName);
  }
  const extra = mangleStubCmdline(addonCmdline);
  const base = uki.cmdline ?? '';
  return { cmdline: extra === '' ? base : base === '' ? extra : `${base} ${extra}`, applied, skipped };
}

function sortByFileName(addons: readonly AddonFile[]): AddonFile[] {
  return [...addons].sort((left, right) => (left.fileName < right.fileName ? -1 : left.fileName > right.fileName ? 1 : 0));
}

/** The parsed addon when the stub would apply it, otherwise why not. */
function whyIgnored(addon: AddonFile, uki: Uki): UkiAddon | string {
  const name = addon.fileName;
  if (name.startsWith('.') || !/^[\x20-\x7e]*$/.test(name) || !name.toLowerCase().endsWith(ADDON_SUFFIX)) {
    return `not picked up: the stub reads only ASCII names ending in ${ADDON_SUFFIX} that do not start with "."`;
  }
  let parsed: UkiAddon;
  try {
    parsed = parseAddon(addon.bytes);
  } catch (error) {
    if (error instanceof ParseError) return error.message;
    throw error;
  }
  if (parsed.pe.fileHeader.Machine !== uki.pe.fileHeader.Machine) {
    return `Machine 0x${parsed.pe.fileHeader.Machine.toString(16)} is not the UKI's 0x${uki.pe.fileHeader.Machine.toString(16)}`;
  }
  if (parsed.uname !== undefined && uki.uname !== undefined && parsed.uname !== uki.uname) {
    return `.uname ${parsed.uname} does not match the UKI's ${uki.uname}`;
  }
  return parsed;
}
