import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UnsupportedError } from '../../src/errors.js';
import { syscallsFor } from '../../src/syscall/index.js';

const platforms: Array<[string, string]> = [
  ['darwin', 'arm64'],
  ['win32', 'x64'],
  ['freebsd', 'x64'],
  ['linux', 's390x'],
  ['linux', 'ia32'],
];

for (const [platform, arch] of platforms) {
  test(`every syscall on ${platform}/${arch} throws UnsupportedError naming the reason`, () => {
    const syscalls = syscallsFor(platform, arch);
    const calls: Array<[string, () => unknown]> = [
      ['kexecFileLoad', () => syscalls.kexecFileLoad(3, 4, 'quiet', 0)],
      ['reboot', () => syscalls.reboot(0)],
      ['sync', () => syscalls.sync()],
      ['memfdCreate', () => syscalls.memfdCreate('kernel', 0)],
      ['seekEnd', () => syscalls.seekEnd(3)],
    ];
    for (const [name, call] of calls) {
      assert.throws(call, (error: unknown) => {
        assert.ok(error instanceof UnsupportedError, `${name} threw ${String(error)}`);
        assert.equal(error.code, 'UNSUPPORTED_PLATFORM');
        assert.equal(error.platform, platform);
        assert.match(error.message, platform === 'linux' ? new RegExp(`no syscall table for the ${arch}`) : new RegExp(`only on Linux; this is ${platform}`));
        return true;
      });
    }
  });
}

test('on a simulated macOS host the whole library imports, never loads koffi, and calls throw UnsupportedError', () => {
  const nodeEntry = fileURLToPath(new URL('../../src/node.js', import.meta.url));
  // The child pretends to be darwin before importing anything and fails loudly if koffi is
  // required: the library must not need the native module to import or to refuse.
  const script = `
    const Module = require('node:module');
    const load = Module._load;
    Module._load = function (request, ...rest) {
      if (request === 'koffi') throw new Error('koffi was loaded');
      return load.call(this, request, ...rest);
    };
    Object.defineProperty(process, 'platform', { value: 'darwin' });
    import(${JSON.stringify(nodeEntry)}).then(async (lib) => {
      const results = {};
      results.parser = lib.parseKernelConfig('CONFIG_KEXEC_FILE=y\\n').options.get('CONFIG_KEXEC_FILE');
      for (const [name, call] of Object.entries({
        load: () => lib.load({ kernel: ${JSON.stringify(nodeEntry)}, cmdline: '', skipPreflight: true }),
        sync: () => lib.hostSyscalls().sync(),
      })) {
        try { await call(); results[name] = 'returned'; } catch (error) { results[name] = error.name + ':' + error.code; }
      }
      console.log(JSON.stringify(results));
    });`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout), {
    parser: 'y',
    load: 'UnsupportedError:UNSUPPORTED_PLATFORM',
    sync: 'UnsupportedError:UNSUPPORTED_PLATFORM',
  });
});
