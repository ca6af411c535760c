/**
 * syslinux-family configs (syslinux.cfg, extlinux.conf, isolinux.cfg, pxelinux.cfg/*, and the
 * extlinux.conf U-Boot reads) -> BootConfig. Keywords are case-insensitive, one per line
 * (syslinux doc/syslinux.txt, "CONFIGURATION FILE"; doc/menu.txt for MENU). Pure: INCLUDEd
 * files come through the reader.
 * - LABEL starts an entry; KERNEL/LINUX, INITRD (comma-separated), APPEND, FDT/DEVICETREE
 *   belong to the last LABEL; an APPEND before any LABEL is the default for all of them.
 * - `initrd=a,b` inside APPEND loads those files too (syslinux.txt, APPEND); it is taken out of
 *   the command line, as kexec-tools does, since no loader reads it after kexec.
 * - KERNEL decides the image type by extension (.c32 COM32, .cbt/.com COMBOOT, .bs/.bss/.bin
 *   boot sector, .0 PXE, .img floppy); LINUX always means a Linux kernel.
 * - Default: the label DEFAULT names (the last DEFAULT wins), else the top menu's MENU DEFAULT,
 *   else the first label of the top menu (what menu.c32 highlights).
 * - Relative paths are relative to the working directory: the config's own directory, or for
 *   PXELINUX the directory above pxelinux.cfg/ (the TFTP prefix).
 */
import { BOOTCFG_LIMITS } from '../../limits.js';
import { assertConfigSize, baseName, dirName, joinPath, splitLines, WarningSink } from '../text.js';
import {
  BootConfigWarningCode,
  UnbootableCode,
  memoryBootFileReader,
  type BootConfig,
  type BootEntry,
  type BootFileReader,
  type UnbootableReason,
} from '../types.js';

export interface SyslinuxReadOptions {
  reader?: BootFileReader;
  /** Directory relative paths start from; default: see the module comment. */
  workingDirectory?: string;
  /** Where absolute paths may live in the reader's namespace. Default `['/', '/boot']`. */
  pathBases?: string[];
  /** A label chosen by the user; wins over DEFAULT. */
  defaultOverride?: string;
}

interface LabelState {
  label: string;
  menuLabel?: string;
  kernel?: string;
  kernelKeyword?: string;
  initrds: string[];
  append?: string;
  devicetree?: string;
  menuDefault: boolean;
  menuNavigation: boolean;
  otherMenu?: string;
  localBoot: boolean;
  menuPath: string[];
  file: string;
  line: number;
}

const TYPE_BY_EXTENSION: Record<string, UnbootableReason> = {
  '.c32': { code: UnbootableCode.SYSLINUX_MODULE, message: 'a COM32 module' },
  '.cbt': { code: UnbootableCode.SYSLINUX_MODULE, message: 'a COMBOOT program' },
  '.com': { code: UnbootableCode.SYSLINUX_MODULE, message: 'a COMBOOT program' },
  '.bs': { code: UnbootableCode.CHAINLOADER, message: 'a boot sector' },
  '.bss': { code: UnbootableCode.CHAINLOADER, message: 'a boot sector' },
  '.bin': { code: UnbootableCode.CHAINLOADER, message: 'a boot sector' },
  '.0': { code: UnbootableCode.CHAINLOADER, message: 'a PXE network boot program' },
  '.img': { code: UnbootableCode.CHAINLOADER, message: 'a floppy image' },
};
const FORCED_TYPES: Record<string, UnbootableReason> = {
  boot: { code: UnbootableCode.CHAINLOADER, message: 'a boot sector' },
  bss: { code: UnbootableCode.CHAINLOADER, message: 'a boot sector' },
  pxe: { code: UnbootableCode.CHAINLOADER, message: 'a PXE network boot program' },
  fdimage: { code: UnbootableCode.CHAINLOADER, message: 'a floppy image' },
  comboot: { code: UnbootableCode.SYSLINUX_MODULE, message: 'a COMBOOT program' },
  com32: { code: UnbootableCode.SYSLINUX_MODULE, message: 'a COM32 module' },
};
/** Recognised and irrelevant to what boots. */
const IGNORED_KEYWORDS = new Set([
  'ui', 'prompt', 'timeout', 'totaltimeout', 'ontimeout', 'onerror', 'path', 'serial', 'console', 'font',
  'kbdmap', 'display', 'say', 'noescape', 'nocomplete', 'nohalt', 'allowoptions', 'implicit', 'ipappend',
  'sysappend', 'fdtdir', 'fdtoverlays', 'f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9', 'f10',
  'f11', 'f12',
]);
const MENU_NAVIGATION = new Set(['exit', 'quit', 'goto']);

export function defaultWorkingDirectory(configFile: string): string {
  const dir = dirName(configFile);
  return baseName(dir) === 'pxelinux.cfg' ? dirName(dir) : dir;
}

export function parseSyslinuxConfig(text: string, file: string, options: SyslinuxReadOptions = {}): BootConfig {
  const reader = options.reader ?? memoryBootFileReader({});
  const workingDirectory = options.workingDirectory ?? defaultWorkingDirectory(file);
  const sink = new WarningSink();
  const labels: LabelState[] = [];
  let globalAppend: string | undefined;
  let defaultLabel: string | undefined;
  let current: LabelState | undefined;
  const menuStack: { title?: string; tag?: string }[] = [];
  let pendingMenuTitle = false;
  let labelsCapped = false;

  const resolve = (path: string): string => joinPath(workingDirectory, path);

  const readFile = (path: string, sourceFile: string, depth: number, line: number): void => {
    if (depth > BOOTCFG_LIMITS.includeDepth) {
      sink.add(BootConfigWarningCode.LIMIT_REACHED, `INCLUDE nested deeper than ${BOOTCFG_LIMITS.includeDepth}; ${path} not read`, sourceFile, line);
      return;
    }
    const included = reader.readText(path);
    if (included === undefined) {
      // syslinux skips a missing INCLUDE silently; say which file was missing.
      sink.add(BootConfigWarningCode.FILE_NOT_FOUND, `included file ${path} not found`, sourceFile, line);
      return;
    }
    parseText(included, path, depth);
  };

  const parseText = (source: string, sourceFile: string, depth: number): void => {
    assertConfigSize(source, 'syslinux config', sourceFile);
    const lines = splitLines(source);
    for (let index = 0; index < lines.length; index++) {
      const line = index + 1;
      const trimmed = lines[index]!.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      const match = /^(\S+)(?:\s+(.*))?$/s.exec(trimmed)!;
      const keyword = match[1]!.toLowerCase();
      const value = (match[2] ?? '').trim();

      if (keyword === 'text' && value.toLowerCase().startsWith('help')) {
        while (index + 1 < lines.length && lines[index + 1]!.trim().toLowerCase() !== 'endtext') index++;
        index++;
        continue;
      }
      if (keyword === 'menu') {
        const sub = /^(\S+)(?:\s+(.*))?$/s.exec(value);
        const subKeyword = sub?.[1]?.toLowerCase() ?? '';
        const subValue = (sub?.[2] ?? '').trim();
        if (subKeyword === 'begin') {
          if (menuStack.length >= BOOTCFG_LIMITS.nestingDepth) {
            sink.add(BootConfigWarningCode.LIMIT_REACHED, 'MENU BEGIN nested too deep', sourceFile, line);
            continue;
          }
          menuStack.push({ tag: subValue || undefined });
          current = undefined;
          pendingMenuTitle = true;
        } else if (subKeyword === 'end') {
          menuStack.pop();
          current = undefined;
        } else if (subKeyword === 'label' || subKeyword === 'title') {
          if (current && subKeyword === 'label') current.menuLabel = subValue.replace(/\^/g, '');
          else if (pendingMenuTitle && menuStack.length > 0) {
            const menu = menuStack[menuStack.length - 1]!;
            if (subKeyword === 'label' || menu.title === undefined) menu.title = subValue.replace(/\^/g, '');
          }
        } else if (subKeyword === 'default') {
          if (current) current.menuDefault = true;
        } else if (MENU_NAVIGATION.has(subKeyword)) {
          if (current) current.menuNavigation = true;
        } else if (subKeyword === 'include') {
          readFile(resolve(subValue.split(/\s+/)[0] ?? ''), sourceFile, depth + 1, line);
        }
        continue;
      }
      switch (keyword) {
        case 'label': {
          pendingMenuTitle = false;
          current = {
            label: value,
            initrds: [],
            menuDefault: false,
            menuNavigation: false,
            localBoot: false,
            menuPath: menuStack.map((menu) => menu.title ?? menu.tag ?? ''),
            file: sourceFile,
            line,
          };
          if (labels.length < BOOTCFG_LIMITS.entries) labels.push(current);
          else if (!labelsCapped) {
            labelsCapped = true;
            sink.add(BootConfigWarningCode.LIMIT_REACHED, `more than ${BOOTCFG_LIMITS.entries} labels; the rest are ignored`, sourceFile, line);
          }
          break;
        }
        case 'kernel':
        case 'linux':
        case 'boot':
        case 'bss':
        case 'pxe':
        case 'fdimage':
        case 'comboot':
        case 'com32':
          if (!current) {
            sink.add(BootConfigWarningCode.SYNTAX_ERROR, `${keyword.toUpperCase()} outside a LABEL ignored`, sourceFile, line);
            break;
          }
          current.kernel = value;
          current.kernelKeyword = keyword;
          break;
        case 'initrd':
          if (current) current.initrds.push(...value.split(',').filter((name) => name !== ''));
          break;
        case 'append':
          if (current) current.append = value;
          else globalAppend = value;
          break;
        case 'fdt':
        case 'devicetree':
          if (current) current.devicetree = value;
          break;
        case 'localboot':
          if (current) current.localBoot = true;
          break;
        case 'config':
          if (current) current.otherMenu = value;
          break;
        case 'default':
          defaultLabel = value;
          break;
        case 'include':
          readFile(resolve(value.split(/\s+/)[0] ?? ''), sourceFile, depth + 1, line);
          break;
        default:
          if (!IGNORED_KEYWORDS.has(keyword)) {
            sink.add(BootConfigWarningCode.UNKNOWN_KEY, `unknown keyword "${match[1]}" ignored`, sourceFile, line);
          }
      }
    }
  };

  parseText(text, file, 0);
  const pathBases = options.pathBases ?? ['/', '/boot'];
  const entries = labels.filter((label) => !(label.menuNavigation && label.kernel === undefined)).map((label) => toBootEntry(label, globalAppend, resolve, pathBases));

  const config: BootConfig = { entries, warnings: sink.warnings };
  const chosen = chooseDefault(entries, labels, options.defaultOverride, defaultLabel, sink);
  if (chosen !== undefined) {
    chosen.isDefault = true;
    config.defaultId = chosen.id;
  }
  return config;
}

function chooseDefault(
  entries: BootEntry[],
  labels: LabelState[],
  override: string | undefined,
  defaultLabel: string | undefined,
  sink: WarningSink,
): BootEntry | undefined {
  // Label names compare case-sensitively in syslinux; DEFAULT may carry options after the name.
  const byLabel = (name: string | undefined): BootEntry | undefined =>
    name === undefined ? undefined : entries.find((entry) => entry.id === name.split(/\s+/)[0]);
  if (override !== undefined) {
    const found = byLabel(override);
    if (found) return found;
    sink.add(BootConfigWarningCode.DEFAULT_NOT_FOUND, `no LABEL "${override}"`);
  }
  const named = byLabel(defaultLabel);
  if (named) return named;
  const menuDefault = [...labels].reverse().find((label) => label.menuDefault && label.menuPath.length === 0);
  if (menuDefault) {
    const found = entries.find((entry) => entry.id === menuDefault.label && entry.source.line === menuDefault.line && entry.source.file === menuDefault.file);
    if (found) return found;
  }
  return entries.find((entry) => (entry.menuPath ?? []).length === 0) ?? entries[0];
}

function toBootEntry(label: LabelState, globalAppend: string | undefined, resolve: (path: string) => string, pathBases: string[]): BootEntry {
  const append = label.append ?? globalAppend ?? '';
  const words = append === '-' ? [] : append.split(/\s+/).filter((word) => word !== '');
  const initrds = [...label.initrds];
  const cmdline: string[] = [];
  for (const word of words) {
    if (word.startsWith('initrd=')) initrds.push(...word.slice('initrd='.length).split(',').filter((name) => name !== ''));
    else cmdline.push(word);
  }
  const entry: BootEntry = {
    id: label.label,
    title: label.menuLabel ?? label.label,
    initrds: initrds.map(resolve),
    cmdline: cmdline.join(' '),
    source: { file: label.file, line: label.line },
    isDefault: false,
    origin: 'syslinux',
    pathBases,
  };
  if (label.menuPath.length > 0) entry.menuPath = label.menuPath;
  const kernelPath = label.kernel?.split(/\s+/)[0];
  if (kernelPath !== undefined && kernelPath !== '') entry.kernel = resolve(kernelPath);
  if (label.devicetree !== undefined) entry.devicetree = resolve(label.devicetree);
  const reason = unbootableReason(label, kernelPath);
  if (reason) entry.unbootableReason = reason;
  return entry;
}

function unbootableReason(label: LabelState, kernelPath: string | undefined): UnbootableReason | undefined {
  if (label.localBoot) return { code: UnbootableCode.LOCAL_BOOT, message: 'boots the next local disk (LOCALBOOT)' };
  if (label.otherMenu !== undefined && kernelPath === undefined) {
    return { code: UnbootableCode.OTHER_MENU, message: `opens the menu in ${label.otherMenu}` };
  }
  if (kernelPath === undefined || kernelPath === '') return { code: UnbootableCode.NO_KERNEL, message: 'the LABEL has no KERNEL or LINUX line' };
  if (/memtest/i.test(kernelPath)) return { code: UnbootableCode.MEMTEST, message: `${kernelPath} is a memory tester, not a Linux kernel` };
  const keyword = label.kernelKeyword ?? 'kernel';
  if (keyword === 'linux') return undefined;
  const forced = FORCED_TYPES[keyword];
  const byExtension = Object.entries(TYPE_BY_EXTENSION).find(([extension]) => kernelPath.toLowerCase().endsWith(extension))?.[1];
  const type = forced ?? byExtension;
  if (type) return { code: type.code, message: `${kernelPath} is ${type.message}, not a Linux kernel` };
  if (baseName(kernelPath).toLowerCase() === 'memdisk') {
    return { code: UnbootableCode.CHAINLOADER, message: 'memdisk boots a disk image, not a Linux system' };
  }
  return undefined;
}
