import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { startAdminServer, type AdminProvider, type AdminServer } from '../../src/admin/server';
import { StatsRegistry } from '../../src/observability/stats';
import type { Logger } from '../../src/api/filter';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, method: string, path: string, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const logged: Array<{ level: string; msg: string; extra?: object }> = [];
const log: Logger = {
  debug: (msg, extra) => logged.push({ level: 'debug', msg, extra }),
  info: (msg, extra) => logged.push({ level: 'info', msg, extra }),
  warn: (msg, extra) => logged.push({ level: 'warn', msg, extra }),
  error: (msg, extra) => logged.push({ level: 'error', msg, extra }),
};

const state = {
  ready: false,
  throwOn: '' as string,
  reloadResult: { ok: true } as { ok: true } | { ok: false; errors: string[] },
  reloads: 0,
};
const worker1 = new StatsRegistry();
const worker2 = new StatsRegistry();
worker1.counter('switchyard_downstream_requests_total', 'Downstream requests.', { listener: 'web' }).inc(2);
worker2.counter('switchyard_downstream_requests_total', 'Downstream requests.', { listener: 'web' }).inc(3);
worker1.histogram('switchyard_upstream_request_duration_seconds', 'Upstream latency.', { cluster: 'api' }, [0.1]).observe(0.05);

function maybeThrow(what: string): void {
  if (state.throwOn === what) throw new Error(`${what} exploded`);
}

const provider: AdminProvider = {
  ready() {
    maybeThrow('ready');
    return state.ready;
  },
  statsRegistries() {
    maybeThrow('stats');
    return [worker1, worker2];
  },
  clusters() {
    maybeThrow('clusters');
    if (state.throwOn === 'circular') {
      const o: Record<string, unknown> = {};
      o.self = o;
      return o;
    }
    return [{ name: 'api', endpoints: [{ address: '127.0.0.1:9001', healthy: true }] }];
  },
  listeners() {
    maybeThrow('listeners');
    return [{ name: 'web', address: '0.0.0.0:8080' }];
  },
  configDump() {
    maybeThrow('config');
    return { listeners: [{ name: 'web' }], clusters: [{ name: 'api' }] };
  },
  async reload() {
    state.reloads++;
    await new Promise((r) => setTimeout(r, 5));
    if (state.throwOn === 'reload') throw new Error('reload exploded');
    return state.reloadResult;
  },
};

let server: AdminServer;
before(async () => {
  server = await startAdminServer({ address: { host: '127.0.0.1', port: 0 }, provider, log });
});
after(async () => {
  await server.close();
});

test('binds the given address on an ephemeral port', () => {
  assert.ok(server.port > 0);
});

test('GET /ready: 503 until ready, then 200 LIVE', async () => {
  state.ready = false;
  let r = await request(server.port, 'GET', '/ready');
  assert.equal(r.status, 503);
  state.ready = true;
  r = await request(server.port, 'GET', '/ready');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'LIVE\n');
  assert.match(r.headers['content-type']!, /^text\/plain/);
  r = await request(server.port, 'HEAD', '/ready');
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
});

test('GET /stats/prometheus: text 0.0.4, merged registries, process metrics', async () => {
  const r = await request(server.port, 'GET', '/stats/prometheus');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(r.body, /^# TYPE switchyard_downstream_requests_total counter$/m);
  assert.match(r.body, /^switchyard_downstream_requests_total\{listener="web"\} 5$/m);
  assert.match(r.body, /^switchyard_upstream_request_duration_seconds_bucket\{cluster="api",le="\+Inf"\} 1$/m);
  assert.match(r.body, /^switchyard_process_resident_memory_bytes \d+$/m);
  assert.match(r.body, /^switchyard_event_loop_lag_seconds /m);
  assert.ok(r.body.endsWith('\n'));
});

test('GET /stats: JSON; ?format=prometheus is the text alias; unknown format 400', async () => {
  let r = await request(server.port, 'GET', '/stats');
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type']!, /^application\/json/);
  const j = JSON.parse(r.body);
  assert.deepEqual(j.counters.switchyard_downstream_requests_total, [{ labels: { listener: 'web' }, value: 5 }]);
  assert.equal(j.histograms.switchyard_upstream_request_duration_seconds[0].count, 1);
  r = await request(server.port, 'GET', '/stats?format=json');
  assert.equal(r.status, 200);
  assert.doesNotThrow(() => JSON.parse(r.body));
  r = await request(server.port, 'GET', '/stats?format=prometheus');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(r.body, /^switchyard_downstream_requests_total\{listener="web"\} 5$/m);
  r = await request(server.port, 'GET', '/stats?format=xml');
  assert.equal(r.status, 400);
});

test('GET /clusters, /listeners, /config_dump: pretty JSON from the provider', async () => {
  for (const [path, expected] of [
    ['/clusters', provider.clusters()],
    ['/listeners', provider.listeners()],
    ['/config_dump', provider.configDump()],
  ] as const) {
    const r = await request(server.port, 'GET', path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(JSON.parse(r.body), expected);
    assert.equal(r.body, JSON.stringify(expected, null, 2) + '\n');
  }
});

test('GET /: HTML index listing every path', async () => {
  const r = await request(server.port, 'GET', '/');
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type']!, /^text\/html/);
  for (const p of ['/ready', '/stats/prometheus', '/stats', '/clusters', '/listeners', '/config_dump', '/reload']) {
    assert.ok(r.body.includes(`"${p}"`), p);
  }
});

test('unknown path → 404; wrong method → 405 with Allow', async () => {
  let r = await request(server.port, 'GET', '/nope');
  assert.equal(r.status, 404);
  r = await request(server.port, 'GET', '//stats');
  assert.equal(r.status, 404);
  r = await request(server.port, 'POST', '/stats');
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'GET, HEAD');
  r = await request(server.port, 'DELETE', '/config_dump');
  assert.equal(r.status, 405);
  r = await request(server.port, 'GET', '/reload');
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'POST');
});

test('POST /reload: 200 {ok:true}; 400 {ok:false, errors}', async () => {
  state.reloadResult = { ok: true };
  let r = await request(server.port, 'POST', '/reload', 'ignored body');
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), { ok: true });
  state.reloadResult = { ok: false, errors: ['listeners[0].routes[2].cluster: unknown cluster "apii"', 'x: y'] };
  r = await request(server.port, 'POST', '/reload');
  assert.equal(r.status, 400);
  assert.deepEqual(JSON.parse(r.body), {
    ok: false,
    errors: ['listeners[0].routes[2].cluster: unknown cluster "apii"', 'x: y'],
  });
  assert.equal(state.reloads, 2);
});

test('a provider that throws (or returns what JSON cannot hold) → 500 JSON, server keeps serving', async () => {
  for (const [what, path, method] of [
    ['ready', '/ready', 'GET'],
    ['stats', '/stats', 'GET'],
    ['stats', '/stats/prometheus', 'GET'],
    ['clusters', '/clusters', 'GET'],
    ['circular', '/clusters', 'GET'],
    ['listeners', '/listeners', 'GET'],
    ['config', '/config_dump', 'GET'],
    ['reload', '/reload', 'POST'],
  ] as const) {
    state.throwOn = what;
    const r = await request(server.port, method, path);
    assert.equal(r.status, 500, `${what} ${path}`);
    assert.match(r.headers['content-type']!, /^application\/json/);
    assert.equal(typeof JSON.parse(r.body).error, 'string');
  }
  state.throwOn = '';
  assert.ok(logged.some((l) => l.level === 'error' && l.msg.includes('admin')));
  const r = await request(server.port, 'GET', '/ready');
  assert.equal(r.status, 200);
});

test('listen failure rejects (port in use)', async () => {
  await assert.rejects(
    startAdminServer({ address: { host: '127.0.0.1', port: server.port }, provider, log }),
    /EADDRINUSE/,
  );
});

test('close() resolves with keep-alive connections open and is idempotent', async () => {
  const s = await startAdminServer({ address: { host: '127.0.0.1', port: 0 }, provider, log });
  const agent = new http.Agent({ keepAlive: true });
  await new Promise<void>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: s.port, path: '/ready', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });
  await s.close();
  await s.close();
  agent.destroy();
  await assert.rejects(request(s.port, 'GET', '/ready'));
});
