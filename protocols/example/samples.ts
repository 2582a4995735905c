/**
 * Sample frames of the example protocol for the codec conformance suite, which reads `samples`
 * from each protocol module: `request`, `oneWay`, `heartbeat`, `response` (whole frames), plus
 * optional `requests` / `responses` lists. Must never: depend on anything but this protocol's files.
 */
import { encodeFrame, FLAG_HEARTBEAT, FLAG_ONE_WAY, FLAG_RESPONSE, Status } from './codec';

export const samples = {
  request: encodeFrame({ id: 1, flags: 0, headers: ['service', 'com.example.Greeter', 'method', 'sayHello'], payload: Buffer.from('hi') }),
  oneWay: encodeFrame({ id: 42, flags: FLAG_ONE_WAY, headers: ['service', 's', 'method', 'fire'], payload: Buffer.alloc(1000, 7) }),
  heartbeat: encodeFrame({ id: 3, flags: FLAG_HEARTBEAT }),
  response: encodeFrame({ id: 1, flags: FLAG_RESPONSE, status: Status.OK, payload: Buffer.from('hello') }),
  requests: [
    encodeFrame({ id: 0x7fffffff, flags: 0, timeoutMs: 250, headers: ['service', 's', 'method', 'm', 'x-k', 'v'] }),
  ],
  responses: [encodeFrame({ id: 9, flags: FLAG_RESPONSE, status: Status.NOT_FOUND, headers: ['message', 'nope'] })],
};
