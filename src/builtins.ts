/**
 * Built-ins: registers what ships in the box — the HTTP/1.1 codec, the load balancers, the
 * `headers` and `wasm` filters — through the same registries plug-ins use. Idempotent.
 * Must never: register anything a user could not register the same way.
 */
import { registerCodec, registerFilter } from './api';
import { http1Listener, http1Upstream } from './http/h1';
import { registerBuiltinLoadBalancers } from './upstream/lb';
import { headersFilter } from './filters/headers';
import { wasmFilterFactory } from './wasm';

let registered = false;

export function registerBuiltins(): void {
  if (registered) return;
  registered = true;
  registerCodec({ name: 'http', listener: http1Listener, upstream: http1Upstream });
  registerBuiltinLoadBalancers();
  registerFilter(headersFilter);
  registerFilter(wasmFilterFactory);
}
