/**
 * Dubbo 2 protocol plug-in: registers the `dubbo` RpcCodec when loaded, and exports sample frames
 * (built with this package's own hessian2 writer) for codec conformance suites.
 * Must never: import anything but src/api and this folder.
 */
import { registerCodec, registry } from '../../src/api';
import { dubboCodec } from './codec';
import { buildSamples } from './samples';

export { dubboCodec, DubboRequestHeaders } from './codec';
export { Hessian2Reader, HessianError, countParameters } from './hessian2-reader';
export { Hessian2Writer, encodeString } from './hessian2-writer';

/** Sample frames: a two-way request, a one-way request, a heartbeat request and an OK response. */
export const samples: { request: Buffer; oneWay: Buffer; heartbeat: Buffer; response: Buffer } = buildSamples();

if (registry.rpcCodec(dubboCodec.name) !== dubboCodec) registerCodec(dubboCodec);
