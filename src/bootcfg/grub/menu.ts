/**
 * The GRUB menu as a tree (entries and submenus, in the order the config created them) and the
 * choice of the default entry from `default`, as grub-core/normal/menu.c makes it:
 * - a number is an index into the menu level, counting entries and submenus alike;
 * - otherwise the first item whose title or `--id` equals the text;
 * - `>` separates the levels of a submenu path (`Advanced options>Debian, with Linux 6.1`);
 *   `>>` stands for a literal `>` in a title;
 * - nothing matching: GRUB boots item 0.
 * Pure.
 */

export interface GrubMenuItem {
  kind: 'entry' | 'submenu';
  title: string;
  id: string | undefined;
  /** entries: index into the flat entry list. */
  entryIndex?: number;
  /** submenus: their items. */
  items?: GrubMenuItem[];
}

/** Splits a default path at single `>`; `>>` is an escaped `>`. */
export function splitMenuPath(spec: string): string[] {
  const components: string[] = [];
  let current = '';
  for (let index = 0; index < spec.length; index++) {
    const char = spec[index]!;
    if (char === '>') {
      if (spec[index + 1] === '>') {
        current += '>';
        index++;
        continue;
      }
      components.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  components.push(current);
  return components;
}

/** grub_strtoul(…, 0) on the whole component: decimal, or hex with 0x. */
function parseMenuIndex(component: string): number | undefined {
  const trimmed = component.trim();
  if (/^\d+$/.test(trimmed)) return Number.parseInt(trimmed, 10);
  if (/^0x[0-9a-f]+$/i.test(trimmed)) return Number.parseInt(trimmed.slice(2), 16);
  return undefined;
}

function firstEntry(items: readonly GrubMenuItem[]): number | undefined {
  for (const item of items) {
    if (item.kind === 'entry') return item.entryIndex;
    const inner = firstEntry(item.items ?? []);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

export interface GrubDefaultChoice {
  /** Index into the flat entry list; undefined when the menu has no entry. */
  entryIndex: number | undefined;
  /** True when `default` named nothing and GRUB's fallback (item 0) was taken. */
  fellBack: boolean;
}

export function chooseGrubDefault(menu: readonly GrubMenuItem[], spec: string | undefined): GrubDefaultChoice {
  if (spec === undefined || spec.trim() === '') {
    return { entryIndex: itemEntry(menu[0]), fellBack: false };
  }
  let level: readonly GrubMenuItem[] = menu;
  const components = splitMenuPath(spec);
  for (let depth = 0; depth < components.length; depth++) {
    const component = components[depth]!;
    const index = parseMenuIndex(component);
    const item = index !== undefined ? level[index] : level.find((candidate) => candidate.title === component || candidate.id === component);
    if (!item) return { entryIndex: itemEntry(menu[0]), fellBack: true };
    const last = depth === components.length - 1;
    if (item.kind === 'entry') return { entryIndex: item.entryIndex, fellBack: false };
    // A submenu named last opens it; its own default is its first item.
    if (last) return { entryIndex: firstEntry(item.items ?? []), fellBack: false };
    level = item.items ?? [];
  }
  return { entryIndex: itemEntry(menu[0]), fellBack: true };
}

function itemEntry(item: GrubMenuItem | undefined): number | undefined {
  if (!item) return undefined;
  return item.kind === 'entry' ? item.entryIndex : firstEntry(item.items ?? []);
}
