import { ErrorCode, ParseError } from '../../../errors.js';
import { CRASH_ARM_LIMITS } from '../../../limits.js';

/**
 * Kernel modules for the capture initramfs, found the way modprobe finds them: modules.dep
 * (written by depmod) maps each module's path under /lib/modules/RELEASE to every module it
 * needs; modules.builtin lists those built into the kernel. Names compare with '-' and '_'
 * alike, as modprobe's do.
 */
export interface ModuleIndex {
  /** Canonical name -> path relative to the modules directory, and the paths it depends on. */
  readonly modules: ReadonlyMap<string, { readonly path: string; readonly dependencies: readonly string[] }>;
  readonly builtin: ReadonlySet<string>;
}

export function moduleName(pathOrName: string): string {
  const base = pathOrName.slice(pathOrName.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

export function parseModulesDep(text: string, builtinText = ''): ModuleIndex {
  const lines = text.split('\n');
  if (lines.length > CRASH_ARM_LIMITS.modulesDepLines) {
    throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, 'modules.dep', `${lines.length} lines; at most ${CRASH_ARM_LIMITS.modulesDepLines} are read`);
  }
  const modules = new Map<string, { path: string; dependencies: string[] }>();
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ParseError(ErrorCode.FORMAT_INVALID, 'modules.dep', `line ${index + 1} is not "module: dependencies"`);
    const path = line.slice(0, colon).trim();
    const dependencies = line.slice(colon + 1).trim().split(/\s+/).filter((dependency) => dependency !== '');
    modules.set(moduleName(path), { path, dependencies });
  });
  const builtin = new Set(builtinText.split('\n').filter((line) => line.trim() !== '').map((line) => moduleName(line.trim())));
  return { modules, builtin };
}

export interface ModuleSelection {
  /** Paths relative to the modules directory, dependencies before the modules that need them. */
  readonly loadOrder: readonly string[];
  /** Asked for but built into the kernel: nothing to load. */
  readonly builtin: readonly string[];
  /** Asked for and unknown to modules.dep. */
  readonly missing: readonly string[];
}

export function selectModules(index: ModuleIndex, requested: readonly string[]): ModuleSelection {
  const loadOrder: string[] = [];
  const placed = new Set<string>();
  const builtin: string[] = [];
  const missing: string[] = [];
  const byPath = new Map([...index.modules.values()].map((entry) => [entry.path, entry]));
  const place = (path: string, trail: Set<string>): void => {
    if (placed.has(path) || trail.has(path)) return;
    trail.add(path);
    for (const dependency of byPath.get(path)?.dependencies ?? []) place(dependency, trail);
    trail.delete(path);
    placed.add(path);
    loadOrder.push(path);
  };
  for (const name of requested) {
    const canonical = moduleName(name);
    const entry = index.modules.get(canonical);
    if (entry !== undefined) place(entry.path, new Set());
    else if (index.builtin.has(canonical)) builtin.push(name);
    else missing.push(name);
  }
  return { loadOrder, builtin, missing };
}
