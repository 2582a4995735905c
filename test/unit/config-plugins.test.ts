import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfigText, loadConfigFile, loadPlugins } from '../../src/config/load';
import { ConfigError, type ConfigIssue } from '../../src/api/errors';
import { registry } from '../../src/api/registry';

// The compiled registry module the plugins must register through (the same instance we load).
const REGISTRY_JS = resolve(__dirname, '../../src/api/registry.js');

function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.issues;
  }
  assert.fail('expected a ConfigError');
}

const dir = mkdtempSync(join(tmpdir(), 'sy-plugins-'));
mkdirSync(join(dir, 'plugins'));
writeFileSync(
  join(dir, 'plugins', 'filter.js'),
  `const { registerFilter } = require(${JSON.stringify(REGISTRY_JS)});
registerFilter({ name: 'test-stamp', build() { return { create() { return {}; } }; } });
`,
);
writeFileSync(
  join(dir, 'plugins', 'codec.js'),
  `const r = require(${JSON.stringify(REGISTRY_JS)});
r.registerCodec({ name: 'test-rpc', listener: { name: 'test-rpc', serve() { throw new Error('x'); } },
  upstream: { name: 'test-rpc', createPool() { throw new Error('x'); } } });
r.registerCodec({ name: 'test-server-only', listener: { name: 'test-server-only', serve() { throw new Error('x'); } } });
r.registerLoadBalancer({ name: 'test-lb', create() { return { pick() { return undefined; } }; } });
`,
);
writeFileSync(join(dir, 'plugins', 'boom.js'), `throw new Error('boom: plugin failed on purpose');\n`);

function config(plugins: string[], filter = 'test-stamp'): string {
  return JSON.stringify({
    plugins,
    listeners: [{ name: 'web', address: '127.0.0.1:0', filters: [{ name: filter, config: { any: ['raw', 1] } }, { name: 'router' }],
      routes: [{ cluster: 'c' }] }],
    clusters: [{ name: 'c', endpoints: [{ address: '127.0.0.1:1' }] }],
  });
}

test('a filter name is unknown until the plugin that registers it is loaded', () => {
  assert.equal(registry.filter('test-stamp'), undefined);
  const issues = issuesOf(() => parseConfigText(config([]), { baseDir: dir }));
  assert.deepEqual(issues, [{ path: 'listeners[0].filters[0].name', message: 'unknown filter "test-stamp" (known: headers, router)' }]);
});

test('plugins load relative to base_dir before names are checked', () => {
  const c = parseConfigText(config(['./plugins/filter.js']), { baseDir: dir });
  assert.ok(registry.filter('test-stamp'));
  assert.deepEqual(c.plugins, [join(dir, 'plugins', 'filter.js')]);
  assert.deepEqual(c.listeners[0].filters[0], { name: 'test-stamp', config: { any: ['raw', 1] } });
  // Loading the same config again is fine (module cache: registration runs once).
  assert.doesNotThrow(() => parseConfigText(config(['./plugins/filter.js']), { baseDir: dir }));
});

test('plugin codecs and load balancers validate, sides are checked', () => {
  const text = JSON.stringify({
    plugins: ['plugins/codec.js'],
    listeners: [
      { name: 'rpc', address: '127.0.0.1:0', protocol: 'test-rpc', routes: [{ match: { service: 's' }, cluster: 'c' }] },
      { name: 'srv', address: '127.0.0.1:0', protocol: 'test-server-only' },
    ],
    clusters: [{ name: 'c', protocol: 'test-rpc', lb: 'test-lb', endpoints: [{ address: '127.0.0.1:1' }] }],
  });
  const c = parseConfigText(text, { baseDir: dir });
  assert.equal(c.listeners[0].protocol, 'test-rpc');
  assert.equal(c.clusters[0].lb, 'test-lb');
  const bad = text.replace('"protocol":"test-rpc","lb"', '"protocol":"test-server-only","lb"');
  assert.deepEqual(issuesOf(() => parseConfigText(bad, { baseDir: dir })), [
    { path: 'clusters[0].protocol', message: 'protocol "test-server-only" has no upstream (client) side' },
  ]);
  const unknown = text.replace('"protocol":"test-rpc","lb"', '"protocol":"nope","lb"');
  assert.deepEqual(issuesOf(() => parseConfigText(unknown, { baseDir: dir })), [
    { path: 'clusters[0].protocol', message: 'unknown protocol "nope" (known: http, test-rpc)' },
  ]);
});

test('a plugin that cannot be loaded is reported at plugins[i], with every other issue', () => {
  const issues = issuesOf(() => parseConfigText(config(['./plugins/filter.js', './missing.js', './plugins/boom.js'], 'nope'), { baseDir: dir }));
  assert.deepEqual(issues, [
    { path: 'plugins[1]', message: `cannot load "./missing.js": Cannot find module '${join(dir, 'missing.js')}'` },
    { path: 'plugins[2]', message: 'cannot load "./plugins/boom.js": boom: plugin failed on purpose' },
    { path: 'listeners[0].filters[0].name', message: 'unknown filter "nope" (known: headers, router, test-stamp)' },
  ]);
});

test('loadConfigFile resolves plugins against the file directory', async () => {
  const sub = join(dir, 'conf');
  mkdirSync(sub);
  writeFileSync(join(sub, 'proxy.yaml'), 'plugins: [../plugins/filter.js]\n' +
    'listeners:\n  - name: web\n    address: 127.0.0.1:0\n    filters: [{ name: test-stamp }]\n');
  const c = await loadConfigFile(join(sub, 'proxy.yaml'));
  assert.deepEqual(c.plugins, [join(dir, 'plugins', 'filter.js')]);
  assert.deepEqual(c.listeners[0].filters, [{ name: 'test-stamp', config: {} }]);
});

test('loadPlugins on its own: absolute or base_dir-relative paths; throws ConfigError', () => {
  assert.doesNotThrow(() => loadPlugins({ plugins: [join(dir, 'plugins', 'filter.js')], base_dir: '/' }));
  assert.doesNotThrow(() => loadPlugins({ plugins: ['plugins/codec.js'], base_dir: dir }));
  const issues = issuesOf(() => loadPlugins({ plugins: ['./plugins/filter.js', 'plugins/boom.js'], base_dir: dir }));
  assert.deepEqual(issues, [{ path: 'plugins[1]', message: 'cannot load "plugins/boom.js": boom: plugin failed on purpose' }]);
});
