/**
 * The "example" protocol plug-in: registers the example RpcCodec when loaded, so a config that
 * lists this file under `plugins:` can use `protocol: example` on listeners and clusters.
 * Exports sample frames for the codec conformance suite.
 * Must never: import anything but src/api (and its own files).
 */
import { registerCodec, registry } from '../../src/api';
import { exampleCodec } from './codec';

export * from './codec';
export { samples } from './samples';

if (registry.rpcCodec(exampleCodec.name) !== exampleCodec) registerCodec(exampleCodec);
