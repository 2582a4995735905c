import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsRegistry } from '../../src/observability/stats';
import {
  renderPrometheus,
  renderStatsJson,
  escapeLabelValue,
  escapeHelp,
  formatValue,
  mergeRegistries,
} from '../../src/observability/prometheus';
import { collectProcessMetrics, stopProcessMetrics } from '../../src/observability/process-metrics';

const noProc = { processMetrics: false };

test('counter and gauge families: HELP/TYPE once, one line per label set', () => {
  const r = new StatsRegistry();
  r.counter('switchyard_downstream_requests_total', 'Downstream requests.', { listener: 'web', code: '200' }).inc(3);
  r.counter('switchyard_downstream_requests_total', 'Downstream requests.', { listener: 'web', code: '404' }).inc();
  r.gauge('switchyard_downstream_connections_active', 'Active connections.', { listener: 'web' }).set(7);
  r.counter('switchyard_plain_total', 'No labels.').inc(2);
  assert.equal(
    renderPrometheus([r], noProc),
    [
      '# HELP switchyard_downstream_requests_total Downstream requests.',
      '# TYPE switchyard_downstream_requests_total counter',
      'switchyard_downstream_requests_total{listener="web",code="200"} 3',
      'switchyard_downstream_requests_total{listener="web",code="404"} 1',
      '# HELP switchyard_downstream_connections_active Active connections.',
      '# TYPE switchyard_downstream_connections_active gauge',
      'switchyard_downstream_connections_active{listener="web"} 7',
      '# HELP switchyard_plain_total No labels.',
      '# TYPE switchyard_plain_total counter',
      'switchyard_plain_total 2',
      '',
    ].join('\n'),
  );
});

test('label values escape backslash, double quote and newline; HELP escapes backslash and newline', () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(escapeLabelValue('plain /path?x=1'), 'plain /path?x=1');
  assert.equal(escapeHelp('x\\y\n"z"'), 'x\\\\y\\n"z"');
  const r = new StatsRegistry();
  r.counter('switchyard_x_total', 'Help with \\ and\nnewline "quoted".', { route: 'C:\\dir "q"\nnext' }).inc();
  assert.equal(
    renderPrometheus([r], noProc),
    '# HELP switchyard_x_total Help with \\\\ and\\nnewline "quoted".\n' +
      '# TYPE switchyard_x_total counter\n' +
      'switchyard_x_total{route="C:\\\\dir \\"q\\"\\nnext"} 1\n',
  );
});

test('invalid metric and label names are sanitized', () => {
  const r = new StatsRegistry();
  r.counter('switchyard.bad-name', 'h', { 'x-user': 'a', '1st': 'b' }).inc();
  assert.equal(
    renderPrometheus([r], noProc),
    '# HELP switchyard_bad_name h\n# TYPE switchyard_bad_name counter\nswitchyard_bad_name{x_user="a",_1st="b"} 1\n',
  );
});

test('special values: NaN, +Inf, -Inf, fractions', () => {
  assert.equal(formatValue(NaN), 'NaN');
  assert.equal(formatValue(Infinity), '+Inf');
  assert.equal(formatValue(-Infinity), '-Inf');
  assert.equal(formatValue(0.0005), '0.0005');
  assert.equal(formatValue(2.5), '2.5');
  assert.equal(formatValue(1e21), '1e+21');
});

test('histogram: cumulative buckets, +Inf, _sum, _count', () => {
  const r = new StatsRegistry();
  const h = r.histogram('switchyard_upstream_request_duration_seconds', 'Upstream latency.', { cluster: 'api' }, [
    0.1, 0.5, 1,
  ]);
  for (const v of [0.05, 0.1, 0.3, 0.7, 0.9, 2, 5]) h.observe(v);
  assert.equal(
    renderPrometheus([r], noProc),
    [
      '# HELP switchyard_upstream_request_duration_seconds Upstream latency.',
      '# TYPE switchyard_upstream_request_duration_seconds histogram',
      'switchyard_upstream_request_duration_seconds_bucket{cluster="api",le="0.1"} 2',
      'switchyard_upstream_request_duration_seconds_bucket{cluster="api",le="0.5"} 3',
      'switchyard_upstream_request_duration_seconds_bucket{cluster="api",le="1"} 5',
      'switchyard_upstream_request_duration_seconds_bucket{cluster="api",le="+Inf"} 7',
      'switchyard_upstream_request_duration_seconds_sum{cluster="api"} 9.05',
      'switchyard_upstream_request_duration_seconds_count{cluster="api"} 7',
      '',
    ].join('\n'),
  );
});

test('histogram without labels and with no observations', () => {
  const r = new StatsRegistry();
  r.histogram('switchyard_h', 'h', {}, [1]);
  assert.equal(
    renderPrometheus([r], noProc),
    '# HELP switchyard_h h\n# TYPE switchyard_h histogram\n' +
      'switchyard_h_bucket{le="1"} 0\nswitchyard_h_bucket{le="+Inf"} 0\nswitchyard_h_sum 0\nswitchyard_h_count 0\n',
  );
});

test('several registries merge: same name + labels summed (label order irrelevant), others kept', () => {
  const a = new StatsRegistry();
  const b = new StatsRegistry();
  a.counter('switchyard_upstream_requests_total', 'Upstream requests.', { cluster: 'api', code: '200' }).inc(5);
  b.counter('switchyard_upstream_requests_total', 'Upstream requests.', { code: '200', cluster: 'api' }).inc(2);
  b.counter('switchyard_upstream_requests_total', 'Upstream requests.', { cluster: 'db', code: '503' }).inc(1);
  a.gauge('switchyard_downstream_connections_active', 'Active.', { listener: 'web' }).set(3);
  b.gauge('switchyard_downstream_connections_active', 'Active.', { listener: 'web' }).set(4);
  const ha = a.histogram('switchyard_lat', 'Latency.', { cluster: 'api' }, [0.1, 1]);
  const hb = b.histogram('switchyard_lat', 'Latency.', { cluster: 'api' }, [0.1, 1]);
  ha.observe(0.0625);
  ha.observe(0.5);
  hb.observe(0.0625);
  hb.observe(3);
  assert.equal(
    renderPrometheus([a, b], noProc),
    [
      '# HELP switchyard_upstream_requests_total Upstream requests.',
      '# TYPE switchyard_upstream_requests_total counter',
      'switchyard_upstream_requests_total{cluster="api",code="200"} 7',
      'switchyard_upstream_requests_total{cluster="db",code="503"} 1',
      '# HELP switchyard_downstream_connections_active Active.',
      '# TYPE switchyard_downstream_connections_active gauge',
      'switchyard_downstream_connections_active{listener="web"} 7',
      '# HELP switchyard_lat Latency.',
      '# TYPE switchyard_lat histogram',
      'switchyard_lat_bucket{cluster="api",le="0.1"} 2',
      'switchyard_lat_bucket{cluster="api",le="1"} 3',
      'switchyard_lat_bucket{cluster="api",le="+Inf"} 4',
      'switchyard_lat_sum{cluster="api"} 3.625',
      'switchyard_lat_count{cluster="api"} 4',
      '',
    ].join('\n'),
  );
  // Rendering does not change the registries.
  assert.equal(ha.count, 2);
});

test('merge: a family whose type conflicts in a later registry is skipped there', () => {
  const a = new StatsRegistry();
  const b = new StatsRegistry();
  a.counter('switchyard_x', 'x').inc();
  b.gauge('switchyard_x', 'x').set(10);
  const fams = mergeRegistries([a, b]);
  assert.equal(fams.length, 1);
  assert.equal(fams[0].type, 'counter');
  assert.equal(renderPrometheus([a, b], noProc), '# HELP switchyard_x x\n# TYPE switchyard_x counter\nswitchyard_x 1\n');
});

test('merge: histograms with different bounds stay cumulative over the union of bounds', () => {
  const a = new StatsRegistry();
  const b = new StatsRegistry();
  a.histogram('switchyard_h', 'h', {}, [1, 10]).observe(0.5);
  b.histogram('switchyard_h', 'h', {}, [5]).observe(2);
  assert.equal(
    renderPrometheus([a, b], noProc),
    '# HELP switchyard_h h\n# TYPE switchyard_h histogram\n' +
      'switchyard_h_bucket{le="1"} 1\nswitchyard_h_bucket{le="5"} 2\nswitchyard_h_bucket{le="10"} 2\n' +
      'switchyard_h_bucket{le="+Inf"} 2\nswitchyard_h_sum 2.5\nswitchyard_h_count 2\n',
  );
});

test('empty input renders nothing; empty families are omitted', () => {
  assert.equal(renderPrometheus([], noProc), '');
  assert.equal(renderPrometheus([new StatsRegistry()], noProc), '');
});

test('process metrics are present, typed and plausible', async () => {
  // Let the event-loop monitor collect a sample or two.
  collectProcessMetrics();
  await new Promise((r) => setTimeout(r, 30));
  const text = renderPrometheus([]);
  for (const [name, type] of [
    ['switchyard_process_resident_memory_bytes', 'gauge'],
    ['switchyard_process_heap_used_bytes', 'gauge'],
    ['switchyard_process_cpu_seconds_total', 'counter'],
    ['switchyard_process_start_time_seconds', 'gauge'],
    ['switchyard_event_loop_lag_seconds', 'gauge'],
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name);
    assert.match(text, new RegExp(`^${name} [0-9.e+-]+$`, 'm'), name);
  }
  const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)![1]);
  assert.ok(value('switchyard_process_resident_memory_bytes') > 1e6);
  assert.ok(value('switchyard_process_heap_used_bytes') > 1e5);
  assert.ok(value('switchyard_process_cpu_seconds_total') > 0);
  const start = value('switchyard_process_start_time_seconds');
  assert.ok(start <= Date.now() / 1000 && start > Date.now() / 1000 - 3600);
  const lag = value('switchyard_event_loop_lag_seconds');
  assert.ok(lag >= 0 && lag < 5);
  // Each family appears once even when process metrics merge with user registries.
  const r = new StatsRegistry();
  r.counter('switchyard_a_total', 'a').inc();
  const both = renderPrometheus([r]);
  assert.equal(both.match(/^# TYPE switchyard_process_cpu_seconds_total /gm)!.length, 1);
  assert.match(both, /^switchyard_a_total 1$/m);
  stopProcessMetrics();
});

test('renderStatsJson: counters, gauges, histograms with cumulative buckets, merged', () => {
  const a = new StatsRegistry();
  const b = new StatsRegistry();
  a.counter('switchyard_c_total', 'c', { cluster: 'api' }).inc(2);
  b.counter('switchyard_c_total', 'c', { cluster: 'api' }).inc(3);
  a.gauge('switchyard_g', 'g').set(4);
  const h = a.histogram('switchyard_h', 'h', { route: 'r' }, [0.1, 1]);
  h.observe(0.05);
  h.observe(0.5);
  h.observe(2);
  const json = renderStatsJson([a, b], noProc);
  assert.deepEqual(json, {
    counters: { switchyard_c_total: [{ labels: { cluster: 'api' }, value: 5 }] },
    gauges: { switchyard_g: [{ labels: {}, value: 4 }] },
    histograms: {
      switchyard_h: [
        {
          labels: { route: 'r' },
          count: 3,
          sum: 2.55,
          buckets: [
            { le: 0.1, count: 1 },
            { le: 1, count: 2 },
            { le: '+Inf', count: 3 },
          ],
        },
      ],
    },
  });
  // JSON-able, and process metrics included by default.
  const full = JSON.parse(JSON.stringify(renderStatsJson([a])));
  assert.ok(full.gauges.switchyard_process_resident_memory_bytes[0].value > 0);
  assert.ok(full.counters.switchyard_process_cpu_seconds_total[0].value > 0);
  stopProcessMetrics();
});
