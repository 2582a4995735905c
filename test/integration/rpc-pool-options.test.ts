/**
 * A cluster's `rpc` options reach the RPC pool through the real proxy: `connections: 3` opens
 * three multiplexed upstream connections to one endpoint (and no more), the default opens one,
 * and a listener's `limits.max_frame_bytes` refuses a larger client frame with a 413-class reply.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startProxy, type Running } from '../fixtures/harness';
import { registerBuiltins } from '../../src/builtins';
import { installRpcAdapter } from '../../src/rpc';
import { ExampleClient, ExampleServer, type ExampleMessage, type ExampleReply } from '../../protocols/example/peer';
import { Status } from '../../protocols/example/codec';

const PLUGIN = join(__dirname, '..', '..', 'protocols', 'example', 'index.js');

describe('cluster rpc options through the proxy', () => {
  let three: ExampleServer;
  let one: ExampleServer;
  let proxy: Running;
  const held: Array<(r: ExampleReply | null) => void> = [];
  const handler = (req: ExampleMessage): ExampleReply | Promise<ExampleReply | null> => {
    if (req.headers.method === 'hold') return new Promise((resolve) => held.push(resolve));
    return { payload: 'ok' };
  };

  before(async () => {
    registerBuiltins();
    installRpcAdapter();
    three = await ExampleServer.listen(handler);
    one = await ExampleServer.listen(handler);
    proxy = await startProxy(`
admin: false
access_log: false
plugins: [${JSON.stringify(PLUGIN)}]
listeners:
  - name: rpc
    address: 127.0.0.1:0
    protocol: example
    limits: { max_frame_bytes: 2048 }
    routes:
      - match: { service: three }
        cluster: three
      - match: { service: one }
        cluster: one
clusters:
  - name: three
    protocol: example
    rpc: { connections: 3, heartbeat_interval: 0s }
    endpoints: [{ address: ${three.address} }]
  - name: one
    protocol: example
    endpoints: [{ address: ${one.address} }]
`);
  });

  after(async () => {
    for (const r of held.splice(0)) r({ payload: 'late' });
    await proxy?.stop();
    await three?.close();
    await one?.close();
  });

  it('connections: 3 opens three upstream connections to the endpoint, and no more', async () => {
    const c = await ExampleClient.connect(proxy.port);
    const calls: Array<Promise<ExampleMessage>> = [];
    for (let i = 0; i < 12; i++) {
      calls.push(c.call('three', 'hold', `n${i}`));
      // let each call reach the upstream before the next, so later ones see busy connections
      await three.waitFor(() => three.requests > i);
    }
    assert.equal(three.connectionsAccepted, 3);
    assert.equal(three.openConnections, 3);
    for (const r of held.splice(0)) r({ payload: 'done' });
    const got = await Promise.all(calls);
    for (const m of got) assert.equal(m.status, Status.OK);
    const more = await Promise.all(Array.from({ length: 20 }, (_, i) => c.call('three', 'x', `m${i}`)));
    for (const m of more) assert.equal(m.status, Status.OK);
    assert.equal(three.connectionsAccepted, 3, 'still three');
    c.close();
  });

  it('the default is one connection per endpoint', async () => {
    const c = await ExampleClient.connect(proxy.port);
    const calls: Array<Promise<ExampleMessage>> = [];
    for (let i = 0; i < 6; i++) {
      calls.push(c.call('one', 'hold', `n${i}`));
      await one.waitFor(() => one.requests > i);
    }
    assert.equal(one.connectionsAccepted, 1);
    for (const r of held.splice(0)) r({ payload: 'done' });
    await Promise.all(calls);
    c.close();
  });

  it('limits.max_frame_bytes refuses a larger client frame', async () => {
    const c = await ExampleClient.connect(proxy.port);
    const small = await c.call('one', 'x', 'a'.repeat(1000));
    assert.equal(small.status, Status.OK);
    const big = await c.call('one', 'x', 'a'.repeat(4000));
    assert.equal(big.status, Status.TOO_LARGE);
    c.close();
  });
});
