// ext-authz: asks an authorization service before letting a request through. Sends the request's
// headers (minus body framing headers) with an empty body to a configured cluster; continues on 200,
// answers 403 otherwise. A failed call (no answer, timeout, reset) fails closed with 403.
//
// Configuration (JSON):
//   { "cluster": "authz", "timeout_ms": 500, "path": "/check", "authority": "authz" }
// "path" and "authority", when given, replace the request's :path and :authority in the check call.
// Metric: counter "ext_authz.denied".

export * from "../sdk/exports";
import { Action, ByteSet, Context, Counter, Headers, RootContext, logError, registerRootContext } from "../sdk";

class ExtAuthzRoot extends RootContext {
  cluster: string = "";
  timeoutMs: u32 = 500;
  path: string = "";
  authority: string = "";
  /** Names never copied into the check call. */
  skip: ByteSet = new ByteSet();
  denied: Counter | null = null;

  onConfigure(size: u32): bool {
    const cfg = this.configurationJson();
    if (cfg === null || !cfg.isObject() || cfg.getString("cluster").length == 0) {
      logError("ext-authz: configuration must be a JSON object with \"cluster\"");
      return false;
    }
    this.cluster = cfg.getString("cluster");
    this.timeoutMs = <u32>cfg.getInt("timeout_ms", 500);
    this.path = cfg.getString("path");
    this.authority = cfg.getString("authority");
    const skip = new ByteSet();
    skip.add("content-length");
    skip.add("transfer-encoding");
    if (this.path.length > 0) skip.add(":path");
    if (this.authority.length > 0) skip.add(":authority");
    this.skip = skip;
    if (this.denied === null) this.denied = new Counter("ext_authz.denied");
    return true;
  }

  createContext(id: u32): Context { return new ExtAuthz(id, this); }
}

class ExtAuthz extends Context {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): i32 {
    const root = this.root as ExtAuthzRoot;
    const raw = this.requestHeaders.raw();
    const h = new Headers();
    if (raw !== null) h.addAll(raw, root.skip);
    if (root.path.length > 0) h.add(":path", root.path);
    if (root.authority.length > 0) h.add(":authority", root.authority);
    if (this.httpCall(root.cluster, h, null, root.timeoutMs) != 0) {
      this.deny("ext_authz_error");
      return Action.Pause;
    }
    return Action.Pause; // resumed (or answered) in onHttpCallResponse
  }

  onHttpCallResponse(callId: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
    if (numHeaders == 0) { this.deny("ext_authz_error"); return; }
    const status = this.callResponseHeaders.get(":status");
    if (status !== null && status == "200") { this.continueRequest(); return; }
    this.deny("ext_authz_denied");
  }

  deny(details: string): void {
    const root = this.root as ExtAuthzRoot;
    const denied = root.denied;
    if (denied !== null) denied.increment();
    this.sendLocalResponse(403, "forbidden\n", new Headers().add("content-type", "text/plain"), details);
  }
}

registerRootContext((id: u32): RootContext => new ExtAuthzRoot(id), "ext-authz");
