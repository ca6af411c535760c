// npm run bench: speed and memory on realistic inputs. Prints Markdown for bench/RESULTS.md.
import { cpus } from 'node:os';
import { crashSaveAgainstMakedumpfile } from './crash-save.js';
import { rebootDowntime } from './downtime.js';
import { inspectAgainstNativeTools } from './inspect.js';
import { listAtScale } from './list.js';
import { preSyscallOnHost } from './pre-syscall.js';
import { loadInVm } from './vm-load.js';
import { kexecLoadArm64AgainstKexecTools } from './kexec-load-arm64.js';

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
console.log(`## ${machine}\n`);
console.log(await preSyscallOnHost());
console.log('');
console.log(await inspectAgainstNativeTools());
console.log('');
console.log(await listAtScale());
console.log('');
console.log(await crashSaveAgainstMakedumpfile());
console.log('');
console.log(await loadInVm());
console.log('');
console.log(await kexecLoadArm64AgainstKexecTools());
console.log('');
console.log(await rebootDowntime());
