/**
 * Example filter written in TypeScript and loaded through `plugins:` — an API-key check.
 * Requests under `prefix` must carry one of `keys` in `header`, else they get a 401 local reply
 * (in the downstream protocol's own form). It imports only the public API, as a user plugin would
 * (`require('switchyard')` from outside this repository).
 * Must never: keep per-request state outside the stream.
 */
import { ConfigError, registerFilter, type ConfigIssue, type FilterFactory, type StreamFilter } from '../../src/api';

interface ApiKeyConfig {
  header: string;
  keys: Set<string>;
  prefix: string;
}

function parse(raw: unknown): ApiKeyConfig {
  const issues: ConfigIssue[] = [];
  const o = (raw ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) throw new ConfigError([{ path: '', message: 'must be an object' }]);
  for (const k of Object.keys(o)) if (!['header', 'keys', 'prefix'].includes(k)) issues.push({ path: k, message: 'unknown key' });
  const header = o.header ?? 'x-api-key';
  if (typeof header !== 'string' || header === '') issues.push({ path: 'header', message: 'must be a non-empty string' });
  const keys = o.keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'string' && k !== '')) {
    issues.push({ path: 'keys', message: 'must be a non-empty list of strings' });
  }
  const prefix = o.prefix ?? '/';
  if (typeof prefix !== 'string' || !prefix.startsWith('/')) issues.push({ path: 'prefix', message: 'must be a path starting with "/"' });
  if (issues.length > 0) throw new ConfigError(issues);
  return { header: (header as string).toLowerCase(), keys: new Set(keys as string[]), prefix: prefix as string };
}

export const apiKeyFilter: FilterFactory = {
  name: 'api-key',
  build(raw) {
    const cfg = parse(raw);
    // Stateless: one filter object serves every stream.
    const filter: StreamFilter = {
      onRequestHeaders(ctx, headers) {
        const path = headers.get(':path') ?? '/';
        if (!path.startsWith(cfg.prefix)) return 'continue';
        const key = headers.get(cfg.header);
        if (key !== undefined && cfg.keys.has(key)) return 'continue';
        ctx.sendLocalReply({ status: 401, body: `missing or invalid ${cfg.header}\n`, reason: 'filter_denied' });
        return 'stop';
      },
    };
    return { createFilter: () => filter };
  },
};

registerFilter(apiKeyFilter);
