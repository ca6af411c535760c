import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBlsEntry, parseGrubConfig, parseLoaderConf, parseSyslinuxConfig } from '../../src/bootcfg/index.js';

// Configs are split on \n only; a lone CR, or U+2028/U+2029 (which JavaScript's "." does not
// match), inside a line once made the key/value split return null and the parsers throw a
// TypeError. Each must now parse such a line as text.
const ODD = ['\r', '\u2028', '\u2029'];

test('a lone CR or a Unicode line separator inside a line is text to every parser, never a crash', () => {
  for (const odd of ODD) {
    assert.deepEqual(parseSyslinuxConfig(`LABEL a${odd}b\nKERNEL /vmlinuz\n`, '/syslinux.cfg').entries.map((entry) => entry.id), [`a${odd}b`]);
    assert.equal(parseBlsEntry(`title a${odd}b\nlinux /vmlinuz\n`, 'x.conf').title, `a${odd}b`);
    assert.equal(parseLoaderConf(`default a${odd}b\n`, 'loader.conf').default, `a${odd}b`);
    parseGrubConfig(`menuentry 'a${odd}b' {\n linux /vmlinuz x${odd}y\n}\n`, '/boot/grub/grub.cfg');
  }
});
