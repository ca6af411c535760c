import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lexGrubScript, plainWordText } from '../../src/bootcfg/grub/lex.js';
import { parseGrubScript } from '../../src/bootcfg/grub/parse.js';
import { parseGrubConfig } from '../../src/bootcfg/grub/read.js';
import { runGrubScript } from '../../src/bootcfg/grub/script.js';
import { evaluateTest } from '../../src/bootcfg/grub/test-expression.js';
import { chooseGrubDefault, splitMenuPath } from '../../src/bootcfg/grub/menu.js';
import { grubLoaderCmdline } from '../../src/bootcfg/grub/cmdline.js';
import { parseGrubenv } from '../../src/bootcfg/grub/grubenv.js';
import { memoryBootFileReader, type BootConfig } from '../../src/bootcfg/types.js';
import { createRootedReader, readBootConfig } from '../../src/bootcfg/resolve.js';
import { bootcfgCache, committedFixture, readCommitted } from './fixtures.js';

const CFG = '/boot/grub/grub.cfg';

function grub(text: string, files: Record<string, string> = {}, options: Parameters<typeof parseGrubConfig>[2] = {}): BootConfig {
  return parseGrubConfig(text, CFG, { reader: memoryBootFileReader(files), ...options });
}

function words(source: string): string[] {
  return lexGrubScript(source).tokens.map((token) => (token.kind === 'word' ? token.parts.map((part) => (part.kind === 'text' ? part.text : `<$${part.name}>`)).join('') : `[${token.kind}]`));
}

test('lexer: single quotes are literal, double quotes keep blanks and mark variables, backslash escapes', () => {
  assert.deepEqual(words(`echo 'a $b  c' "d \${e} f" g\\ h`), ['echo', 'a $b  c', 'd <$e> f', 'g h']);
  assert.deepEqual(words('echo "a\\"b\\$c\\\\d\\x"'), ['echo', 'a"b$c\\d\\x']);
  assert.deepEqual(words('echo $1 $# $? ${prefix}/x $root'), ['echo', '<$1>', '<$#>', '<$?>', '<$prefix>/x', '<$root>']);
});

test('lexer: # starts a comment only at the start of a word; \\-newline continues a line', () => {
  assert.deepEqual(words('echo a#b # comment\nx'), ['echo', 'a#b', '[separator]', 'x']);
  assert.deepEqual(words('linux /vmlinuz \\\n  quiet'), ['linux', '/vmlinuz', 'quiet']);
  assert.deepEqual(words('menuentry x {linux /v}'), ['menuentry', 'x', '[open-brace]', 'linux', '/v', '[close-brace]']);
});

test('lexer: a quoted keyword is not a keyword, an unterminated quote is reported with its line', () => {
  const quoted = lexGrubScript("'if'").tokens[0]!;
  assert.equal(plainWordText(quoted), undefined);
  assert.equal(plainWordText(lexGrubScript('if').tokens[0]!), 'if');
  assert.deepEqual(lexGrubScript('a\nb "open\nc').problems, [{ message: 'unterminated double quote', line: 2 }]);
});

test('parser: if/elif/else, functions, nested menus; a broken statement is dropped and parsing goes on', () => {
  const parsed = parseGrubScript([
    'if [ a ]; then x; elif [ b ]; then y; else z; fi',
    'function f { echo $1; }',
    'submenu S { menuentry E { linux /v } }',
    'fi',
    'menuentry After { linux /w }',
  ].join('\n'));
  assert.deepEqual(parsed.statements.map((statement) => statement.kind), ['if', 'function', 'menu', 'menu']);
  const ifStatement = parsed.statements[0]!;
  assert.ok(ifStatement.kind === 'if' && ifStatement.branches.length === 2 && ifStatement.otherwise?.length === 1);
  assert.deepEqual(parsed.problems, [{ message: 'unexpected "fi"', line: 4 }]);
  assert.deepEqual(parseGrubScript('menuentry X {\n linux /v\n').problems, [{ message: '"menuentry" is never closed (expected })', line: 1 }]);
});

test('quoting: an unquoted variable splits into arguments, a quoted one stays one; spaces are quoted on the kernel command line', () => {
  const config = grub([
    'set opts="root=/dev/sda1 ro  quiet"',
    'set title="Debian GNU/Linux"',
    'menuentry "$title" {',
    '  linux /vmlinuz $opts "$opts" \'rd.x=a b\' "q=\\"x\\""',
    '}',
  ].join('\n'));
  const entry = config.entries[0]!;
  assert.equal(entry.title, 'Debian GNU/Linux');
  assert.equal(entry.cmdline, 'root=/dev/sda1 ro quiet "root=/dev/sda1 ro  quiet" "rd.x=a b" q=\\"x\\"');
});

test('GRUB 2.06 command-line encoding: spaces wrap in quotes, \\ \' " are escaped, \\xHH passes through', () => {
  assert.equal(grubLoaderCmdline(['a', 'b c', "it's", 'x\\x41y', 'p\\q']), 'a "b c" it\\\'s x\\x41y p\\\\q');
});

test('menuentry: --id, --class, --hotkey and options after the title; $menuentry_id_option expands to --id', () => {
  const config = grub([
    'if [ x"${feature_menuentry_id}" = xy ]; then',
    '  menuentry_id_option="--id"',
    'else',
    '  menuentry_id_option=""',
    'fi',
    'export menuentry_id_option',
    "menuentry 'Debian' --class debian --class os $menuentry_id_option 'gnulinux-simple-x' { linux /v }",
    "menuentry --hotkey=r --id=rescue 'Rescue' { linux /r }",
  ].join('\n'));
  assert.deepEqual(config.entries.map((e) => [e.id, e.title]), [['gnulinux-simple-x', 'Debian'], ['rescue', 'Rescue']]);
});

test('linux, linuxefi, linux16; initrd with several files in order; the last initrd command wins; devicetree', () => {
  const config = grub([
    'menuentry A { linuxefi /vmlinuz-6.1.0-26-amd64 ro; initrd /intel-ucode.img /initrd.img-6.1.0-26-amd64 }',
    'menuentry B { linux16 /vmlinuz x; initrd16 /old; initrd ($root)/new; devicetree /dtb }',
  ].join('\n'));
  const [a, b] = config.entries;
  assert.equal(a!.kernel, '/vmlinuz-6.1.0-26-amd64');
  assert.equal(a!.version, '6.1.0-26-amd64');
  assert.deepEqual(a!.initrds, ['/intel-ucode.img', '/initrd.img-6.1.0-26-amd64']);
  assert.deepEqual(b!.initrds, ['/new']);
  assert.equal(b!.devicetree, '/dtb');
  assert.equal(b!.cmdline, 'x');
});

test('set root and search --set record where GRUB looks; device prefixes are stripped from paths', () => {
  const config = grub([
    "menuentry A { set root='hd0,gpt2'; search --no-floppy --fs-uuid --set=root 1234-ABCD; linux ($root)/vmlinuz root=$root }",
  ].join('\n'));
  assert.equal(config.entries[0]!.kernel, '/vmlinuz');
  assert.equal(config.entries[0]!.cmdline, 'root=fs-uuid=1234-ABCD');
});

test('default by index counts entries and submenus of the top level', () => {
  const menu = 'menuentry A { linux /a }\nsubmenu S { menuentry S1 { linux /s1 }\nmenuentry S2 --id s2 { linux /s2 } }\nmenuentry B { linux /b }\n';
  assert.equal(grub(`set default=2\n${menu}`).defaultId, 'B');
  assert.equal(grub(`set default=0\n${menu}`).defaultId, 'A');
  // A submenu as the default opens it: its first entry.
  assert.equal(grub(`set default=1\n${menu}`).defaultId, 'S1');
  assert.equal(grub(`set default="1>1"\n${menu}`).defaultId, 's2');
  assert.equal(grub(menu).defaultId, 'A');
});

test('default by title, by id, and by a submenu>entry path of titles or ids', () => {
  const menu = "menuentry 'A' --id a { linux /a }\nsubmenu 'Advanced' --id adv { menuentry 'Old' --id old { linux /o }\nmenuentry 'Odd>Name' { linux /n } }\n";
  assert.equal(grub(`set default=A\n${menu}`).defaultId, 'a');
  assert.equal(grub(`set default=a\n${menu}`).defaultId, 'a');
  assert.equal(grub(`set default="Advanced>Old"\n${menu}`).defaultId, 'old');
  assert.equal(grub(`set default="adv>old"\n${menu}`).defaultId, 'old');
  assert.equal(grub(`set default="adv>Odd>>Name"\n${menu}`).defaultId, 'Odd>Name');
  assert.deepEqual(splitMenuPath('a>b>>c>d'), ['a', 'b>c', 'd']);
});

test('a default naming nothing falls back to the first item, with a warning', () => {
  const config = grub('set default=nothing\nmenuentry A { linux /a }\nmenuentry B { linux /b }');
  assert.equal(config.defaultId, 'A');
  assert.equal(config.warnings.find((warning) => warning.code === 'DEFAULT_NOT_FOUND')?.file, CFG);
  assert.deepEqual(chooseGrubDefault([], '0'), { entryIndex: undefined, fellBack: true });
});

test('the override given by the user wins over set default', () => {
  const config = grub('set default=0\nmenuentry A { linux /a }\nmenuentry B { linux /b }', {}, { defaultOverride: 'B' });
  assert.equal(config.defaultId, 'B');
});

test('saved_entry from grubenv through load_env, as Debian and Fedora headers do', () => {
  const header = [
    'if [ -s $prefix/grubenv ]; then',
    '  set have_grubenv=true',
    '  load_env',
    'fi',
    'if [ "${next_entry}" ] ; then',
    '   set default="${next_entry}"',
    'else',
    '   set default="${saved_entry}"',
    'fi',
    'menuentry A --id a { linux /a }',
    'submenu S --id s { menuentry B --id b { linux /b } }',
  ].join('\n');
  const grubenv = `# GRUB Environment Block\nsaved_entry=s>b\n${'#'.repeat(40)}`;
  assert.equal(grub(header, { '/boot/grub/grubenv': grubenv }).defaultId, 'b');
  assert.equal(grub(header, { '/boot/grub/grubenv': `${grubenv}\nnext_entry=a\n` }).defaultId, 'a');
  assert.equal(grub(header).defaultId, 'a');
});

test('grubenv: escapes, padding and lines without = are handled', () => {
  const env = parseGrubenv('# GRUB Environment Block\nsaved_entry=a\\\\b\nkernelopts=root=/dev/x ro\nnoequals\n#####', 'grubenv');
  assert.deepEqual([...env], [['saved_entry', 'a\\b'], ['kernelopts', 'root=/dev/x ro']]);
});

test('functions take positional arguments; submenus see only exported variables', () => {
  const config = grub([
    'function gfxmode { set gfxpayload="${1}"; set vt="vt.handoff=${1}" }',
    'set hidden=secret',
    'set shown=visible',
    'export shown',
    'menuentry A { gfxmode 7; linux /a $vt $hidden }',
    'submenu S { menuentry B { linux /b x$hidden $shown } }',
  ].join('\n'));
  assert.equal(config.entries[0]!.cmdline, 'vt.handoff=7 secret');
  assert.equal(config.entries[1]!.cmdline, 'x visible');
  assert.deepEqual(config.entries[1]!.menuPath, ['S']);
});

test('entry bodies see the variables as they stand after the whole script ran', () => {
  const config = grub('menuentry A { linux /a $opts }\nset opts=late');
  assert.equal(config.entries[0]!.cmdline, 'late');
});

test('unknown commands are warnings with file:line and fail, never a crash', () => {
  const config = grub('frobnicate --all\nif frobnicate; then set default=1; fi\nmenuentry A { linux /a; wibble }\nmenuentry B { linux /b }');
  assert.equal(config.defaultId, 'A');
  assert.deepEqual(config.warnings.map((warning) => [warning.code, warning.line]), [['UNKNOWN_COMMAND', 1], ['UNKNOWN_COMMAND', 2], ['UNKNOWN_COMMAND', 3]]);
});

test('chainloader, Windows, memtest, UEFI firmware setup and entries without a kernel are unbootable, with the reason', () => {
  const config = grub([
    'menuentry "Windows Boot Manager" { chainloader /EFI/Microsoft/Boot/bootmgfw.efi }',
    'menuentry "Other loader" { chainloader +1 }',
    'menuentry "Memory test (memtest86+x64.efi)" { linux /boot/memtest86+x64.efi }',
    'if [ "$grub_platform" = "efi" ]; then fwsetup --is-supported; if [ "$?" = 0 ]; then menuentry "UEFI Firmware Settings" { fwsetup }; fi; fi',
    'menuentry Xen { multiboot2 /boot/xen.gz; module2 /boot/vmlinuz }',
    'menuentry Colours { set menu_color_normal=red/blue }',
  ].join('\n'));
  assert.deepEqual(config.entries.map((e) => e.unbootableReason?.code), ['OTHER_OS', 'CHAINLOADER', 'MEMTEST', 'FIRMWARE_ACTION', 'MULTIBOOT', 'NO_KERNEL']);
  assert.equal(grub('if [ "$grub_platform" = "efi" ]; then menuentry U { fwsetup }; fi', {}, { platform: 'pc' }).entries.length, 0);
});

test('source reads another file into the same menu; configfile inside an entry opens another menu', () => {
  const files = { '/boot/grub/custom.cfg': 'menuentry Custom { linux /c }\n', '/boot/grub/more.cfg': 'menuentry More { linux /m }\n' };
  const config = grub('menuentry A { linux /a }\nsource ${prefix}/custom.cfg\nsource /missing.cfg\nmenuentry Menu { configfile /boot/grub/more.cfg }', files);
  assert.deepEqual(config.entries.map((e) => e.title), ['A', 'Custom', 'Menu']);
  assert.equal(config.entries[1]!.source.file, '/boot/grub/custom.cfg');
  assert.equal(config.entries[2]!.unbootableReason?.code, 'OTHER_MENU');
  assert.deepEqual(config.warnings.map((warning) => [warning.code, warning.line]), [['FILE_NOT_FOUND', 3]]);
});

test('blscfg: BLS entries become menu entries, $kernelopts from grubenv expands in options', () => {
  const files = {
    '/boot/grub2/grubenv': '# GRUB Environment Block\nsaved_entry=abc-5.14.0-70.el9.x86_64\nkernelopts=root=/dev/mapper/rhel-root ro crashkernel=auto\n',
    '/boot/loader/entries/abc-5.14.0-70.el9.x86_64.conf': 'title RHEL (5.14.0-70)\nversion 5.14.0-70.el9.x86_64\nlinux /vmlinuz-5.14.0-70.el9.x86_64\ninitrd /initramfs-5.14.0-70.el9.x86_64.img $tuned_initrd\noptions $kernelopts $tuned_params\n',
    '/boot/loader/entries/abc-5.14.0-162.el9.x86_64.conf': 'title RHEL (5.14.0-162)\nversion 5.14.0-162.el9.x86_64\nlinux /vmlinuz-5.14.0-162.el9.x86_64\noptions root=/dev/x\n',
  };
  const config = parseGrubConfig('load_env -f ${prefix}/grubenv\nset default="${saved_entry}"\ninsmod blscfg\nblscfg\n', '/boot/grub2/grub.cfg', { reader: memoryBootFileReader(files) });
  assert.deepEqual(config.entries.map((e) => e.id), ['abc-5.14.0-162.el9.x86_64', 'abc-5.14.0-70.el9.x86_64']);
  assert.equal(config.defaultId, 'abc-5.14.0-70.el9.x86_64');
  const old = config.entries[1]!;
  assert.equal(old.cmdline, 'root=/dev/mapper/rhel-root ro crashkernel=auto');
  assert.deepEqual(old.initrds, ['/initramfs-5.14.0-70.el9.x86_64.img']);
  assert.equal(old.version, '5.14.0-70.el9.x86_64');
  assert.deepEqual(old.pathBases, ['/boot', '/']);
  assert.equal(old.source.file, '/boot/loader/entries/abc-5.14.0-70.el9.x86_64.conf');
});

test('a loop that never ends stops at the command budget with a warning', () => {
  const config = grub('while true; do set x=1; done\nmenuentry A { linux /a }');
  assert.ok(config.warnings.some((warning) => warning.code === 'LIMIT_REACHED'));
});

test('a value that doubles every line is cut at the limit', () => {
  const config = grub(`set a=xxxxxxxxxxxxxxxx\n${'set a=$a$a\n'.repeat(40)}menuentry A { linux /a $a }`);
  assert.ok(config.entries[0]!.cmdline.length <= 64 * 1024 + 2);
  assert.ok(config.warnings.some((warning) => warning.code === 'LIMIT_REACHED'));
});

/** What a script echoes, run as GRUB's `source` runs it. */
function echoed(source: string): string {
  return runGrubScript(source).output;
}

test('echo prints through the output hook: arguments joined by a space, -n drops the newline, -e reads escapes, options only first', () => {
  assert.equal(echoed('echo a   b\necho -n x\necho -e "1\\n2\\t3"\necho -ne "y\\c"\necho foo -n'), 'a b\nx1\n2\t3\nyfoo -n\n');
  // The echo of an entry body goes through the same hook when parseGrubConfig runs it.
  assert.equal(grub('echo loading\nmenuentry A { linux /a }').entries.length, 1);
});

test('an empty quoted word is an argument: [ "$x" = "" ] holds for an unset x, echo a "" b keeps both blanks', () => {
  assert.equal(echoed('if [ "$x" = "" ]; then echo empty; fi\nif [ $x = "" ]; then echo never; fi\necho a "" b\necho a \'\' b'), 'empty\na  b\na  b\n');
  const config = grub('if [ "${timeout}" = "" ]; then set default=1; fi\nmenuentry A { linux /a }\nmenuentry B { linux /b }');
  assert.equal(config.defaultId, 'B');
});

test('$"..." is the quoted text itself (gettext without a translation)', () => {
  assert.equal(echoed('x=5\necho $"a  $x" one$"two"'), 'a  5 onetwo\n');
});

test('"$@" is one word per positional parameter, joined to the text around it; $@ and $* split', () => {
  assert.equal(echoed('function f { for v in "$@"; do echo "[$v]"; done; for v in x"$@"y; do echo "[$v]"; done; echo $#; }\nf a "b c"'), '[a]\n[b c]\n[xa]\n[b cy]\n2\n');
  assert.equal(echoed('function f { for v in "$@"; do echo "[$v]"; done; echo "$*"; }\nf'), '\n');
});

test('shift N drops N parameters; shifting past $# fails and shifts nothing', () => {
  assert.equal(echoed('function f { shift 2; echo $? $# $1; shift 5; echo $? $# $1; shift; echo $? $#; }\nf a b c d'), '0 2 c\n1 2 c\n0 1\n');
});

test('break N and continue N leave N loops, never more than are active; a function starts outside any loop', () => {
  assert.equal(echoed('for i in 1 2; do for j in a b; do echo $i$j; break 2; done; done'), '1a\n');
  assert.equal(echoed('for i in 1 2; do for j in a b; do echo $i$j; continue 2; done; done'), '1a\n2a\n');
  assert.equal(echoed('for i in 1 2; do break 9; echo no; done; echo after'), 'after\n');
  assert.equal(echoed('function f { break; echo in-f; }\nfor i in 1 2; do f; echo $i; done'), 'in-f\n1\nin-f\n2\n');
  const bad = runGrubScript('for i in 1 2; do break 0; echo $i; done');
  assert.equal(bad.output, '1\n2\n');
  assert.ok(bad.warnings.some((warning) => warning.code === 'SYNTAX_ERROR'));
});

test('return [N] ends the function with N or $?; while and until; if/elif/else; ! negates', () => {
  assert.equal(echoed('function f { false; return; echo no; }\nif f; then echo t; else echo f; fi\nfunction g { return 0; }\ng; echo $?'), 'f\n0\n');
  assert.equal(echoed('x=\nuntil [ "$x" = aaa ]; do x="a$x"; done; echo $x\nwhile ! [ -z "$x" ]; do x=; done; echo "[$x]"'), 'aaa\n[]\n');
  assert.equal(echoed('if false; then echo 1; elif ! true; then echo 2; elif [ a = a -a 1 -lt 2 ]; then echo 3; else echo 4; fi'), '3\n');
});

test('test and [ read words as test.c does: comparisons first, side-by-side tests and-ed, numbers in base 0, -pgt for versions', () => {
  const noFiles = { exists: () => false, isFile: () => false, isDirectory: () => false, isNonEmpty: () => false };
  const holds = (...args: string[]): boolean => evaluateTest(args, noFiles);
  assert.equal(holds('=', ''), false); // `[ $unset = "" ]`: the word "=" and the empty word, and-ed
  assert.equal(holds('a', 'b'), true);
  assert.equal(holds('a', '', 'b'), false);
  assert.equal(holds('a', '-a', 'b', '-o', ''), true);
  assert.equal(holds('', '-o', 'x', '-a', ''), false);
  assert.equal(holds('!', 'a', '=', 'b', '-a', '-n', 'x'), true);
  assert.equal(holds('(', 'a', '=', 'b', '-o', 'c', ')', '-a', 'd'), true);
  assert.equal(holds('0x10', '-eq', '16', ']'), true);
  assert.equal(holds('010', '-eq', '8'), true);
  assert.equal(holds('vmlinuz-2', '-plt', 'vmlinuz-11'), true);
  assert.equal(holds('vmlinuz-2', '<', 'vmlinuz-11'), false);
  assert.equal(holds('z', '<', '\u00e2'), true); // bytes unsigned, as grub_script_strcmp checks
  // Deviation kept on purpose (test.c says true): no words is false, see test-expression.ts.
  assert.equal(holds(), false);
  assert.equal(holds(']'), false);
});

test('eval runs its arguments, joined by a space, in the caller\'s variables and parameters', () => {
  assert.equal(echoed('function f { eval echo \\$1 "$2"; eval v=$1; }\nf one two; echo $v\nif eval false; then echo no; else echo failed; fi'), 'one two\none\nfailed\n');
});

test('eval and function recursion stay bounded: nesting and the command budget stop them with a warning', () => {
  const recursive = runGrubScript("x='eval $x'\neval $x\nfunction f { f; }\nfor i in 1 2 3; do f; done\necho done");
  assert.equal(recursive.output, 'done\n');
  assert.equal(recursive.warnings.filter((warning) => warning.code === 'LIMIT_REACHED').length, 1);
  // A long text evaluated in a loop is charged for its length, so the budget ends it early.
  const long = runGrubScript(`x="${'true;'.repeat(10_000)}"\nwhile true; do eval $x; done`);
  assert.ok(long.warnings.some((warning) => warning.code === 'LIMIT_REACHED' && /stopped after/.test(warning.message)));
});

test("debian-installer netboot grub.cfg: 'Install' first and default, nested submenu paths, every entry boots the installer", () => {
  const config = parseGrubConfig(readCommitted('debian-netboot/debian-installer/amd64/grub/grub.cfg'), '/debian-installer/amd64/grub/grub.cfg');
  assert.equal(config.defaultId, 'Install');
  assert.equal(config.entries[0]!.cmdline, 'vga=788 --- quiet');
  assert.deepEqual(config.entries[0]!.initrds, ['/debian-installer/amd64/initrd.gz']);
  const gnomeExpert = config.entries.find((e) => e.title === '... Expert install' && e.menuPath?.includes('... GNOME advanced options ...'));
  assert.deepEqual(gnomeExpert?.menuPath, ['Advanced options ...', '... Desktop environment menu ...', '... GNOME desktop boot menu ...', '... GNOME advanced options ...']);
  assert.equal(gnomeExpert?.cmdline, 'desktop=gnome priority=low vga=788 ---');
  assert.ok(config.entries.every((e) => e.kernel === '/debian-installer/amd64/linux' && e.unbootableReason === undefined));
  assert.deepEqual(config.warnings, []);
});

test("GRUB's packaged example grub.cfg: default by --id, the non-Linux entries explained", () => {
  const config = parseGrubConfig(readCommitted('grub-example/grub.cfg'), '/boot/grub/grub.cfg');
  assert.equal(config.defaultId, 'gnulinux');
  assert.deepEqual(config.entries.map((e) => [e.title, e.unbootableReason?.code ?? 'bootable']), [
    ['GNU/Linux', 'bootable'],
    ['GNU (aka GNU/Hurd)', 'MULTIBOOT'],
    ['FreeBSD (or GNU/kFreeBSD), direct boot', 'OTHER_OS'],
    ['FreeBSD (or GNU/kFreeBSD), via /boot/loader', 'OTHER_OS'],
    ['NetBSD', 'OTHER_OS'],
    ['OpenBSD', 'OTHER_OS'],
    ['Microsoft Windows', 'OTHER_OS'],
    ['Memtest86+', 'MEMTEST'],
    ['Change the colors', 'NO_KERNEL'],
  ]);
});

test('grub-mkconfig output over a scratch /boot (committed copy): saved_entry picks the older kernel inside the submenu', () => {
  const reader = createRootedReader(committedFixture('debian-grub-mkconfig'));
  const config = parseGrubConfig(reader.readText('/boot/grub/grub.cfg')!, '/boot/grub/grub.cfg', { reader, platform: 'pc' });
  const uuid = '0f3e1c52-2b7e-4a6b-9d38-5c1d2e3f4a5b';
  assert.equal(config.defaultId, `gnulinux-6.1.0-55-cloud-amd64-advanced-${uuid}`);
  assert.deepEqual(config.entries.map((e) => e.id), [
    `gnulinux-simple-${uuid}`,
    `gnulinux-6.1.0-56-cloud-amd64-advanced-${uuid}`,
    `gnulinux-6.1.0-56-cloud-amd64-recovery-${uuid}`,
    `gnulinux-6.1.0-55-cloud-amd64-advanced-${uuid}`,
    `gnulinux-6.1.0-55-cloud-amd64-recovery-${uuid}`,
  ]);
  const [simple, , recovery, older] = config.entries;
  assert.equal(simple!.kernel, '/boot/vmlinuz-6.1.0-56-cloud-amd64');
  assert.deepEqual(simple!.initrds, ['/boot/initrd.img-6.1.0-56-cloud-amd64']);
  assert.equal(simple!.cmdline, 'root=/dev/vda1 ro console=ttyS0 quiet');
  assert.equal(recovery!.cmdline, 'root=/dev/vda1 ro single console=ttyS0');
  assert.deepEqual(older!.initrds, []);
  assert.deepEqual(older!.menuPath, ['Advanced options for Debian GNU/Linux']);
  assert.deepEqual(config.warnings, []);
});

test('grub-mkconfig output (cache): fresh from this machine, every file resolves under the scratch root', (t) => {
  const cache = bootcfgCache(t);
  if (!cache) return;
  const config = readBootConfig(cache.scratchRoot, { platform: 'pc' });
  assert.equal(config.loader, 'grub');
  const { older, newer } = cache.manifest.kernels;
  assert.equal(config.entries[0]!.version, newer.release);
  const defaultEntry = config.entries.find((e) => e.isDefault);
  assert.equal(defaultEntry?.version, older.release);
  assert.equal(cache.manifest.grubSavedEntry.split('>')[1], defaultEntry?.id);
  for (const resolved of config.entries) {
    assert.equal(resolved.unbootableReason, undefined);
    assert.equal(resolved.kernelFile, `${cache.scratchRoot}/boot/vmlinuz-${resolved.version}`);
  }
});
