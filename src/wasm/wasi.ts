/**
 * The WASI subset a proxy-wasm module may import (under `wasi_snapshot_preview1` and
 * `wasi_unstable`): fd_write to stdout/stderr goes to the plugin's log, proc_exit traps,
 * clock_time_get, random_get, empty environ/args; every other common call answers an errno.
 * Must never: touch the real file system, environment or process.
 */
import { randomFillSync } from 'node:crypto';
import type { GuestMemory } from './memory';

export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`module called proc_exit(${code})`);
    this.name = 'ProcExit';
  }
}

const ESUCCESS = 0;
const EBADF = 8;
const EFAULT = 21;
const ENOSYS = 52;

export interface WasiHost {
  memory(): GuestMemory;
  /** A complete line written to fd 1 (`stdout`) or 2 (`stderr`). */
  line(fd: number, text: string): void;
  wallNanos(): bigint;
  monoNanos(): bigint;
}

/** Functions common SDK runtimes import; all answer ENOSYS/EBADF unless listed above. */
const UNSUPPORTED = [
  'fd_read', 'fd_close', 'fd_seek', 'fd_tell', 'fd_sync', 'fd_datasync', 'fd_advise', 'fd_allocate',
  'fd_fdstat_set_flags', 'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size',
  'fd_filestat_set_times', 'fd_pread', 'fd_pwrite', 'fd_readdir', 'fd_renumber', 'fd_prestat_dir_name',
  'path_create_directory', 'path_filestat_get', 'path_filestat_set_times', 'path_link', 'path_open',
  'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink', 'path_unlink_file',
  'poll_oneoff', 'proc_raise', 'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown',
];

/** Every function name wasiImports() provides (for the import check). */
export const WASI_FUNCTIONS: readonly string[] = [
  'fd_write', 'proc_exit', 'clock_time_get', 'clock_res_get', 'random_get', 'environ_sizes_get', 'environ_get',
  'args_sizes_get', 'args_get', 'fd_fdstat_get', 'fd_prestat_get', 'sched_yield', ...UNSUPPORTED,
];

export function wasiImports(host: WasiHost): Record<string, (...args: any[]) => number | void> {
  const pending: [string, string] = ['', ''];
  const guard = (fn: (...a: any[]) => number) => (...a: any[]): number => {
    try {
      return fn(...a);
    } catch (err) {
      if (err instanceof ProcExit) throw err;
      return EFAULT;
    }
  };
  const imports: Record<string, (...args: any[]) => number | void> = {
    fd_write: guard((fd: number, iovs: number, iovsLen: number, nwritten: number) => {
      const m = host.memory();
      let total = 0;
      let text = '';
      for (let i = 0; i < iovsLen; i++) {
        const p = m.u32(iovs + i * 8);
        const l = m.u32(iovs + i * 8 + 4);
        text += m.string(p, l);
        total += l;
      }
      m.setU32(nwritten, total);
      if (fd !== 1 && fd !== 2) return EBADF;
      const k = fd - 1;
      let buf = pending[k] + text;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        host.line(fd, buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
      }
      pending[k] = buf.length > 4096 ? (host.line(fd, buf), '') : buf;
      return ESUCCESS;
    }),
    proc_exit: (code: number): void => {
      throw new ProcExit(code);
    },
    clock_time_get: guard((id: number, _precision: bigint, out: number) => {
      host.memory().setU64(out, id === 0 ? host.wallNanos() : host.monoNanos());
      return ESUCCESS;
    }),
    clock_res_get: guard((_id: number, out: number) => {
      host.memory().setU64(out, 1000n);
      return ESUCCESS;
    }),
    random_get: guard((ptr: number, len: number) => {
      randomFillSync(host.memory().view(ptr, len));
      return ESUCCESS;
    }),
    environ_sizes_get: guard((count: number, size: number) => {
      const m = host.memory();
      m.setU32(count, 0);
      m.setU32(size, 0);
      return ESUCCESS;
    }),
    environ_get: () => ESUCCESS,
    args_sizes_get: guard((count: number, size: number) => {
      const m = host.memory();
      m.setU32(count, 0);
      m.setU32(size, 0);
      return ESUCCESS;
    }),
    args_get: () => ESUCCESS,
    fd_fdstat_get: guard((fd: number, out: number) => {
      if (fd > 2) return EBADF;
      const b = host.memory().view(out, 24);
      b.fill(0);
      b[0] = 2; // character device
      return ESUCCESS;
    }),
    fd_prestat_get: () => EBADF,
    sched_yield: () => ESUCCESS,
  };
  for (const name of UNSUPPORTED) if (imports[name] === undefined) imports[name] = () => (name.startsWith('fd_') ? EBADF : ENOSYS);
  return imports;
}
