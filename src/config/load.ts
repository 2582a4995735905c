/**
 * The config entry points: parse YAML or JSON text (syntax errors with line and column), load
 * plugins so their registered names validate, normalize, and throw one ConfigError listing every
 * issue. Also reads config files from disk.
 * Must never: apply a config (listeners, clusters, reload are the caller's), or return a config
 * that has any issue.
 */
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../api/errors';
import type { SwitchyardConfig } from './types';
import { Issues, isPlainObject, typeName } from './schema';
import { normalize } from './normalize';
import { readPluginList, requirePlugins } from './plugins';

export { loadPlugins } from './plugins';

export type ConfigFormat = 'yaml' | 'json';

export interface ParseOptions {
  /** Default: sniffed (text starting with `{` or `[` is JSON, anything else YAML). */
  format?: ConfigFormat;
  /** Where the text came from (absolute path), "" for in-memory. Default "". */
  source?: string;
  /** Directory relative paths resolve against. Default: the working directory. */
  baseDir?: string;
}

function fail(message: string): never {
  throw new ConfigError([{ path: '', message }]);
}

function parseYaml(text: string): unknown {
  const doc = parseDocument(text, { merge: true, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const msg = e.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
        const at = e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
        return { path: '', message: `YAML syntax error${at}: ${msg}` };
      }),
    );
  }
  try {
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    return fail(`YAML error: ${(e as Error).message}`);
  }
}

function lineCol(text: string, pos: number): { line: number; col: number } {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return { line, col: pos - before.lastIndexOf('\n') };
}

/**
 * Where JSON.parse gave up, for V8 messages without a position ("Unexpected token"): the shortest
 * prefix that fails before its own end (not merely truncated) ends just after the bad character.
 */
function jsonErrorPos(text: string): number | undefined {
  const badAt = (k: number): boolean => {
    try {
      JSON.parse(text.slice(0, k));
      return false;
    } catch (e) {
      const msg = (e as Error).message;
      if (/Unexpected end of JSON input/.test(msg)) return false;
      const m = / at position (\d+)/.exec(msg);
      return !m || Number(m[1]) < k;
    }
  };
  if (!badAt(text.length)) return undefined;
  let lo = 1;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (badAt(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo - 1;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    let msg = (e as Error).message.replace(/, ".*" is not valid JSON$/s, '');
    const m = / in JSON at position (\d+)/.exec(msg);
    let at = '';
    if (m) msg = msg.replace(m[0], '').replace(/ \(line \d+ column \d+\)$/, '');
    const pos = m ? Number(m[1]) : jsonErrorPos(text);
    if (pos !== undefined) {
      const { line, col } = lineCol(text, pos);
      at = ` at line ${line}, column ${col}`;
    }
    return fail(`JSON syntax error${at}: ${msg}`);
  }
}

function sniff(text: string): ConfigFormat {
  const c = text.trimStart()[0];
  return c === '{' || c === '[' ? 'json' : 'yaml';
}

/** Parses text to plain values; explicit format is obeyed, a sniffed JSON that fails retries as YAML. */
function parseText(text: string, format: ConfigFormat | undefined): unknown {
  if (format === 'yaml') return parseYaml(text);
  if (format === 'json') return parseJson(text);
  if (sniff(text) === 'yaml') return parseYaml(text);
  try {
    return parseJson(text);
  } catch (jsonError) {
    try {
      return parseYaml(text);
    } catch {
      throw jsonError;
    }
  }
}

/**
 * Parses, loads plugins, validates and normalizes a config. Throws ConfigError listing every
 * issue, each with its path (`listeners[0].routes[2].cluster: unknown cluster "apii"`).
 */
export function parseConfigText(text: string, opts: ParseOptions = {}): SwitchyardConfig {
  const source = opts.source ?? '';
  const baseDir = resolve(opts.baseDir ?? process.cwd());
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') fail('config is empty');
  const root = parseText(text, opts.format);
  if (root === null || root === undefined) fail('config is empty');
  if (!isPlainObject(root)) fail(`config must be an object (a mapping of keys) at the top level, got ${typeName(root)}`);

  const issues = new Issues();
  const plugins = readPluginList(issues, root.plugins, baseDir);
  requirePlugins(issues, plugins);
  const config = normalize(issues, root, { source, baseDir, plugins: plugins.map((p) => p.resolved) });
  if (issues.count > 0) throw new ConfigError(issues.list);
  return config;
}

/**
 * Reads and parses a config file: .yaml/.yml as YAML, .json as JSON, anything else sniffed.
 * `source` is the absolute path, `base_dir` its directory. Unreadable files throw ConfigError too.
 */
export async function loadConfigFile(path: string): Promise<SwitchyardConfig> {
  const source = resolve(path);
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return fail(`cannot read config file "${source}": ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  const ext = extname(source).toLowerCase();
  const format: ConfigFormat | undefined = ext === '.yaml' || ext === '.yml' ? 'yaml' : ext === '.json' ? 'json' : undefined;
  return parseConfigText(text, { format, source, baseDir: dirname(source) });
}
