// Envoy stats defined by a filter. Names land under Envoy's `wasmcustom` namespace, which
// /stats/prometheus strips; dots become underscores.
import * as raw from "./imports";
import { MetricType, WasmResult } from "./abi";
import { outU64, utf8 } from "./memory";

// Metric ids are opaque host values (0 is a valid id on some hosts), so whether the definition
// succeeded is kept apart from the id.
class Metric {
  id: u32 = 0;
  defined: bool = false;

  constructor(type: MetricType, name: string) {
    const n = utf8(name);
    if (raw.proxy_define_metric(<i32>type, changetype<usize>(n), <usize>n.byteLength, outU64()) == WasmResult.Ok) {
      this.id = load<u32>(outU64());
      this.defined = true;
    }
  }
}

export class Counter extends Metric {
  constructor(name: string) { super(MetricType.Counter, name); }
  increment(by: i64): void { if (this.defined) raw.proxy_increment_metric(this.id, by); }
}

export class Histogram extends Metric {
  constructor(name: string) { super(MetricType.Histogram, name); }
  record(value: u64): void { if (this.defined) raw.proxy_record_metric(this.id, value); }
}
