// auth: rejects requests without a valid token with 401. For RPC streams (Dubbo, Bolt) the host
// renders the 401 as the protocol's error reply.
//
// Configuration (JSON):
//   { "header": "authorization", "tokens": ["Bearer s3cret", "Bearer other"], "strip": false }
// "header" (default "authorization") is where the token is read; the whole value must equal one of
// "tokens". "strip" (default false) removes the header before the request goes upstream.
// Metric: counter "auth.denied". A valid request costs one host call and no allocation in the module.

export * from "../sdk/exports";
import {
  Action, ByteSet, Context, Counter, HEADER_ABSENT, Headers, RootContext, logError, registerRootContext,
} from "../sdk";

class AuthRoot extends RootContext {
  header: string = "authorization";
  tokens: ByteSet = new ByteSet();
  strip: bool = false;
  denied: Counter | null = null;

  onConfigure(size: u32): bool {
    const cfg = this.configurationJson();
    if (cfg === null || !cfg.isObject()) {
      logError("auth: configuration must be a JSON object with \"tokens\"");
      return false;
    }
    const tokens = new ByteSet();
    const list = cfg.getArray("tokens");
    for (let i = 0; i < list.length; i++) if (list[i].isString()) tokens.add(list[i].str);
    this.tokens = tokens;
    this.header = cfg.getString("header", "authorization").toLowerCase();
    this.strip = cfg.getBool("strip", false);
    if (this.denied === null) this.denied = new Counter("auth.denied");
    return true;
  }

  createContext(id: u32): Context { return new Auth(id, this); }
}

class Auth extends Context {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): i32 {
    const root = this.root as AuthRoot;
    const m = this.requestHeaders.match(root.header, root.tokens);
    if (m >= 0) {
      if (root.strip) this.requestHeaders.remove(root.header);
      return Action.Continue;
    }
    const denied = root.denied;
    if (denied !== null) denied.increment();
    const headers = new Headers().add("www-authenticate", "Bearer").add("content-type", "text/plain");
    this.sendLocalResponse(401, "unauthorized\n", headers, m == HEADER_ABSENT ? "auth_missing_token" : "auth_invalid_token");
    return Action.Pause;
  }
}

registerRootContext((id: u32): RootContext => new AuthRoot(id), "auth");
