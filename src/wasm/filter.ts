/**
 * The `wasm` filter factory: validates `{ module, name?, root_id?, vm_id?, configuration?,
 * vm_configuration?, fail_open?, max_memory?, callback_budget_ms?, sha256?, log_level? }`, loads and checks the module,
 * starts the plugin (vm_start and configure must succeed, else a ConfigError), and gives each
 * stream a WasmStream.
 * Must never: start a plugin whose configuration the guest rejected.
 */
import { basename, isAbsolute, resolve } from 'node:path';
import { ConfigError, type BuiltFilter, type ConfigIssue, type FilterBuildEnv, type FilterFactory } from '../api';
import { LOG_LEVELS } from './abi';
import { loadModule } from './module-cache';
import { WasmPlugin } from './plugin';
import { httpCallerFromEnv } from './http-call';

export interface WasmFilterConfig {
  module: string;
  name?: string;
  root_id?: string;
  vm_id?: string;
  configuration?: string | object;
  vm_configuration?: string | object;
  fail_open?: boolean;
  max_memory?: number;
  callback_budget_ms?: number;
  sha256?: string;
  log_level?: (typeof LOG_LEVELS)[number];
}

const KEYS = new Set([
  'module', 'name', 'root_id', 'vm_id', 'configuration', 'vm_configuration', 'fail_open', 'max_memory', 'callback_budget_ms', 'sha256', 'log_level',
]);

/** A callback running longer than this retires its instance (see docs/wasm-host.md). */
export const DEFAULT_CALLBACK_BUDGET_MS = 500;

function configBytes(v: unknown): Buffer {
  if (v === undefined || v === null) return Buffer.alloc(0);
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8');
}

/** Validates the raw config; throws ConfigError with every problem. */
export function validateWasmConfig(raw: unknown): WasmFilterConfig {
  const issues: ConfigIssue[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ path: '', message: 'must be an object with at least `module`' }]);
  }
  const c = raw as Record<string, unknown>;
  for (const k of Object.keys(c)) if (!KEYS.has(k)) issues.push({ path: k, message: `unknown key (expected one of ${[...KEYS].join(', ')})` });
  if (typeof c.module !== 'string' || c.module === '') issues.push({ path: 'module', message: 'required: path of a .wasm file' });
  for (const k of ['name', 'root_id', 'vm_id'] as const) {
    if (c[k] !== undefined && typeof c[k] !== 'string') issues.push({ path: k, message: 'must be a string' });
  }
  for (const k of ['configuration', 'vm_configuration'] as const) {
    const v = c[k];
    if (v !== undefined && typeof v !== 'string' && (typeof v !== 'object' || v === null)) {
      issues.push({ path: k, message: 'must be a string or an object (passed as JSON)' });
    }
  }
  if (c.fail_open !== undefined && typeof c.fail_open !== 'boolean') issues.push({ path: 'fail_open', message: 'must be a boolean' });
  if (c.max_memory !== undefined && (typeof c.max_memory !== 'number' || !Number.isInteger(c.max_memory) || c.max_memory < 65536)) {
    issues.push({ path: 'max_memory', message: 'must be an integer number of bytes, at least 65536' });
  }
  const b = c.callback_budget_ms;
  if (b !== undefined && (typeof b !== 'number' || !Number.isFinite(b) || b < 0)) {
    issues.push({ path: 'callback_budget_ms', message: 'must be a number of milliseconds, 0 (unchecked) or more' });
  }
  if (c.sha256 !== undefined && (typeof c.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(c.sha256))) {
    issues.push({ path: 'sha256', message: 'must be 64 hex digits' });
  }
  if (c.log_level !== undefined && !LOG_LEVELS.includes(c.log_level as (typeof LOG_LEVELS)[number])) {
    issues.push({ path: 'log_level', message: `must be one of ${LOG_LEVELS.join(', ')}` });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return c as unknown as WasmFilterConfig;
}

export const wasmFilterFactory: FilterFactory = {
  name: 'wasm',
  async build(raw: unknown, env: FilterBuildEnv): Promise<BuiltFilter> {
    const cfg = validateWasmConfig(raw);
    const path = isAbsolute(cfg.module) ? cfg.module : resolve(env.baseDir, cfg.module);
    const compiled = await loadModule(path, cfg.sha256);
    const rootId = cfg.root_id ?? '';
    const plugin = new WasmPlugin({
      identity: { name: cfg.name ?? (rootId !== '' ? rootId : basename(path, '.wasm')), rootId, vmId: cfg.vm_id ?? '' },
      compiled,
      vmConfig: configBytes(cfg.vm_configuration),
      pluginConfig: configBytes(cfg.configuration),
      clock: env.clock,
      log: env.log,
      logLevel: cfg.log_level === undefined ? 2 : LOG_LEVELS.indexOf(cfg.log_level),
      maxMemory: cfg.max_memory ?? 0,
      callbackBudgetMs: cfg.callback_budget_ms ?? DEFAULT_CALLBACK_BUDGET_MS,
      failOpen: cfg.fail_open === true,
      httpCall: httpCallerFromEnv(env),
      metrics: env.metrics,
    });
    try {
      plugin.start();
    } catch (err) {
      plugin.destroy();
      const msg = err instanceof Error ? err.message : String(err);
      const configPath = /configure/.test(msg) ? 'configuration' : 'module';
      throw new ConfigError([{ path: configPath, message: `wasm plugin ${plugin.identity.name} failed to start: ${msg}` }]);
    }
    return {
      createFilter: () => plugin.createStream(),
      destroy: () => plugin.destroy(),
    };
  },
};
