// What the SDK suites share: starting `jit emulator` on 127.0.0.1 port 0, and catching the
// error a call is expected to throw.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";

// Starts `jit emulator` with `args` (after "emulator"); `log` receives everything it prints.
// Returns the process and a promise of its base URL ("http://127.0.0.1:PORT"), rejected when it
// prints no address within 30 s or exits first (with what it printed).
export function spawnEmulator(args, log) {
  const proc = spawn(process.env.JIT_BINARY, ["emulator", ...args],
                     { env: { ...process.env }, stdio: ["ignore", "pipe", "pipe"] });
  let printed = "";
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`jit emulator printed no listening address within 30s:\n${printed}`));
    }, 30_000);
    const onData = (chunk) => {
      printed += chunk.toString();
      log(chunk.toString());
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(printed);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    proc.once("error", (e) => { clearTimeout(timer); reject(e); });
    proc.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`jit emulator exited early (code ${code}, signal ${signal}):\n${printed}`));
    });
  });
  return { proc, url };
}

// The error `fn` throws; fails the test when it throws none.
export async function rejection(fn) {
  try {
    const out = await fn();
    assert.fail(`expected an error, got ${JSON.stringify(out)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    return e;
  }
}
