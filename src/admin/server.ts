/**
 * Admin HTTP server on node:http (not a hot path): readiness, stats (Prometheus text and JSON),
 * clusters, listeners, config dump, reload, and a small HTML index. The paths are a user-facing
 * contract (DESIGN.md). It binds exactly the address it is given; choosing a safe default
 * (127.0.0.1) is the config's job; requests naming a foreign Host/Origin are refused (host-guard.ts).
 * Must never: crash the process because a provider threw or a
 * client misbehaved.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../api/filter';
import type { StatsRegistry } from '../observability/stats';
import { renderPrometheus, renderStatsJson } from '../observability/prometheus';
import { AdminHostGuard } from './host-guard';

/** What the admin server asks of the running proxy. Every method may throw: that becomes a 500. */
export interface AdminProvider {
  /** True once every listener is bound (and the proxy is not draining). */
  ready(): boolean;
  /** Registries of every worker and subsystem; merged when rendered. */
  statsRegistries(): StatsRegistry[];
  /** JSON-able: endpoints, health, counters per cluster. */
  clusters(): unknown;
  /** JSON-able. */
  listeners(): unknown;
  /** JSON-able: the effective config. */
  configDump(): unknown;
  reload(): Promise<{ ok: true } | { ok: false; errors: string[] }>;
}

export interface AdminServerOptions {
  address: { host: string; port: number };
  /** Host names besides IP literals, localhost and the bind host the API answers to. */
  allowedHosts?: readonly string[];
  provider: AdminProvider;
  log: Logger;
}

export interface AdminServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Stops accepting, closes open connections, resolves when the server is closed. */
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, query: URLSearchParams) => void | Promise<void>;

interface Route {
  readonly method: 'GET' | 'POST';
  readonly handler: Handler;
  readonly description: string;
}

const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

function send(res: http.ServerResponse, status: number, contentType: string, body: string, headers?: Record<string, string>): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown, headers?: Record<string, string>): void {
  // Stringify before writing anything: a value that cannot be serialized becomes a 500.
  const body = JSON.stringify(value, null, 2);
  send(res, status, JSON_CONTENT_TYPE, (body ?? 'null') + '\n', headers);
}

const INDEX_PATHS: ReadonlyArray<readonly [string, string, string]> = [
  ['GET', '/ready', 'readiness: 200 LIVE once every listener is bound, else 503'],
  ['GET', '/stats/prometheus', 'metrics in Prometheus text format 0.0.4'],
  ['GET', '/stats', 'metrics as JSON (?format=prometheus for text)'],
  ['GET', '/clusters', 'clusters: endpoints, health, counters (JSON)'],
  ['GET', '/listeners', 'listeners (JSON)'],
  ['GET', '/config_dump', 'the effective config (JSON)'],
  ['POST', '/reload', 'reload the config file; the old config stays on error'],
];

function indexPage(): string {
  const rows = INDEX_PATHS.map(([method, path, what]) => {
    const target =
      method === 'GET'
        ? `<a href="${path}">${path}</a>`
        : `<form method="post" action="${path}"><button type="submit">${path}</button></form>`;
    return `<tr><td>${method}</td><td>${target}</td><td>${what}</td></tr>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Switchyard admin</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}
form{margin:0}code{background:#f4f4f4;padding:0 .2em}
</style></head>
<body>
<h1>Switchyard admin</h1>
<table>
<tr><th>method</th><th>path</th><th>what</th></tr>
${rows}
</table>
<p>Note: this interface can reload the proxy and shows its whole config. Keep it on a loopback or
private address (the default is <code>127.0.0.1:9901</code>); never expose it publicly.</p>
</body>
</html>
`;
}

/** Binds the admin server and resolves once it is listening (rejects on e.g. EADDRINUSE). */
export function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const { provider, log } = opts;

  const routes = new Map<string, Route>([
    [
      '/',
      {
        method: 'GET',
        description: 'index',
        handler: (_req, res) => send(res, 200, 'text/html; charset=utf-8', indexPage()),
      },
    ],
    [
      '/ready',
      {
        method: 'GET',
        description: 'readiness',
        handler: (_req, res) => {
          if (provider.ready()) send(res, 200, 'text/plain; charset=utf-8', 'LIVE\n');
          else send(res, 503, 'text/plain; charset=utf-8', 'NOT_READY\n');
        },
      },
    ],
    [
      '/stats/prometheus',
      {
        method: 'GET',
        description: 'prometheus',
        handler: (_req, res) => send(res, 200, PROMETHEUS_CONTENT_TYPE, renderPrometheus(provider.statsRegistries())),
      },
    ],
    [
      '/stats',
      {
        method: 'GET',
        description: 'stats',
        handler: (_req, res, query) => {
          const format = query.get('format');
          if (format === 'prometheus') {
            send(res, 200, PROMETHEUS_CONTENT_TYPE, renderPrometheus(provider.statsRegistries()));
          } else if (format === null || format === '' || format === 'json') {
            sendJson(res, 200, renderStatsJson(provider.statsRegistries()));
          } else {
            sendJson(res, 400, { error: `unknown format "${format}" (expected json or prometheus)` });
          }
        },
      },
    ],
    ['/clusters', { method: 'GET', description: 'clusters', handler: (_req, res) => sendJson(res, 200, provider.clusters()) }],
    ['/listeners', { method: 'GET', description: 'listeners', handler: (_req, res) => sendJson(res, 200, provider.listeners()) }],
    [
      '/config_dump',
      { method: 'GET', description: 'config dump', handler: (_req, res) => sendJson(res, 200, provider.configDump()) },
    ],
    [
      '/reload',
      {
        method: 'POST',
        description: 'reload',
        handler: async (_req, res) => {
          const r = await provider.reload();
          if (r.ok) {
            log.info('admin: config reloaded');
            sendJson(res, 200, { ok: true });
          } else {
            const errors = Array.isArray(r.errors) ? r.errors.map(String) : [String(r.errors)];
            log.warn('admin: config reload rejected', { errors });
            sendJson(res, 400, { ok: false, errors });
          }
        },
      },
    ],
  ]);

  function fail(res: http.ServerResponse, path: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    log.error('admin: request failed', { path, error: message });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    try {
      sendJson(res, 500, { error: message });
    } catch {
      res.destroy();
    }
  }

  const guard = new AdminHostGuard(opts.address.host, opts.allowedHosts);

  function onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    // No handler reads a body: discard whatever was sent.
    req.resume();
    req.on('error', () => {});
    res.on('error', () => {});
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let path = q === -1 ? url : url.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);

    const route = routes.get(path);
    if (route === undefined) {
      sendJson(res, 404, { error: 'not found', paths: INDEX_PATHS.map(([m, p]) => `${m} ${p}`) });
      return;
    }
    const method = req.method ?? 'GET';
    const refused = guard.check(method, req.headers);
    if (refused !== null) {
      log.warn('admin: request refused', { path, reason: refused, remote: req.socket.remoteAddress });
      sendJson(res, 403, { error: refused });
      return;
    }
    const allowed = route.method === 'GET' ? method === 'GET' || method === 'HEAD' : method === route.method;
    if (!allowed) {
      const allow = route.method === 'GET' ? 'GET, HEAD' : route.method;
      sendJson(res, 405, { error: `method ${method} not allowed on ${path}` }, { Allow: allow });
      return;
    }
    try {
      const r = route.handler(req, res, query);
      if (r !== undefined) r.catch((err: unknown) => fail(res, path, err));
    } catch (err) {
      fail(res, path, err);
    }
  }

  const server = http.createServer(
    { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
    onRequest,
  );

  return new Promise<AdminServer>((resolve, reject) => {
    const onListenError = (err: Error): void => reject(err);
    server.once('error', onListenError);
    server.listen({ host: opts.address.host, port: opts.address.port }, () => {
      server.off('error', onListenError);
      server.on('error', (err) => log.error('admin: server error', { error: err.message }));
      const port = (server.address() as AddressInfo).port;
      log.info('admin: listening', { address: `${opts.address.host}:${port}` });
      let closing: Promise<void> | null = null;
      resolve({
        port,
        close(): Promise<void> {
          if (closing === null) {
            closing = new Promise<void>((done) => {
              server.close(() => done());
              server.closeAllConnections();
            });
          }
          return closing;
        },
      });
    });
  });
}
