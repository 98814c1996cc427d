// The module's abort handler (asc --use abort=leash_abort). AssemblyScript calls it on a failed
// assertion, an out-of-bounds access it checks, or an uncaught throw. We log what happened and
// trap: Envoy then applies the plugin's failure policy (fail closed by default), which is the
// only safe outcome for a security filter in an unknown state.
import { proxy_log } from "@solo-io/proxy-runtime/assembly/imports";

// @ts-ignore: decorator
@global
export function leash_abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = "leash filter abort: ";
  if (message !== null) text += message;
  if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  const b = String.UTF8.encode(text);
  proxy_log(5, changetype<usize>(b), <usize>b.byteLength);
  unreachable();
}
