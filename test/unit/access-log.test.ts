import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { AccessLog, formatAccessLogLine, formatIsoTime, type AccessLogEntry } from '../../src/observability/access-log';
import { createLogger } from '../../src/observability/log';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'switchyard-al-'));
}

const FIELDS = [
  'time',
  'listener',
  'route',
  'cluster',
  'upstream',
  'protocol',
  'method',
  'authority',
  'path',
  'status',
  'reason',
  'bytes_in',
  'bytes_out',
  'duration_ms',
  'request_id',
];

function entry(i: number, over: Partial<AccessLogEntry> = {}): AccessLogEntry {
  return {
    time: '2026-11-22T10:00:00.123Z',
    listener: 'web',
    route: 'api',
    cluster: 'api',
    upstream: '127.0.0.1:9001',
    protocol: 'http/1.1',
    method: 'GET',
    authority: 'api.example',
    path: `/v1/items/${i}`,
    status: 200,
    reason: null,
    bytes_in: 0,
    bytes_out: 100,
    duration_ms: 1.5,
    request_id: `req-${i}`,
    ...over,
  };
}

test('formatIsoTime matches Date.toISOString, cached per second', () => {
  for (const ms of [0, 1, 999, 1000, 1700000000000, 1700000000007, 1700000000070, 1700000000700, 1700000001000]) {
    assert.equal(formatIsoTime(ms), new Date(ms).toISOString());
  }
  assert.equal(formatIsoTime(1700000000123.9), new Date(1700000000123).toISOString());
});

test('formatAccessLogLine: exact field order, nulls, escaping, key order independent of input', () => {
  const e = entry(1);
  assert.equal(
    formatAccessLogLine(e),
    '{"time":"2026-11-22T10:00:00.123Z","listener":"web","route":"api","cluster":"api",' +
      '"upstream":"127.0.0.1:9001","protocol":"http/1.1","method":"GET","authority":"api.example",' +
      '"path":"/v1/items/1","status":200,"reason":null,"bytes_in":0,"bytes_out":100,"duration_ms":1.5,' +
      '"request_id":"req-1"}\n',
  );
  // Same fields built in another order, extra fields ignored, time as epoch ms.
  const shuffled = {
    request_id: 'x',
    extra: 'ignored',
    duration_ms: 2.0004999,
    bytes_out: 0,
    bytes_in: 5,
    reason: 'no_route',
    status: 404,
    path: '/a"b\\c\nd\u0001\ud800',
    authority: 'h',
    method: 'POST',
    protocol: 'h2',
    upstream: null,
    cluster: null,
    route: null,
    listener: 'l',
    time: 0,
  } as unknown as AccessLogEntry;
  const line = formatAccessLogLine(shuffled);
  assert.ok(line.endsWith('}\n') && !line.slice(0, -1).includes('\n'));
  const parsed = JSON.parse(line);
  assert.deepEqual(Object.keys(parsed), FIELDS);
  assert.deepEqual(parsed, {
    time: '1970-01-01T00:00:00.000Z',
    listener: 'l',
    route: null,
    cluster: null,
    upstream: null,
    protocol: 'h2',
    method: 'POST',
    authority: 'h',
    path: '/a"b\\c\nd\u0001\ud800',
    status: 404,
    reason: 'no_route',
    bytes_in: 5,
    bytes_out: 0,
    duration_ms: 2,
    request_id: 'x',
  });
  // Non-finite numbers become null rather than breaking the line.
  const bad = JSON.parse(
    formatAccessLogLine(entry(2, { status: NaN, duration_ms: Infinity, method: null, authority: null, path: null })),
  );
  assert.deepEqual(Object.keys(bad), FIELDS);
  assert.equal(bad.method, null);
  assert.equal(bad.authority, null);
  assert.equal(bad.path, null);
  assert.equal(bad.status, null);
  assert.equal(bad.duration_ms, null);
});

test('AccessLog writes one JSON line per entry to a file, in order, after close', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'sub', 'access.log');
    const log = AccessLog.open(path);
    const n = 1000;
    for (let i = 0; i < n; i++) log.write(entry(i));
    // Nothing is written synchronously.
    assert.equal(log.written, 0);
    await new Promise((r) => setImmediate(r));
    log.write(entry(n, { reason: 'timeout', status: 504, upstream: null }));
    await log.close();
    log.write(entry(n + 1)); // after close: ignored, no throw
    const lines = readFileSync(path, 'utf8').split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, n + 1);
    for (let i = 0; i < lines.length; i++) {
      const o = JSON.parse(lines[i]);
      assert.deepEqual(Object.keys(o), FIELDS);
      assert.equal(o.request_id, `req-${i}`);
    }
    assert.equal(lines[0], formatAccessLogLine(entry(0)).slice(0, -1));
    const last = JSON.parse(lines[n]);
    assert.equal(last.reason, 'timeout');
    assert.equal(last.status, 504);
    assert.equal(last.upstream, null);
    assert.equal(log.written, n + 1);
    assert.equal(log.dropped, 0);
    // close() is idempotent.
    await log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('AccessLog appends to an existing file, flush() hands entries over, reopen() follows rotation', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'access.log');
    writeFileSync(path, 'old\n');
    const log = AccessLog.open(path);
    log.write(entry(1));
    log.flush();
    assert.equal(log.written, 1);
    await new Promise((r) => setTimeout(r, 50));
    renameSync(path, path + '.1');
    log.reopen();
    await new Promise((r) => setTimeout(r, 50));
    log.write(entry(2));
    await log.close();
    const rotated = readFileSync(path + '.1', 'utf8').split('\n');
    assert.equal(rotated[0], 'old');
    assert.equal(JSON.parse(rotated[1]).request_id, 'req-1');
    const fresh = readFileSync(path, 'utf8').trim().split('\n');
    assert.equal(fresh.length, 1);
    assert.equal(JSON.parse(fresh[0]).request_id, 'req-2');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('AccessLog to stdout: entries queued just before process.exit() are still written', () => {
  const mod = join(__dirname, '..', '..', 'src', 'observability', 'access-log.js');
  const script =
    `const { AccessLog } = require(${JSON.stringify(mod)});` +
    `const log = AccessLog.open('stdout');` +
    `for (let i = 0; i < 500; i++) log.write(${JSON.stringify(entry(0))});` +
    `process.exit(0);`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 500);
  for (const l of lines) assert.equal(l, formatAccessLogLine(entry(0)).slice(0, -1));
});

test('AccessLog.open throws synchronously on a path that cannot be opened', () => {
  const dir = tmp();
  try {
    // A directory is not a writable file.
    assert.throws(() => AccessLog.open(dir));
    assert.throws(() => AccessLog.open(''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('createLogger: pino JSON lines, message first and extra second, child bindings, level filter', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'app.log');
    const log = createLogger({ level: 'info', name: 'switchyard', destination: path });
    log.debug('hidden');
    log.info('hello', { a: 1 });
    log.warn('plain');
    const child = log.child({ listener: 'web' });
    child.error('boom', { err: new Error('bad') });
    assert.equal(log.isLevelEnabled('debug'), false);
    log.flush();
    // The destination writes asynchronously: wait for the three lines (bounded).
    let text = '';
    for (let i = 0; i < 200 && text.split('\n').length < 4; i++) {
      await new Promise((r) => setTimeout(r, 10));
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        // not created yet
      }
    }
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.equal(lines[0].msg, 'hello');
    assert.equal(lines[0].a, 1);
    assert.equal(lines[0].level, 'info');
    assert.equal(lines[0].name, 'switchyard');
    assert.equal(typeof lines[0].time, 'string');
    assert.equal(lines[1].msg, 'plain');
    assert.equal(lines[1].level, 'warn');
    assert.equal(lines[2].listener, 'web');
    assert.equal(lines[2].level, 'error');
    assert.equal(lines[2].err.message, 'bad');
    assert.throws(() => createLogger({ level: 'loud' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
