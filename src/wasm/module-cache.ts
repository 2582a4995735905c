/**
 * Module loading: reads a .wasm file, verifies an optional sha256, compiles it once (cached by
 * path, size and mtime; recompiled when the file changes), detects the proxy-wasm ABI from its
 * marker export and checks every import against what this host provides.
 * Must never: instantiate modules or run guest code.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { ConfigError } from '../api';
import { ABI_MARKERS, HOST_FUNCTIONS, WASI_MODULES, type AbiVersion } from './abi';
import { WASI_FUNCTIONS } from './wasi';
import { WA, type WaModule } from './wa';

export interface CompiledModule {
  readonly path: string;
  readonly sha256: string;
  readonly module: WaModule;
  readonly abi: AbiVersion;
}

const cache = new Map<string, { key: string; compiled: CompiledModule }>();
const HOST = new Set(HOST_FUNCTIONS);
const WASI = new Set(WASI_FUNCTIONS);
const WASI_MODS = new Set(WASI_MODULES);

/** Why a module cannot run here, or null. Exported for unit tests. */
export function checkModule(module: WaModule): { abi: AbiVersion | null; problems: string[] } {
  const exports = new Set(WA.Module.exports(module).map((e) => e.name));
  let abi: AbiVersion | null = null;
  for (const [name, v] of ABI_MARKERS) {
    if (exports.has(name)) {
      abi = v;
      break;
    }
  }
  const problems: string[] = [];
  if (abi === null) {
    problems.push(
      exports.has('proxy_abi_version_0_1_0')
        ? 'proxy-wasm ABI 0.1.0 is not supported (export proxy_abi_version_0_2_1 or _0_2_0)'
        : 'not a proxy-wasm module: it exports neither proxy_abi_version_0_2_1 nor proxy_abi_version_0_2_0',
    );
  }
  if (!exports.has('memory')) problems.push('module does not export its memory');
  for (const imp of WA.Module.imports(module)) {
    const ok =
      imp.kind === 'function' &&
      ((imp.module === 'env' && HOST.has(imp.name)) || (WASI_MODS.has(imp.module) && WASI.has(imp.name)));
    if (!ok) problems.push(`module imports ${imp.kind} "${imp.module}.${imp.name}", which this host does not provide`);
  }
  return { abi, problems };
}

/** Loads and compiles `path` (absolute). Throws ConfigError with paths `module` / `sha256`. */
export async function loadModule(path: string, sha256?: string): Promise<CompiledModule> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new ConfigError([{ path: 'module', message: `cannot read ${path}: ${(err as Error).message}` }]);
  }
  const key = `${st.size}:${st.mtimeMs}`;
  const hit = cache.get(path);
  let compiled: CompiledModule;
  if (hit !== undefined && hit.key === key) {
    compiled = hit.compiled;
  } else {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new ConfigError([{ path: 'module', message: `cannot read ${path}: ${(err as Error).message}` }]);
    }
    const digest = createHash('sha256').update(bytes).digest('hex');
    let module: WaModule;
    try {
      module = await WA.compile(bytes);
    } catch (err) {
      throw new ConfigError([{ path: 'module', message: `${path} is not a valid WebAssembly module: ${(err as Error).message}` }]);
    }
    const { abi, problems } = checkModule(module);
    if (abi === null || problems.length > 0) {
      throw new ConfigError(problems.map((message) => ({ path: 'module', message: `${path}: ${message}` })));
    }
    compiled = { path, sha256: digest, module, abi };
    cache.set(path, { key, compiled });
  }
  if (sha256 !== undefined && sha256.toLowerCase() !== compiled.sha256) {
    throw new ConfigError([{ path: 'sha256', message: `${path} has sha256 ${compiled.sha256}, expected ${sha256}` }]);
  }
  return compiled;
}
