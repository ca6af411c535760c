import { ByteView } from '../../binary/byte-view.js';
import type { PeSection } from '../pe/types.js';

/**
 * The PE sections the UKI specification defines ("UKI Components", "Multi-Profile UKIs"), in
 * its canonical (measurement) order. Every other section belongs to the stub.
 */
export const UKI_SECTION_NAMES = [
  '.linux',
  '.osrel',
  '.cmdline',
  '.initrd',
  '.ucode',
  '.splash',
  '.dtb',
  '.uname',
  '.sbat',
  '.pcrsig',
  '.pcrpkey',
  '.profile',
] as const;

export type UkiSectionName = (typeof UKI_SECTION_NAMES)[number];

export function isUkiSectionName(name: string): name is UkiSectionName {
  return (UKI_SECTION_NAMES as readonly string[]).includes(name);
}

/** The only UKI section the spec allows more than once per profile. */
export const REPEATABLE_SECTION = '.dtb';

export interface UkiSection {
  name: UkiSectionName;
  /** Position in the PE section table. */
  index: number;
  VirtualSize: number;
  SizeOfRawData: number;
  PointerToRawData: number;
  VirtualAddress: number;
  /**
   * The section's contents as the stub sees them: the first min(VirtualSize, SizeOfRawData)
   * bytes at PointerToRawData (a view, not a copy). SizeOfRawData is VirtualSize rounded up to
   * FileAlignment, so it would add padding; when VirtualSize is the larger, the loader fills the
   * rest with zeros, which carry nothing and which we do not allocate (a lying VirtualSize would
   * otherwise cost up to 4 GiB). systemd-stub reads the same min() from disk (pe.c,
   * pe_locate_sections_internal).
   */
  data: Uint8Array;
}

export type UkiSectionProblem = 'SECTION_ZERO_FILLED' | 'SECTION_EMPTY';

/**
 * Reads one UKI section's contents. Returns undefined for VirtualSize 0: systemd-stub treats a
 * section with no size in memory as absent (PE_SECTION_VECTOR_IS_SET). Throws ParseError
 * (FORMAT_TRUNCATED) when the bytes lie outside the file.
 */
export function readUkiSection(view: ByteView, section: PeSection & { name: UkiSectionName }, problems: (code: UkiSectionProblem) => void): UkiSection | undefined {
  if (section.VirtualSize === 0) {
    problems('SECTION_EMPTY');
    return undefined;
  }
  if (section.VirtualSize > section.SizeOfRawData) problems('SECTION_ZERO_FILLED');
  const sizeBytes = Math.min(section.VirtualSize, section.SizeOfRawData);
  return {
    name: section.name,
    index: section.index,
    VirtualSize: section.VirtualSize,
    SizeOfRawData: section.SizeOfRawData,
    PointerToRawData: section.PointerToRawData,
    VirtualAddress: section.VirtualAddress,
    data: view.slice(section.PointerToRawData, sizeBytes, `${section.name} contents`),
  };
}

const utf8 = new TextDecoder('utf-8');

/** Text of a section up to its first NUL, as the stub reads strings (xstrndup8). */
export function sectionText(data: Uint8Array): string {
  const nul = data.indexOf(0);
  return utf8.decode(nul === -1 ? data : data.subarray(0, nul));
}

/**
 * A command line as systemd-stub hands it on (mangle_stub_cmdline in src/boot/util.c): leading
 * and trailing blanks and control characters dropped (so a trailing newline or NUL goes), inner
 * control characters turned into spaces one for one.
 */
export function mangleStubCmdline(text: string): string {
  let result = '';
  let lastKept = 0;
  let started = false;
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    const blank = code <= 0x20 || code === 0x7f;
    if (!started) {
      if (blank) continue;
      started = true;
    }
    result += blank ? ' ' : character;
    if (!blank) lastKept = result.length;
  }
  return result.slice(0, lastKept);
}
