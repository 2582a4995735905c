/**
 * The `plugins:` key: reads the list, resolves each entry against the config's base_dir and
 * require()s it. A plugin registers codecs, filters, load balancers or discovery sources through
 * src/api/registry.ts as it loads; loading it is all we do (Node's module cache makes a reload
 * of the same file a no-op). Must never: call into a plugin beyond require(), or unload anything.
 */
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from '../api/errors';
import { Issues, checkString, indexPath, typeName } from './schema';

export interface PluginEntry {
  /** As written in the config (used in messages). */
  given: string;
  /** Absolute path. */
  resolved: string;
  /** Config path, `plugins[i]`. */
  path: string;
}

export function resolvePluginPath(given: string, baseDir: string): string {
  return isAbsolute(given) ? given : resolve(baseDir, given);
}

/** Reads the raw `plugins` value (undefined when absent). Bad entries are reported and skipped. */
export function readPluginList(issues: Issues, raw: unknown, baseDir: string): PluginEntry[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    issues.add('plugins', `expected array of paths, got ${typeName(raw)}`);
    return [];
  }
  const out: PluginEntry[] = [];
  raw.forEach((v, i) => {
    const path = indexPath('plugins', i);
    const given = checkString(issues, path, v, true);
    if (given !== undefined) out.push({ given, resolved: resolvePluginPath(given, baseDir), path });
  });
  return out;
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0];
}

/** require()s each entry; a failure becomes `plugins[i]: cannot load "<given>": <message>`. */
export function requirePlugins(issues: Issues, entries: readonly PluginEntry[]): void {
  for (const p of entries) {
    try {
      require(p.resolved);
    } catch (e) {
      issues.add(p.path, `cannot load "${p.given}": ${firstLine(e)}`);
    }
  }
}

/**
 * Loads the plugins of a config (entries relative to `base_dir`, default the working directory).
 * Throws ConfigError listing every plugin that failed to load.
 */
export function loadPlugins(config: { readonly plugins: readonly string[]; readonly base_dir?: string }): void {
  const baseDir = config.base_dir || process.cwd();
  const entries = config.plugins.map((given, i) => ({
    given,
    resolved: resolvePluginPath(given, baseDir),
    path: indexPath('plugins', i),
  }));
  const issues = new Issues();
  requirePlugins(issues, entries);
  if (issues.count > 0) throw new ConfigError(issues.list as ConfigIssue[]);
}
