// add-header: adds, replaces and removes configured request and response headers.
//
// Configuration (JSON):
//   {
//     "request_headers_to_add":     [{ "name": "x-via", "value": "switchyard", "append": true }],
//     "request_headers_to_remove":  ["x-internal"],
//     "response_headers_to_add":    [{ "name": "x-served-by", "value": "edge", "append": false }],
//     "response_headers_to_remove": ["server"]
//   }
// "append" (default true) adds a value next to existing ones; false replaces them.
// Names and values are encoded once at configure time: per request each header costs exactly one
// host call and no allocation in the module.

export * from "../sdk/exports";
import { Action, Context, HeaderMap, JsonValue, RootContext, logError, registerRootContext, textBytes } from "../sdk";

class Edit {
  constructor(public name: ArrayBuffer, public value: ArrayBuffer, public append: bool) {}
}

class Edits {
  add: Array<Edit> = [];
  remove: Array<ArrayBuffer> = [];

  load(cfg: JsonValue, addKey: string, removeKey: string): void {
    const adds = cfg.getArray(addKey);
    for (let i = 0; i < adds.length; i++) {
      const a = adds[i];
      const name = a.getString("name");
      if (name.length == 0) continue;
      this.add.push(new Edit(textBytes(name.toLowerCase()), textBytes(a.getString("value")), a.getBool("append", true)));
    }
    const rms = cfg.getArray(removeKey);
    for (let i = 0; i < rms.length; i++) {
      if (rms[i].isString() && rms[i].str.length > 0) this.remove.push(textBytes(rms[i].str.toLowerCase()));
    }
  }

  apply(map: HeaderMap): void {
    for (let i = 0; i < this.remove.length; i++) map.removeBytes(this.remove[i]);
    for (let i = 0; i < this.add.length; i++) {
      const e = this.add[i];
      if (e.append) map.addBytes(e.name, e.value);
      else map.setBytes(e.name, e.value);
    }
  }
}

class AddHeaderRoot extends RootContext {
  request: Edits = new Edits();
  response: Edits = new Edits();

  onConfigure(size: u32): bool {
    const request = new Edits();
    const response = new Edits();
    if (size > 0) {
      const cfg = this.configurationJson();
      if (cfg === null || !cfg.isObject()) {
        logError("add-header: configuration is not a JSON object");
        return false;
      }
      request.load(cfg, "request_headers_to_add", "request_headers_to_remove");
      response.load(cfg, "response_headers_to_add", "response_headers_to_remove");
    }
    this.request = request;
    this.response = response;
    return true;
  }

  createContext(id: u32): Context { return new AddHeader(id, this); }
}

class AddHeader extends Context {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): i32 {
    (this.root as AddHeaderRoot).request.apply(this.requestHeaders);
    return Action.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): i32 {
    (this.root as AddHeaderRoot).response.apply(this.responseHeaders);
    return Action.Continue;
  }
}

registerRootContext((id: u32): RootContext => new AddHeaderRoot(id), "add-header");
