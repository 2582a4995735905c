/**
 * SOFARPC Bolt protocol plug-in: registers the `bolt` RpcCodec when loaded (as a built-in or via
 * `plugins:`). Must never: import anything but src/api and its own modules.
 */
import { registerCodec, registry } from '../../src/api';
import { boltCodec } from './codec';

export { boltCodec } from './codec';
export { samples } from './samples';
export { BoltStatus, httpStatusOf, boltStatusFor } from './status';

if (registry.rpcCodec(boltCodec.name) !== boltCodec) registerCodec(boltCodec);
