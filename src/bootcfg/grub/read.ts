/**
 * grub.cfg -> BootConfig: runs the script (evaluate.ts), walks the menu it built (submenus
 * included, depth first), turns each entry's recorded boot commands into a BootEntry, and
 * picks the default from `default` as GRUB does (menu.ts). `blscfg` (Fedora, RHEL and their
 * kin) adds the BLS entries of the boot partition as menu entries, with their `options`
 * expanded against GRUB's variables (`$kernelopts` from grubenv). Pure: files through the reader.
 */
import { BOOTCFG_LIMITS } from '../../limits.js';
import { parseBlsEntry, type BlsEntry } from '../bls/entry.js';
import { baseName, dirName, joinPath, underBase, WarningSink } from '../text.js';
import {
  BootConfigWarningCode,
  UnbootableCode,
  memoryBootFileReader,
  type BootConfig,
  type BootEntry,
  type BootFileReader,
} from '../types.js';
import { grubLoaderCmdline } from './cmdline.js';
import { looksLikeMemtest } from './commands.js';
import { initialContext, type Context } from './context.js';
import { GrubInterpreter, type PendingMenuItem } from './evaluate.js';
import { chooseGrubDefault, type GrubMenuItem } from './menu.js';
import { parseGrubScript } from './parse.js';
import { sortForBlscfg } from './rpm-version.js';

export interface GrubReadOptions {
  /** Resolves `source`, `configfile`, `load_env`, `blscfg` and file tests. Default: no files. */
  reader?: BootFileReader;
  /** `grub_platform` as GRUB sets it; configs test it (UEFI-only entries). Default `efi`. */
  platform?: 'efi' | 'pc';
  /** Extra start-up variables. */
  variables?: Record<string, string>;
  /** Where the device-relative paths may live in the reader's namespace. Default `['/', '/boot']`. */
  pathBases?: string[];
  /** A default given by the user, in `default`'s syntax (index, title, id, `a>b` path). */
  defaultOverride?: string;
  /** Where `echo` writes (GRUB's console); nowhere unless given. */
  output?: (text: string) => void;
}

/** `vmlinuz-6.1.0-26-amd64` -> `6.1.0-26-amd64`: the version Debian and Fedora put in file names. */
export function versionFromKernelPath(kernel: string | undefined): string | undefined {
  if (kernel === undefined) return undefined;
  const match = /^(?:vmlinuz|vmlinux|linux|kernel|bzImage)-(.+)$/.exec(baseName(kernel));
  return match?.[1];
}

function blscfgItems(interpreter: GrubInterpreter, context: Context): PendingMenuItem[] {
  const blsdir = context.vars.get('blsdir') || '/loader/entries';
  for (const base of interpreter.options.pathBases.slice().reverse()) {
    const dir = underBase(base, blsdir);
    const names = interpreter.reader.list(dir).filter((name) => name.endsWith('.conf')).slice(0, BOOTCFG_LIMITS.directoryEntries);
    if (names.length === 0) continue;
    const entries: BlsEntry[] = [];
    for (const name of names) {
      const text = interpreter.reader.readText(joinPath(dir, name));
      if (text === undefined) continue;
      const entry = parseBlsEntry(text, joinPath(dir, name));
      interpreter.sink.warnings.push(...entry.warnings);
      entries.push(entry);
    }
    // BLS paths are relative to the partition holding the entries: the base we found them under.
    // blscfg skips an entry without `linux` (an `efi` one is systemd-boot's, not GRUB's).
    return sortForBlscfg(entries.filter((entry) => entry.linux !== undefined))
      .map((entry) => blsMenuItem(entry, context, base === '/' ? ['/'] : [base, '/']));
  }
  interpreter.sink.add(BootConfigWarningCode.FILE_NOT_FOUND, `blscfg: no BLS entries in ${blsdir}`, interpreter.currentFile);
  return [];
}

/**
 * blscfg's own expansion of `options` (expand_val in Fedora's and RHEL's blscfg.c), done once
 * when the menu is built: `$name` becomes the variable's value and a space (nothing when unset),
 * one space of the text after a variable is dropped, and `${` is no variable: the `$` goes and
 * `{name}` stays. The result is pasted into the entry's `linux` line, where GRUB's script
 * parser splits it into words again.
 */
export function expandBlscfgValue(text: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if (char !== '$') {
      out += char;
      index++;
      continue;
    }
    const name = /^[A-Za-z0-9_]+/.exec(text.slice(index + 1))?.[0] ?? '';
    index += 1 + name.length;
    if (name === '') continue;
    const value = vars.get(name);
    if (value !== undefined) out += `${value} `;
    if (text[index] === ' ') index++;
  }
  return out;
}

/** The menu entry GRUB's blscfg module builds for a BLS entry: script text, so initrd variables expand at boot. */
function blsMenuItem(entry: BlsEntry, context: Context, pathBases: string[]): PendingMenuItem {
  // Without `options`, blscfg takes the environment's default_kernelopts (Fedora 30/31's grub.cfg).
  const options = entry.options.length > 0 ? entry.options.join(' ') : '$default_kernelopts';
  const lines = [`linux ${entry.linux} ${expandBlscfgValue(options, context.vars)}`];
  if (entry.initrds.length > 0) lines.push(`initrd ${entry.initrds.join(' ')}`);
  if (entry.devicetree !== undefined) lines.push(`devicetree ${expandBlscfgValue(entry.devicetree, context.vars).trim()}`);
  const id = entry.id.replace(/\.conf$/, '');
  const item: PendingMenuItem = {
    kind: 'entry',
    title: entry.title ?? entry.linux ?? id,
    id,
    positional: [],
    body: parseGrubScript(lines.join('\n')).statements,
    file: entry.file,
    line: entry.lineOf.linux ?? 1,
    pathBases,
  };
  if (entry.version !== undefined) item.version = entry.version;
  return item;
}

export function parseGrubConfig(text: string, file: string, options: GrubReadOptions = {}): BootConfig {
  const sink = new WarningSink();
  const pathBases = options.pathBases ?? ['/', '/boot'];
  const interpreter = new GrubInterpreter(options.reader ?? memoryBootFileReader({}), sink, {
    pathBases,
    variables: options.variables ?? {},
    blscfg: blscfgItems,
    ...(options.output !== undefined ? { output: options.output } : {}),
  });
  // GRUB's normal mode sets config_directory and config_file for the file it reads (RHEL's
  // grub.cfg loads `${config_directory}/grubenv`); a caller's variables win.
  const context = initialContext(file, options.platform ?? 'efi', { config_directory: dirName(file), config_file: file, ...(options.variables ?? {}) });
  const topItems: PendingMenuItem[] = [];
  interpreter.runFile(text, file, context, topItems);

  const entries: BootEntry[] = [];
  const build = (items: PendingMenuItem[], itemContext: Context, menuPath: string[], depth: number): GrubMenuItem[] => {
    const menu: GrubMenuItem[] = [];
    for (const item of items) {
      if (item.kind === 'submenu') {
        if (depth >= BOOTCFG_LIMITS.nestingDepth) {
          sink.add(BootConfigWarningCode.LIMIT_REACHED, `submenus nested deeper than ${BOOTCFG_LIMITS.nestingDepth}`, item.file, item.line);
          continue;
        }
        const inner = interpreter.runSubmenuBody(item, itemContext);
        menu.push({ kind: 'submenu', title: item.title, id: item.id, items: build(inner.items, inner.context, [...menuPath, item.title], depth + 1) });
        continue;
      }
      menu.push({ kind: 'entry', title: item.title, id: item.id, entryIndex: entries.length });
      entries.push(toBootEntry(item, interpreter.runEntryBody(item, itemContext), menuPath, pathBases));
    }
    return menu;
  };
  const menu = build(topItems, context, [], 0);

  const configured = context.vars.get('default');
  let choice = chooseGrubDefault(menu, options.defaultOverride ?? configured);
  if (choice.fellBack) {
    const spec = options.defaultOverride ?? configured;
    sink.add(BootConfigWarningCode.DEFAULT_NOT_FOUND, `default "${spec}" names no menu item; GRUB boots the first`, file);
    if (options.defaultOverride !== undefined && configured !== undefined) {
      const fromConfig = chooseGrubDefault(menu, configured);
      if (!fromConfig.fellBack) choice = fromConfig;
    }
  }
  const config: BootConfig = { entries, warnings: sink.warnings };
  if (choice.entryIndex !== undefined) {
    entries[choice.entryIndex]!.isDefault = true;
    config.defaultId = entries[choice.entryIndex]!.id;
  }
  return config;
}

function toBootEntry(item: PendingMenuItem, actions: ReturnType<GrubInterpreter['runEntryBody']>, menuPath: string[], pathBases: string[]): BootEntry {
  const entry: BootEntry = {
    id: item.id ?? item.title,
    title: item.title,
    initrds: actions.initrds,
    cmdline: grubLoaderCmdline(actions.kernelArgs),
    source: { file: item.file, line: item.line },
    isDefault: false,
    origin: 'grub',
    pathBases: item.pathBases ?? pathBases,
  };
  if (menuPath.length > 0) entry.menuPath = menuPath;
  const version = item.version ?? versionFromKernelPath(actions.kernel);
  if (version !== undefined) entry.version = version;
  if (actions.kernel !== undefined) entry.kernel = actions.kernel;
  if (actions.devicetree !== undefined) entry.devicetree = actions.devicetree;
  if (actions.unbootable) entry.unbootableReason = actions.unbootable;
  else if (looksLikeMemtest(actions.kernel, item.title)) {
    entry.unbootableReason = { code: UnbootableCode.MEMTEST, message: `${actions.kernel ?? item.title} is a memory tester, not a Linux kernel` };
  } else if (actions.kernel === undefined) {
    entry.unbootableReason = { code: UnbootableCode.NO_KERNEL, message: 'the entry loads no kernel (no linux command)' };
  }
  return entry;
}
