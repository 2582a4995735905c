/**
 * Built-ins: registers what ships in the box — HTTP/1.1 and HTTP/2 (one `http` listener serving
 * both by the connection preface), `protocol: auto` sniffing, the shared RPC layer with the Dubbo
 * and SOFARPC/Bolt codecs, the load balancers, and the `headers` and `wasm` filters — through the
 * same registries plug-ins use. Idempotent.
 * Must never: register anything a user could not register the same way.
 */
import { registerCodec, registerFilter } from './api';
import { http1Listener, http1Upstream } from './http/h1';
import { http2Listener, http2Upstream, httpAutoListenerProtocol } from './http/h2';
import { installRpcAdapter } from './rpc';
import { autoListener } from './listener/sniff';
import { registerBuiltinLoadBalancers } from './upstream/lb';
import { headersFilter } from './filters/headers';
import { wasmFilterFactory } from './wasm';
// The RPC codecs live in protocols/ and register themselves when loaded, as any plug-in does.
import '../protocols/dubbo';
import '../protocols/bolt';

let registered = false;

export function registerBuiltins(): void {
  if (registered) return;
  registered = true;
  installRpcAdapter();
  registerCodec({ name: 'http', listener: httpAutoListenerProtocol(http1Listener, http2Listener), upstream: http1Upstream });
  registerCodec({ name: 'http2', listener: http2Listener, upstream: http2Upstream });
  registerCodec({ name: 'auto', listener: autoListener });
  registerBuiltinLoadBalancers();
  registerFilter(headersFilter);
  registerFilter(wasmFilterFactory);
}
