import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText, loadConfigFile } from '../../src/config/load';
import { ConfigError, type ConfigIssue } from '../../src/api/errors';
import type { SwitchyardConfig } from '../../src/config/types';

/** Runs fn, expecting a ConfigError; returns its issues. */
function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.issues;
  }
  assert.fail('expected a ConfigError');
}

const DESIGN_LIKE = `
admin: { address: 127.0.0.1:9901 }
plugins: []
drain_timeout: 5s
access_log: stderr
log_level: debug
listeners:
  - name: web
    address: 0.0.0.0:8080
    protocol: http
    filters:
      - { name: headers, config: { request: { add: { x-from: switchyard } } } }
      - { name: router }
    limits: { max_connections: 100, header_timeout: 5s, max_buffer_bytes: 0 }
    routes:
      - match: { host: API.Example, prefix: /v1, headers: { X-Canary: "1" } }
        cluster: api
        timeout: 2s
        prefix_rewrite: /
        host_rewrite: backend.internal
      - match: { service: com.example.Greeter, method: sayHello, version: "1.0.0", group: g }
        cluster: greeter
      - name: health
        match: { prefix: /health }
        direct_response: { status: 200, body: ok, headers: { Content-Type: text/plain } }
      - match:
          path: /old
          query: { Debug: { present: true }, v: { regex: "^[0-9]+$" } }
          headers: { x-a: { prefix: ab }, x-b: { absent: true }, x-c: { exact: c } }
        redirect: { scheme: HTTPS, host: new.example, path: /new }
      - match: { host: "*.example.org", regex: "^/orders/[0-9]+$" }
        weighted_clusters: [{ cluster: api, weight: 90 }, { cluster: orders }]
        timeout: 0
      - match: { prefix: /legacy }
        redirect: { prefix_rewrite: /modern, status: 308 }
      - cluster: api
clusters:
  - name: api
    protocol: http
    lb: round_robin
    endpoints: [{ address: 127.0.0.1:9001, weight: 1, zone: a }]
  - name: orders
    lb: least_request
    lb_config: { choices: 2 }
    connect_timeout: 250ms
    idle_timeout: 1m
    max_connections_per_endpoint: 8
    max_pending_requests: 0
    endpoints: [{ address: 127.0.0.1:9101 }, { address: "[::1]:9102", weight: 3 }]
  - name: greeter
    lb: random
    endpoints: [{ address: localhost:20880 }]
`;

const LIMIT_DEFAULTS = {
  max_connections: 10000,
  max_header_bytes: 65536,
  header_timeout_ms: 10000,
  idle_timeout_ms: 60000,
  max_buffer_bytes: 1048576,
  max_frame_bytes: 16777216,
};
const CLUSTER_DEFAULTS = {
  protocol: 'http',
  lb: 'round_robin',
  lb_config: {},
  connect_timeout_ms: 5000,
  idle_timeout_ms: 60000,
  max_connections_per_endpoint: 1024,
  max_pending_requests: 1024,
  circuit_breakers: { max_requests: 1024, max_retries: 3 },
};

test('a full DESIGN-like config normalizes with defaults filled', () => {
  const c = parseConfigText(DESIGN_LIKE, { format: 'yaml', source: '/etc/sy/x.yaml', baseDir: '/etc/sy' });
  const expected: SwitchyardConfig = {
    source: '/etc/sy/x.yaml',
    base_dir: '/etc/sy',
    admin: { address: { host: '127.0.0.1', port: 9901 } },
    plugins: [],
    drain_timeout_ms: 5000,
    access_log: { path: 'stderr' },
    log_level: 'debug',
    overload: null,
    listeners: [
      {
        name: 'web',
        address: { host: '0.0.0.0', port: 8080 },
        protocol: 'http',
        filters: [
          { name: 'headers', config: { request: { add: { 'x-from': 'switchyard' } } } },
          { name: 'router', config: {} },
        ],
        limits: { ...LIMIT_DEFAULTS, max_connections: 100, header_timeout_ms: 5000, max_buffer_bytes: 0 },
        routes: [
          {
            name: 'web/0',
            match: { host: 'api.example', prefix: '/v1', headers: [{ name: 'x-canary', match: { kind: 'exact', value: '1' } }] },
            cluster: 'api',
            timeout_ms: 2000,
            prefix_rewrite: '/',
            host_rewrite: 'backend.internal',
          },
          {
            name: 'web/1',
            match: { service: 'com.example.Greeter', method: 'sayHello', version: '1.0.0', group: 'g' },
            cluster: 'greeter',
            timeout_ms: 15000,
          },
          {
            name: 'health',
            match: { prefix: '/health' },
            direct_response: { status: 200, body: 'ok', headers: [['content-type', 'text/plain']] },
            timeout_ms: 15000,
          },
          {
            name: 'web/3',
            match: {
              path: '/old',
              query: [
                { name: 'Debug', match: { kind: 'present' } },
                { name: 'v', match: { kind: 'regex', value: /^[0-9]+$/ } },
              ],
              headers: [
                { name: 'x-a', match: { kind: 'prefix', value: 'ab' } },
                { name: 'x-b', match: { kind: 'absent' } },
                { name: 'x-c', match: { kind: 'exact', value: 'c' } },
              ],
            },
            redirect: { scheme: 'https', host: 'new.example', path: '/new', status: 301 },
            timeout_ms: 15000,
          },
          {
            name: 'web/4',
            match: { host: '*.example.org', regex: /^\/orders\/[0-9]+$/ },
            weighted_clusters: [{ cluster: 'api', weight: 90 }, { cluster: 'orders', weight: 1 }],
            timeout_ms: 0,
          },
          {
            name: 'web/5',
            match: { prefix: '/legacy' },
            redirect: { prefix_rewrite: '/modern', status: 308 },
            timeout_ms: 15000,
          },
          { name: 'web/6', match: {}, cluster: 'api', timeout_ms: 15000 },
        ],
      },
    ],
    clusters: [
      {
        ...CLUSTER_DEFAULTS,
        name: 'api',
        endpoints: [{ address: { host: '127.0.0.1', port: 9001 }, weight: 1, zone: 'a' }],
      },
      {
        ...CLUSTER_DEFAULTS,
        name: 'orders',
        lb: 'least_request',
        lb_config: { choices: 2 },
        connect_timeout_ms: 250,
        idle_timeout_ms: 60000,
        max_connections_per_endpoint: 8,
        max_pending_requests: 0,
        endpoints: [
          { address: { host: '127.0.0.1', port: 9101 }, weight: 1 },
          { address: { host: '::1', port: 9102 }, weight: 3 },
        ],
      },
      {
        ...CLUSTER_DEFAULTS,
        name: 'greeter',
        lb: 'random',
        endpoints: [{ address: { host: 'localhost', port: 20880 }, weight: 1 }],
      },
    ],
  };
  assert.deepStrictEqual(c, expected);
});

/** The smallest valid config, as a fresh object to mutate. */
function base(): any {
  return {
    listeners: [{ name: 'web', address: '127.0.0.1:0', routes: [{ match: { prefix: '/' }, cluster: 'api' }] }],
    clusters: [{ name: 'api', endpoints: [{ address: '127.0.0.1:9001' }] }],
  };
}

function parse(obj: unknown): SwitchyardConfig {
  return parseConfigText(JSON.stringify(obj), { format: 'json' });
}

test('the minimal config gets every default', () => {
  const c = parse(base());
  assert.equal(c.source, '');
  assert.equal(c.base_dir, process.cwd());
  assert.deepEqual(c.admin, { address: { host: '127.0.0.1', port: 9901 } });
  assert.deepEqual(c.plugins, []);
  assert.equal(c.drain_timeout_ms, 10000);
  assert.deepEqual(c.access_log, { path: 'stdout' });
  assert.equal(c.log_level, 'info');
  assert.equal(c.listeners[0].protocol, 'http');
  assert.deepEqual(c.listeners[0].filters, []);
  assert.deepEqual(c.listeners[0].limits, LIMIT_DEFAULTS);
  assert.deepEqual(c.listeners[0].routes[0], { name: 'web/0', match: { prefix: '/' }, cluster: 'api', timeout_ms: 15000 });
  assert.deepEqual(c.clusters[0], {
    ...CLUSTER_DEFAULTS,
    name: 'api',
    endpoints: [{ address: { host: '127.0.0.1', port: 9001 }, weight: 1 }],
  });
});

test('admin and access_log can be turned off; clusters default to []', () => {
  const o = base();
  o.admin = false;
  o.access_log = false;
  o.listeners[0].routes = [{ direct_response: { status: 204 } }];
  delete o.clusters;
  const c = parse(o);
  assert.equal(c.admin, null);
  assert.equal(c.access_log, null);
  assert.deepEqual(c.clusters, []);
  assert.deepEqual(c.listeners[0].routes[0].direct_response, { status: 204, body: '', headers: [] });
  o.admin = null;
  o.access_log = null;
  assert.equal(parse(o).admin, null);
  assert.equal(parse(o).access_log, null);
  o.admin = {};
  assert.deepEqual(parse(o).admin, { address: { host: '127.0.0.1', port: 9901 } });
  o.admin = { address: ':9999' };
  assert.deepEqual(parse(o).admin, { address: { host: '0.0.0.0', port: 9999 } });
});

test('access_log file paths resolve against base_dir', () => {
  const o = base();
  o.access_log = 'logs/access.log';
  assert.deepEqual(parseConfigText(JSON.stringify(o), { baseDir: '/srv/sy' }).access_log, { path: '/srv/sy/logs/access.log' });
  o.access_log = { path: '/var/log/a.log' };
  assert.deepEqual(parse(o).access_log, { path: '/var/log/a.log' });
});

test('several listeners on port 0 do not conflict', () => {
  const o = base();
  o.listeners.push({ name: 'b', address: '127.0.0.1:0', routes: [] });
  o.listeners.push({ name: 'c', address: ':0', protocol: 'auto' });
  const c = parse(o);
  assert.equal(c.listeners.length, 3);
  assert.equal(c.listeners[2].protocol, 'auto');
  assert.deepEqual(c.listeners[2].routes, []);
});

/** [description, mutate the base config, expected single issue "path: message"] */
const SINGLE: Array<[string, (o: any) => void, string]> = [
  ['unknown cluster', (o) => { o.listeners[0].routes[0].cluster = 'apii'; }, 'listeners[0].routes[0].cluster: unknown cluster "apii"'],
  ['match key typo', (o) => { o.listeners[0].routes[0].match = { prefx: '/' }; }, 'listeners[0].routes[0].match.prefx: unknown key (did you mean "prefix"?)'],
  ['unknown key, nothing close', (o) => { o.listeners[0].zzzzzzzz = 1; }, 'listeners[0].zzzzzzzz: unknown key'],
  ['top-level typo', (o) => { o.cluster = []; }, 'cluster: unknown key (did you mean "clusters"?)'],
  ['cluster key typo', (o) => { o.clusters[0].endpionts = []; }, 'clusters[0].endpionts: unknown key (did you mean "endpoints"?)'],
  ['route hedge without a trigger', (o) => { o.listeners[0].routes[0].hedge = { max_in_flight: 2 }; }, 'listeners[0].routes[0].hedge: needs a delay or on_per_try_timeout: true'],
  ['route retry unknown condition', (o) => { o.listeners[0].routes[0].retry = { attempts: 2, on: ['5xx', 'sometimes'] }; }, 'listeners[0].routes[0].retry.on[1]: unknown retry condition "sometimes" (known: connect-failure, reset, refused-stream, 5xx, gateway-error, retriable-status-codes, cancelled, deadline-exceeded, internal, resource-exhausted, unavailable)'],
  ['route retry per-try timeout not shorter than the route timeout', (o) => { o.listeners[0].routes[0].timeout = '1s'; o.listeners[0].routes[0].retry = { per_try_timeout: '2s' }; }, 'listeners[0].routes[0].retry.per_try_timeout: must be shorter than the route timeout (1000 ms)'],
  ['route retry negative budget percent', (o) => { o.listeners[0].routes[0].retry = { budget: { percent: -5 } }; }, 'listeners[0].routes[0].retry.budget.percent: must be between 0 and 1000, got -5'],
  ['route retry attempts out of range', (o) => { o.listeners[0].routes[0].retry = { attempts: 50 }; }, 'listeners[0].routes[0].retry.attempts: must be between 0 and 10, got 50'],
  ['route mirror to an unknown cluster', (o) => { o.listeners[0].routes[0].mirror = { cluster: 'ghost' }; }, 'listeners[0].routes[0].mirror.cluster: unknown cluster "ghost"'],
  ['route mirror negative percent', (o) => { o.listeners[0].routes[0].mirror = { cluster: 'api', percent: -1 }; }, 'listeners[0].routes[0].mirror.percent: expected a percentage between 0 and 100, got -1'],
  ['route fault without delay or abort', (o) => { o.listeners[0].routes[0].fault = {}; }, 'listeners[0].routes[0].fault: needs delay or abort'],
  ['route rate limit without rate', (o) => { o.listeners[0].routes[0].rate_limit = { burst: 5 }; }, 'listeners[0].routes[0].rate_limit.tokens_per_second: required'],
  ['listener tls without certificates', (o) => { o.listeners[0].tls = {}; }, 'listeners[0].tls.certificates: required'],
  ['cluster health_check without type', (o) => { o.clusters[0].health_check = {}; }, 'clusters[0].health_check.type: required'],
  ['cluster discovery', (o) => { o.clusters[0].discovery = { type: 'dns' }; }, 'clusters[0].discovery: "discovery" is not supported by this version yet'],
  ['workers', (o) => { o.workers = 'auto'; }, 'workers: "workers" is not supported by this version yet'],
  ['address without port', (o) => { o.listeners[0].address = 'localhost'; }, 'listeners[0].address: invalid address "localhost": expected "host:port" (port is required)'],
  ['port too big', (o) => { o.clusters[0].endpoints[0].address = '10.0.0.1:70000'; }, 'clusters[0].endpoints[0].address: invalid port in address "10.0.0.1:70000": 70000 is above 65535'],
  ['address wrong type', (o) => { o.listeners[0].address = 8080; }, 'listeners[0].address: expected address "host:port", got number'],
  ['missing address', (o) => { delete o.listeners[0].address; }, 'listeners[0].address: required'],
  ['bad duration', (o) => { o.listeners[0].routes[0].timeout = '2x'; }, 'listeners[0].routes[0].timeout: invalid duration "2x": expected a number of milliseconds, or a number with unit ms, s, m or h (e.g. "250ms", "2s", "1m30s")'],
  ['negative duration', (o) => { o.drain_timeout = -5; }, 'drain_timeout: duration must not be negative, got -5'],
  ['duration wrong type', (o) => { o.clusters[0].connect_timeout = true; }, 'clusters[0].connect_timeout: expected duration (e.g. "250ms", "2s"), got boolean'],
  ['limit duration', (o) => { o.listeners[0].limits = { idle_timeout: '1d' }; }, 'listeners[0].limits.idle_timeout: invalid duration "1d": expected a number of milliseconds, or a number with unit ms, s, m or h (e.g. "250ms", "2s", "1m30s")'],
  ['limit typo', (o) => { o.listeners[0].limits = { max_conections: 5 }; }, 'listeners[0].limits.max_conections: unknown key (did you mean "max_connections"?)'],
  ['limit zero', (o) => { o.listeners[0].limits = { max_connections: 0 }; }, 'listeners[0].limits.max_connections: must be a positive integer, got 0'],
  ['endpoint weight 0', (o) => { o.clusters[0].endpoints[0].weight = 0; }, 'clusters[0].endpoints[0].weight: must be a positive integer, got 0'],
  ['endpoint weight string', (o) => { o.clusters[0].endpoints[0].weight = '1'; }, 'clusters[0].endpoints[0].weight: expected integer, got string'],
  ['endpoint weight fraction', (o) => { o.clusters[0].endpoints[0].weight = 1.5; }, 'clusters[0].endpoints[0].weight: expected integer, got 1.5'],
  ['max_pending negative', (o) => { o.clusters[0].max_pending_requests = -1; }, 'clusters[0].max_pending_requests: must not be negative, got -1'],
  ['duplicate cluster', (o) => { o.clusters.push({ name: 'api', endpoints: [{ address: 'x:1' }] }); }, 'clusters[1].name: duplicate cluster name "api" (also clusters[0])'],
  ['duplicate listener name', (o) => { o.listeners.push({ name: 'web', address: '127.0.0.1:1' }); }, 'listeners[1].name: duplicate listener name "web" (also listeners[0])'],
  ['duplicate listener address', (o) => { o.listeners[0].address = '127.0.0.1:80'; o.listeners.push({ name: 'b', address: '127.0.0.1:80' }); }, 'listeners[1].address: 127.0.0.1:80 conflicts with listeners[0] ("web") at 127.0.0.1:80'],
  ['wildcard address overlaps', (o) => { o.listeners[0].address = ':80'; o.listeners.push({ name: 'b', address: '127.0.0.1:80' }); }, 'listeners[1].address: 127.0.0.1:80 conflicts with listeners[0] ("web") at 0.0.0.0:80'],
  ['admin address overlaps', (o) => { o.listeners[0].address = '127.0.0.1:9901'; }, 'admin.address: 127.0.0.1:9901 conflicts with listeners[0] ("web") at 127.0.0.1:9901'],
  ['empty cluster name', (o) => { o.clusters[0].name = ''; o.listeners[0].routes[0] = { direct_response: { status: 200 } }; }, 'clusters[0].name: must not be empty'],
  ['missing listener name', (o) => { delete o.listeners[0].name; }, 'listeners[0].name: required'],
  ['no action', (o) => { delete o.listeners[0].routes[0].cluster; }, 'listeners[0].routes[0]: needs one action: cluster, weighted_clusters, direct_response, redirect'],
  ['two actions', (o) => { o.listeners[0].routes[0].direct_response = { status: 200 }; }, 'listeners[0].routes[0]: has more than one action (cluster, direct_response); choose one'],
  ['prefix and path', (o) => { o.listeners[0].routes[0].match = { prefix: '/a', path: '/b' }; }, 'listeners[0].routes[0].match: use only one of prefix, path'],
  ['prefix without slash', (o) => { o.listeners[0].routes[0].match = { prefix: 'v1' }; }, 'listeners[0].routes[0].match.prefix: must start with "/", got "v1"'],
  ['prefix_rewrite without prefix', (o) => { o.listeners[0].routes[0].match = { path: '/a' }; o.listeners[0].routes[0].prefix_rewrite = '/b'; }, 'listeners[0].routes[0].prefix_rewrite: needs a prefix match (match.prefix)'],
  ['bad regex', (o) => { o.listeners[0].routes[0].match = { regex: '(' }; }, 'listeners[0].routes[0].match.regex: invalid regex: Invalid regular expression: /(/: Unterminated group'],
  ['bad header regex', (o) => { o.listeners[0].routes[0].match.headers = { 'X-A': { regex: '[' } }; }, 'listeners[0].routes[0].match.headers.X-A.regex: invalid regex: Invalid regular expression: /[/: Unterminated character class'],
  ['header match two kinds', (o) => { o.listeners[0].routes[0].match.headers = { a: { exact: 'x', prefix: 'y' } }; }, 'listeners[0].routes[0].match.headers.a: use only one of exact, prefix'],
  ['header match typo', (o) => { o.listeners[0].routes[0].match.headers = { a: { exatc: 'x' } }; }, 'listeners[0].routes[0].match.headers.a.exatc: unknown key (did you mean "exact"?)'],
  ['header match empty', (o) => { o.listeners[0].routes[0].match.headers = { a: {} }; }, 'listeners[0].routes[0].match.headers.a: needs one of exact, prefix, regex, present, absent'],
  ['header present false', (o) => { o.listeners[0].routes[0].match.headers = { a: { present: false } }; }, 'listeners[0].routes[0].match.headers.a.present: must be true (use absent: true to require absence)'],
  ['header value boolean', (o) => { o.listeners[0].routes[0].match.headers = { a: true }; }, 'listeners[0].routes[0].match.headers.a: expected string or object with one of exact, prefix, regex, present, absent, got boolean'],
  ['duplicate header after lower-casing', (o) => { o.listeners[0].routes[0].match.headers = { 'X-A': '1', 'x-a': '2' }; }, 'listeners[0].routes[0].match.headers.x-a: duplicate name "x-a"'],
  ['bad host wildcard', (o) => { o.listeners[0].routes[0].match.host = 'api.*.com'; }, 'listeners[0].routes[0].match.host: invalid host "api.*.com": a wildcard is allowed only as "*" or a leading "*." (e.g. "*.example.com")'],
  ['host with port', (o) => { o.listeners[0].routes[0].match.host = 'api.example:8080'; }, 'listeners[0].routes[0].match.host: invalid host "api.example:8080": leave the port out (ports are ignored when matching hosts)'],
  ['redirect status', (o) => { o.listeners[0].routes[0] = { redirect: { host: 'x', status: 300 } }; }, 'listeners[0].routes[0].redirect.status: expected one of 301, 302, 303, 307, 308, got 300'],
  ['empty redirect', (o) => { o.listeners[0].routes[0] = { redirect: {} }; }, 'listeners[0].routes[0].redirect: needs at least one of scheme, host, path, prefix_rewrite (otherwise it redirects to itself)'],
  ['redirect prefix_rewrite without prefix', (o) => { o.listeners[0].routes[0] = { redirect: { prefix_rewrite: '/x' } }; }, 'listeners[0].routes[0].redirect.prefix_rewrite: needs a prefix match (match.prefix)'],
  ['direct_response without status', (o) => { o.listeners[0].routes[0] = { direct_response: { body: 'x' } }; }, 'listeners[0].routes[0].direct_response.status: required'],
  ['direct_response bad status', (o) => { o.listeners[0].routes[0] = { direct_response: { status: 99 } }; }, 'listeners[0].routes[0].direct_response.status: must be between 100 and 599, got 99'],
  ['weighted unknown cluster', (o) => { o.listeners[0].routes[0] = { weighted_clusters: [{ cluster: 'api', weight: 1 }, { cluster: 'nope', weight: 2 }] }; }, 'listeners[0].routes[0].weighted_clusters[1].cluster: unknown cluster "nope"'],
  ['weighted weight 0', (o) => { o.listeners[0].routes[0] = { weighted_clusters: [{ cluster: 'api', weight: 0 }] }; }, 'listeners[0].routes[0].weighted_clusters[0].weight: must be a positive integer, got 0'],
  ['weighted empty', (o) => { o.listeners[0].routes[0] = { weighted_clusters: [] }; }, 'listeners[0].routes[0].weighted_clusters: needs at least one cluster'],
  ['duplicate route name', (o) => { o.listeners[0].routes[0].name = 'a'; o.listeners[0].routes.push({ name: 'a', cluster: 'api' }); }, 'listeners[0].routes[1].name: duplicate route name "a" (also listeners[0].routes[0])'],
  ['no listeners', (o) => { o.listeners = []; }, 'listeners: at least one listener is required'],
  ['listeners missing', (o) => { delete o.listeners; }, 'listeners: required'],
  ['listeners wrong type', (o) => { o.listeners = {}; }, 'listeners: expected array, got object'],
  ['route wrong type', (o) => { o.listeners[0].routes[0] = 'api'; }, 'listeners[0].routes[0]: expected object, got string'],
  ['no endpoints', (o) => { o.clusters[0].endpoints = []; }, 'clusters[0].endpoints: needs at least one endpoint'],
  ['endpoints missing', (o) => { delete o.clusters[0].endpoints; }, 'clusters[0].endpoints: required'],
  ['unknown listener protocol', (o) => { o.listeners[0].protocol = 'dubbo'; }, 'listeners[0].protocol: unknown protocol "dubbo" (known: auto, http)'],
  ['auto is not an upstream protocol', (o) => { o.clusters[0].protocol = 'auto'; }, 'clusters[0].protocol: unknown protocol "auto" (known: http)'],
  ['unknown lb', (o) => { o.clusters[0].lb = 'ring_hash'; }, 'clusters[0].lb: unknown load balancer "ring_hash" (known: least_request, random, round_robin)'],
  ['lb_config wrong type', (o) => { o.clusters[0].lb_config = [1]; }, 'clusters[0].lb_config: expected object, got array'],
  ['unknown filter', (o) => { o.listeners[0].filters = [{ name: 'wasm', config: {} }]; }, 'listeners[0].filters[0].name: unknown filter "wasm" (known: headers, router)'],
  ['router not last', (o) => { o.listeners[0].filters = [{ name: 'router' }, { name: 'headers' }]; }, 'listeners[0].filters[0].name: "router" must be the last filter'],
  ['filter typo', (o) => { o.listeners[0].filters = [{ name: 'headers', confg: {} }]; }, 'listeners[0].filters[0].confg: unknown key (did you mean "config"?)'],
  ['bad log_level', (o) => { o.log_level = 'verbose'; }, 'log_level: expected one of "debug", "info", "warn", "error", got "verbose"'],
  ['admin true', (o) => { o.admin = true; }, 'admin: expected object, null or false, got boolean'],
  ['admin typo', (o) => { o.admin = { adress: ':1' }; }, 'admin.adress: unknown key (did you mean "address"?)'],
  ['access_log number', (o) => { o.access_log = 5; }, 'access_log: expected false, "stdout", "stderr", a file path or { path }, got number'],
  ['access_log object without path', (o) => { o.access_log = {}; }, 'access_log.path: required'],
  ['plugins wrong type', (o) => { o.plugins = './x.js'; }, 'plugins: expected array of paths, got string'],
  ['plugin entry wrong type', (o) => { o.plugins = [1]; }, 'plugins[0]: expected string, got number'],
  ['RPC key wrong type', (o) => { o.listeners[0].routes[0].match = { service: 1 }; }, 'listeners[0].routes[0].match.service: expected string, got number'],
  ['odd key names are quoted', (o) => { o.listeners[0]['my key'] = 1; }, 'listeners[0]["my key"]: unknown key'],
];

for (const [what, mutate, expected] of SINGLE) {
  test(`single error: ${what}`, () => {
    const o = base();
    mutate(o);
    const issues = issuesOf(() => parse(o));
    assert.deepEqual(issues.map((i) => `${i.path}: ${i.message}`), [expected]);
  });
}

test('a config with several errors reports every one of them', () => {
  const yaml = `
listeners:
  - name: web
    address: 0.0.0.0:99999
    routes:
      - match: { prefx: /v1 }
        cluster: apii
      - match: { prefix: /x }
        hedge: { delay: 0ms }
        timeout: soon
  - address: 127.0.0.1:1
clusters:
  - name: api
    lb: magic
    endpoints: [{ address: 127.0.0.1, weight: 0 }]
  - name: api
    endpoints: []
workers: auto
`;
  const issues = issuesOf(() => parseConfigText(yaml));
  assert.deepEqual(issues.map((i) => `${i.path}: ${i.message}`), [
    'workers: "workers" is not supported by this version yet',
    'listeners[0].address: invalid port in address "0.0.0.0:99999": 99999 is above 65535',
    'listeners[0].routes[0].match.prefx: unknown key (did you mean "prefix"?)',
    'listeners[0].routes[0].cluster: unknown cluster "apii"',
    'listeners[0].routes[1].timeout: invalid duration "soon": expected a number of milliseconds, or a number with unit ms, s, m or h (e.g. "250ms", "2s", "1m30s")',
    'listeners[0].routes[1]: needs one action: cluster, weighted_clusters, direct_response, redirect',
    'listeners[0].routes[1].hedge: needs a delay or on_per_try_timeout: true',
    'listeners[1].name: required',
    'clusters[0].lb: unknown load balancer "magic" (known: least_request, random, round_robin)',
    'clusters[0].endpoints[0].address: invalid address "127.0.0.1": expected "host:port" (port is required)',
    'clusters[0].endpoints[0].weight: must be a positive integer, got 0',
    'clusters[1].endpoints: needs at least one endpoint',
    'clusters[1].name: duplicate cluster name "api" (also clusters[0])',
  ]);
  // The ConfigError message lists them one per line.
  try {
    parseConfigText(yaml);
  } catch (e) {
    assert.equal((e as Error).message.split('\n').length, issues.length);
  }
});

test('YAML syntax errors carry line and column', () => {
  const issues = issuesOf(() => parseConfigText('listeners:\n  - name: web\n    address: [1, 2\nclusters: []\n', { format: 'yaml' }));
  assert.ok(issues.length >= 1);
  assert.equal(issues[0].path, '');
  assert.match(issues[0].message, /^YAML syntax error at line 4, column 1: /);
  const dup = issuesOf(() => parseConfigText('log_level: info\nlog_level: debug\n'));
  assert.deepEqual(dup, [{ path: '', message: 'YAML syntax error at line 2, column 1: Map keys must be unique' }]);
});

test('JSON syntax errors carry line and column', () => {
  assert.deepEqual(issuesOf(() => parseConfigText('{\n  "listeners": ]\n}', { format: 'json' })), [
    { path: '', message: `JSON syntax error at line 2, column 16: Unexpected token ']'` },
  ]);
  const trailing = issuesOf(() => parseConfigText('{"log_level": "info",\n}', { format: 'json' }));
  assert.match(trailing[0].message, /^JSON syntax error at line 2, column 1: /);
});

test('empty and non-object documents are rejected', () => {
  assert.deepEqual(issuesOf(() => parseConfigText('')), [{ path: '', message: 'config is empty' }]);
  assert.deepEqual(issuesOf(() => parseConfigText('# only a comment\n')), [{ path: '', message: 'config is empty' }]);
  assert.deepEqual(issuesOf(() => parseConfigText('- a\n- b\n')), [
    { path: '', message: 'config must be an object (a mapping of keys) at the top level, got array' },
  ]);
});

test('YAML and JSON of the same config give the same result; format is sniffed', () => {
  const o = base();
  const fromJson = parseConfigText(JSON.stringify(o, null, 2));
  const yaml = 'listeners:\n  - name: web\n    address: 127.0.0.1:0\n    routes:\n      - match: { prefix: / }\n        cluster: api\n' +
    'clusters:\n  - name: api\n    endpoints:\n      - address: 127.0.0.1:9001\n';
  assert.deepStrictEqual(parseConfigText(yaml), fromJson);
  assert.deepStrictEqual(parseConfigText(yaml, { format: 'yaml' }), fromJson);
  // A YAML flow mapping at the top is not JSON, but is still read as YAML.
  const flow = '{ listeners: [{ name: web, address: "127.0.0.1:0", routes: [{ cluster: api, match: { prefix: / } }] }], clusters: [{ name: api, endpoints: [{ address: "127.0.0.1:9001" }] }] }';
  assert.deepStrictEqual(parseConfigText(flow), fromJson);
});

test('YAML anchors and merge keys work', () => {
  const yaml = `
x-defaults: &defaults
  connect_timeout: 1s
  lb: random
listeners: [{ name: web, address: "127.0.0.1:0", routes: [{ cluster: a }] }]
clusters:
  - <<: *defaults
    name: a
    endpoints: [{ address: "127.0.0.1:1" }]
`;
  // x-defaults is not a known key: anchors must live inside known structure.
  assert.deepEqual(issuesOf(() => parseConfigText(yaml)).map((i) => i.path), ['x-defaults']);
  const ok = parseConfigText(yaml.replace('x-defaults: &defaults\n  connect_timeout: 1s\n  lb: random\n', '').replace('- <<: *defaults\n', '- connect_timeout: 1s\n    lb: random\n'));
  assert.equal(ok.clusters[0].connect_timeout_ms, 1000);
  const merged = parseConfigText(`
clusters:
  - &c { name: a, lb: random, connect_timeout: 1s, endpoints: [{ address: "127.0.0.1:1" }] }
  - { <<: *c, name: b }
listeners: [{ name: web, address: "127.0.0.1:0", routes: [{ cluster: b }] }]
`);
  assert.equal(merged.clusters[1].name, 'b');
  assert.equal(merged.clusters[1].lb, 'random');
  assert.equal(merged.clusters[1].connect_timeout_ms, 1000);
});

test('loadConfigFile reads YAML, JSON and sniffs other extensions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-config-'));
  const o = base();
  o.access_log = 'access.log';
  writeFileSync(join(dir, 'a.yaml'), `access_log: access.log\n${DESIGN_LIKE.replace(/^.*access_log.*$/m, '')}`);
  writeFileSync(join(dir, 'b.json'), JSON.stringify(o));
  writeFileSync(join(dir, 'c.conf'), JSON.stringify(o));
  writeFileSync(join(dir, 'd.yml'), 'listeners: [{ name: web, address: "127.0.0.1:0" }]\n');

  const a = await loadConfigFile(join(dir, 'a.yaml'));
  assert.equal(a.source, join(dir, 'a.yaml'));
  assert.equal(a.base_dir, dir);
  assert.deepEqual(a.access_log, { path: join(dir, 'access.log') });
  assert.equal(a.listeners[0].routes.length, 7);
  const b = await loadConfigFile(join(dir, 'b.json'));
  assert.equal(b.source, join(dir, 'b.json'));
  assert.deepEqual(b.access_log, { path: join(dir, 'access.log') });
  const c = await loadConfigFile(join(dir, 'c.conf'));
  assert.deepStrictEqual({ ...c, source: '' }, { ...b, source: '' });
  const d = await loadConfigFile(join(dir, 'd.yml'));
  assert.equal(d.listeners[0].name, 'web');

  writeFileSync(join(dir, 'bad.json'), '{ listeners: [] }');
  const bad = await loadConfigFile(join(dir, 'bad.json')).then(() => assert.fail('should throw'), (e) => e);
  assert.ok(bad instanceof ConfigError);
  assert.match(bad.issues[0].message, /^JSON syntax error at line 1, column 3: /);

  const missing = await loadConfigFile(join(dir, 'nope.yaml')).then(() => assert.fail('should throw'), (e) => e);
  assert.ok(missing instanceof ConfigError);
  assert.deepEqual(missing.issues, [{ path: '', message: `cannot read config file "${join(dir, 'nope.yaml')}": no such file` }]);
});
