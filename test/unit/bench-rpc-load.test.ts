/**
 * The rpc load generator and probe against the rpc responder over real loopback sockets (port 0,
 * a fraction of a second of load): every request answered, ids matched, no errors; non-success
 * statuses and a dead port are counted/refused. No assertion on speed.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { buildResponse, copyFrameId, frameLength } from '../../bench/load/rpc-frames';
import { runLoad } from '../../bench/load/rpc-load';
import { probeRpc } from '../../bench/load/rpc-probe';
import { startResponder } from '../../bench/upstream/rpc-responder';

test('load and probe against the responder: both protocols, no errors', async () => {
  const r = await startResponder(0, 0);
  try {
    for (const protocol of ['dubbo', 'bolt'] as const) {
      const port = r[protocol];
      await probeRpc(protocol, port);
      const res = await runLoad({ protocol, host: '127.0.0.1', port, durationS: 0.25, concurrency: 7, connections: 3, timeoutMs: 5000, argBytes: 100 });
      assert.equal(res.errors, 0, JSON.stringify(res.errorDetail));
      assert.ok(res.requests > 0);
      assert.equal(res.connections, 3);
      assert.ok(res.p50Ms > 0 && res.p99Ms >= res.p50Ms);
      assert.equal(res.rps, res.requests / res.durationS);
    }
  } finally {
    r.close();
  }
});

test('error statuses are counted, the probe refuses them, and a closed port fails the probe', async () => {
  // A provider that answers every Dubbo request with status 70 (service error).
  const bad = buildResponse('dubbo', 1);
  bad[3] = 70;
  const server = createServer((s) => {
    let pending = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      for (;;) {
        const len = frameLength('dubbo', pending, 0);
        if (len < 0 || len > pending.length) break;
        const out = Buffer.from(bad);
        copyFrameId('dubbo', pending, 0, out, 0);
        s.write(out);
        pending = pending.subarray(len);
      }
    });
    s.on('error', () => s.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    await assert.rejects(probeRpc('dubbo', port), /response status 70/);
    const res = await runLoad({ protocol: 'dubbo', host: '127.0.0.1', port, durationS: 0.1, concurrency: 2, connections: 1, timeoutMs: 5000, argBytes: 10 });
    assert.equal(res.requests, 0);
    assert.ok(res.errorDetail.status > 0);
    assert.equal(res.errors, res.errorDetail.status);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
  await assert.rejects(probeRpc('bolt', port, '127.0.0.1', 2000), /probe failed|closed/);
});
