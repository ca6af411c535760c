/**
 * BLS entries written for GRUB's blscfg module (Fedora, RHEL 8 and their rebuilds) say
 * `options $kernelopts $tuned_params` and `initrd /initramfs-X.img $tuned_initrd`: GRUB expands
 * those from grubenv, which the grub.cfg that calls `blscfg` loads first. When the entries are
 * read without that grub.cfg (a copied /boot, an ESP missing), the literal `$kernelopts` must not
 * reach a kernel: the entries are run through GRUB's blscfg as that grub.cfg would run them (the
 * environment block loaded, `default` from its saved_entry, then `blscfg`), and an entry whose
 * `kernelopts` no grubenv sets has an unknown command line. Pure: files through the reader.
 */
import { parseGrubenv } from '../grub/grubenv.js';
import { parseGrubConfig } from '../grub/read.js';
import { BootConfigWarningCode, type BootConfig, type BootEntry, type BootFileReader } from '../types.js';

/** `$name` or `${name}` as GRUB's lexer reads a variable reference. */
const GRUB_VARIABLE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** The variables an entry's command line, kernel or initrds refer to, in order of appearance. */
export function grubVariablesIn(entry: Pick<BootEntry, 'cmdline' | 'kernel' | 'initrds'>): string[] {
  const names = new Set<string>();
  for (const text of [entry.cmdline, entry.kernel ?? '', ...entry.initrds]) {
    for (const match of text.matchAll(GRUB_VARIABLE)) names.add(match[1] ?? match[2]!);
  }
  return [...names];
}

/** The variable that carries root= and the rest of the command line on these systems. */
const KERNELOPTS = 'kernelopts';

/**
 * `config` (as the BLS reader made it) when no entry refers to a GRUB variable; otherwise the
 * entries as GRUB's blscfg makes them, with `grubenvFiles` (reader paths, first found used)
 * as the environment, and warnings that say so.
 */
export function expandForGrubBlscfg(config: BootConfig, reader: BootFileReader, options: { grubenvFiles: readonly string[]; pathBases: readonly string[] }): BootConfig {
  const referenced = new Set(config.entries.flatMap(grubVariablesIn));
  if (referenced.size === 0) return config;

  const grubenv = options.grubenvFiles.find((file) => reader.readText(file) !== undefined);
  const environment = grubenv === undefined ? new Map<string, string>() : parseGrubenv(reader.readText(grubenv)!, grubenv);
  const script = [
    ...(grubenv !== undefined ? [`load_env -f ${grubenv}`] : []),
    'if [ -n "${saved_entry}" ]; then set default="${saved_entry}"; fi',
    'blscfg',
  ].join('\n');
  const asGrub = parseGrubConfig(script, '(grub.cfg calling blscfg)', { reader, pathBases: [...options.pathBases] });

  const names = [...referenced].map((name) => `$${name}`).join(', ');
  const warnings = [...config.warnings, ...asGrub.warnings.filter((warning) => warning.code !== BootConfigWarningCode.FILE_NOT_FOUND)];
  warnings.push({
    code: BootConfigWarningCode.GRUB_VARIABLES,
    message: grubenv !== undefined
      ? `the BLS entries use GRUB variables (${names}) and no grub.cfg calling blscfg was found; they are expanded from ${grubenv} as GRUB's blscfg would`
      : `the BLS entries use GRUB variables (${names}) and neither a grub.cfg calling blscfg nor a grubenv was found`,
  });
  const unset = [...referenced].filter((name) => !environment.has(name));
  const entries = asGrub.entries.map((entry): BootEntry => {
    if (!grubVariablesIn(config.entries.find((bls) => bls.id.replace(/\.conf$/, '') === entry.id) ?? entry).includes(KERNELOPTS) || environment.has(KERNELOPTS)) return entry;
    return {
      ...entry,
      cmdlineOrigin: 'unknown',
      cmdlineUnknownReason: grubenv !== undefined
        ? `its options use $kernelopts, which ${grubenv} does not set (the grub.cfg that would is missing)`
        : 'its options use $kernelopts, and neither the grub.cfg nor the grubenv that set it was found',
    };
  });
  if (unset.length > 0 && grubenv !== undefined) {
    warnings.push({ code: BootConfigWarningCode.GRUB_VARIABLES, message: `${unset.map((name) => `$${name}`).join(', ')} not set in ${grubenv}: expanded to nothing, as GRUB does`, file: grubenv });
  }
  const result: BootConfig = { entries, warnings };
  if (asGrub.defaultId !== undefined) result.defaultId = asGrub.defaultId;
  return result;
}
