import { ByteView } from '../../binary/byte-view.js';
import { ErrorCode, ParseError } from '../../errors.js';
import { IMAGE_SUBSYSTEM_EFI_APPLICATION } from '../pe/names.js';
import { parsePe } from '../pe/parse-pe.js';
import type { PeImage, PeSection } from '../pe/types.js';
import { parseOsRelease, type OsRelease } from './os-release.js';
import {
  REPEATABLE_SECTION,
  isUkiSectionName,
  mangleStubCmdline,
  readUkiSection,
  sectionText,
  type UkiSection,
  type UkiSectionName,
  type UkiSectionProblem,
} from './sections.js';

const FORMAT = 'uki';

export type UkiWarningCode = UkiSectionProblem | 'DUPLICATE_SECTION' | 'NOT_EFI_APPLICATION';

export interface UkiWarning {
  code: UkiWarningCode;
  /** File offset of the section header concerned. */
  offset?: number;
  detail?: string;
}

export interface UkiProfile {
  /** @0, @1, ...: the number a boot entry selects it with. */
  number: number;
  /** The .profile section's own contents (ID=, TITLE=, in os-release syntax). */
  metadata: OsRelease;
  id: string | undefined;
  title: string | undefined;
  /** Sections between this .profile and the next (or the end), the .profile itself excluded. */
  sections: UkiSection[];
}

export interface Uki {
  format: 'uki';
  pe: PeImage;
  /** Sections before the first .profile. */
  baseSections: UkiSection[];
  /** Empty for a UKI without .profile sections. */
  profiles: UkiProfile[];
  /** The profile these effective values are for (0 unless asked otherwise). */
  selectedProfile: number;
  /** The effective section set: the selected profile's sections, plus base ones it does not override. */
  sections: UkiSection[];
  linux: Uint8Array;
  initrd: Uint8Array | undefined;
  ucode: Uint8Array | undefined;
  /** As systemd-stub passes it on: cut at NUL, trimmed of blanks, inner newlines made spaces. */
  cmdline: string | undefined;
  osRelease: OsRelease | undefined;
  uname: string | undefined;
  /** Every effective .dtb (the spec allows several; which one applies is up to the stub). */
  dtb: Uint8Array[];
  splash: Uint8Array | undefined;
  sbat: string | undefined;
  pcrsig: string | undefined;
  pcrpkey: string | undefined;
  warnings: UkiWarning[];
}

/** A PE image with a .linux section ("Only the .linux section is required for the image to be considered a UKI"). Never throws. */
export function probeUki(bytes: Uint8Array): boolean {
  try {
    return parsePe(bytes).sections.some((section) => section.name === '.linux');
  } catch {
    return false;
  }
}

/**
 * Reads a Unified Kernel Image (UAPI group specification "Unified Kernel Image") and resolves
 * the section set of one profile (`profile`, default 0, as the stub's "@N" selector picks it).
 * Throws ParseError: what parsePe throws; FORMAT_UNRECOGNIZED without a .linux section;
 * FORMAT_TRUNCATED for a UKI section (of any profile) whose contents lie outside the file;
 * FORMAT_INVALID for a profile the image does not define.
 */
export function parseUki(bytes: Uint8Array, opts: { profile?: number } = {}): Uki {
  const pe = parsePe(bytes);
  const view = new ByteView(bytes, FORMAT);
  const warnings: UkiWarning[] = [];
  // "UKIs are UEFI applications images, and hence should initialize the Subsystem field ... to 0x0A"
  if (pe.optionalHeader.Subsystem !== IMAGE_SUBSYSTEM_EFI_APPLICATION) warnings.push({ code: 'NOT_EFI_APPLICATION', detail: pe.subsystemName ?? String(pe.optionalHeader.Subsystem) });

  const groups = splitIntoProfiles(pe.sections);
  const read = (section: PeSection & { name: UkiSectionName }) =>
    readUkiSection(view, section, (code) => warnings.push({ code, offset: section.headerOffset, detail: section.name }));
  const baseSections = firstOfEachName(groups.base, warnings).flatMap((section) => read(section) ?? []);
  const profiles: UkiProfile[] = groups.profiles.map((group, number) => {
    const metadata = parseOsRelease(sectionText(read(group.profileSection)?.data ?? new Uint8Array()));
    return {
      number,
      metadata,
      id: metadata.fields.ID,
      title: metadata.fields.TITLE,
      sections: firstOfEachName(group.sections, warnings).flatMap((section) => read(section) ?? []),
    };
  });

  const selectedProfile = opts.profile ?? 0;
  const profile = profiles[selectedProfile];
  // systemd-stub (stub.c, find_sections): "the first profile is implied if it doesn't exist".
  if (!profile && !(selectedProfile === 0 && profiles.length === 0)) {
    throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `profile @${selectedProfile} was selected, but this UKI defines ${profiles.length} profile(s)`, {
      field: '.profile',
    });
  }
  // "sections associated with specific profiles comprehensively override those of the same name in the base profile"
  const overridden = new Set(profile?.sections.map((section) => section.name));
  const sections = [...baseSections.filter((section) => !overridden.has(section.name)), ...(profile?.sections ?? [])].sort((left, right) => left.index - right.index);

  const linux = sections.find((section) => section.name === '.linux');
  if (!linux) {
    throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, FORMAT, 'no .linux section (with a non-zero VirtualSize): a PE image, but not a UKI', { field: '.linux' });
  }
  const data = (name: UkiSectionName) => sections.find((section) => section.name === name)?.data;
  const text = (name: UkiSectionName) => {
    const bytesOfSection = data(name);
    return bytesOfSection === undefined ? undefined : sectionText(bytesOfSection);
  };
  const osReleaseText = text('.osrel');
  const cmdlineText = text('.cmdline');
  return {
    format: 'uki',
    pe,
    baseSections,
    profiles,
    selectedProfile,
    sections,
    linux: linux.data,
    initrd: data('.initrd'),
    ucode: data('.ucode'),
    cmdline: cmdlineText === undefined ? undefined : mangleStubCmdline(cmdlineText),
    osRelease: osReleaseText === undefined ? undefined : parseOsRelease(osReleaseText),
    uname: text('.uname')?.trim(),
    dtb: sections.filter((section) => section.name === REPEATABLE_SECTION).map((section) => section.data),
    splash: data('.splash'),
    sbat: text('.sbat'),
    pcrsig: text('.pcrsig'),
    pcrpkey: text('.pcrpkey'),
    warnings,
  };
}

type NamedSection = PeSection & { name: UkiSectionName };

/** "The sections listed in the PE binary before the first .profile section make up ... the base profile"; each .profile starts the next. */
function splitIntoProfiles(peSections: PeSection[]): { base: NamedSection[]; profiles: { profileSection: NamedSection; sections: NamedSection[] }[] } {
  const base: NamedSection[] = [];
  const profiles: { profileSection: NamedSection; sections: NamedSection[] }[] = [];
  for (const section of peSections) {
    if (!isUkiSectionName(section.name)) continue;
    const named = section as NamedSection;
    if (named.name === '.profile') profiles.push({ profileSection: named, sections: [] });
    else (profiles.at(-1)?.sections ?? base).push(named);
  }
  return { base, profiles };
}

/** Within one profile a section appears once (.dtb excepted); like systemd-stub, the first one wins. */
function firstOfEachName(sections: NamedSection[], warnings: UkiWarning[]): NamedSection[] {
  const seen = new Set<string>();
  return sections.filter((section) => {
    if (section.name === REPEATABLE_SECTION) return true;
    if (seen.has(section.name)) {
      warnings.push({ code: 'DUPLICATE_SECTION', offset: section.headerOffset, detail: section.name });
      return false;
    }
    seen.add(section.name);
    return true;
  });
}
