// Runs a composed app in jco on Node.js, as the runtime tests
// (`tests/all/runtimes.rs`) ask: jco transpiles the component to JavaScript
// and core Wasm, and the app runs on @bytecodealliance/preview2-shim, given
// the same inputs nanoproc's host gets, so that the outputs can be compared
// byte for byte.
//
//     node jco.mjs PACKAGES COMPONENT SPEC OUT
//
// PACKAGES is the folder jco and the shim are installed in (its
// node_modules); OUT an empty folder inside it, where the transpiled app is
// written (Node finds the shim from there). SPEC is the JSON file the
// Python driver (`wasmtime_py.py`) takes, with the same meaning and output,
// and for the functions it calls, the types of their parameters and
// results (`"params"`, `"result"`: see `tests/src/peers.rs`), which
// JavaScript values do not carry. A spec with `"shim_preopen_fix": false`
// runs without the workaround below. A component jco cannot transpile, or
// that cannot be instantiated, prints `refused: MESSAGE` and exits 2; a call
// that traps prints `trapped: MESSAGE` after the answers before it and
// exits 3.
//
// Only what the spec names is given to the app: the arguments, the
// variables (the shim would otherwise hand out all of this process's) and
// the directories. The shim has no read-only directory, so every directory
// is given writable; it has no list of hosts either, only all or nothing,
// so the network is denied.
//
// The workaround: preview2-shim 0.26.1 (dist/nodejs/filesystem.js) makes a
// preopened directory's descriptor with only its host path
// (`Descriptor._createPreopen` sets `#hostPreopen`), while
// `Descriptor.readDirectory` lists `#fullPath`, which only descriptors made
// by `openAt` have; so `read-directory` on a preopened directory fails with
// `bad-descriptor`, where WASI (and wasmtime) lists it (and `stat` on it
// answers `invalid`). The methods that take a path resolve it from
// `#hostPreopen ?? #fullPath`, so they work on a preopen. The
// driver hands the app, for each preopen, the descriptor the shim itself
// opens for `.` in it (read, directory): the same directory, on which
// `read-directory`, `open-at`, `stat` and the rest work. The shim checks no
// descriptor flags in `open-at`, so files are created in it as in the
// preopen itself.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const [packages, componentPath, specPath, out] = process.argv.slice(2);
const spec = JSON.parse(await readFile(specPath, "utf8"));
const require = createRequire(join(packages, "package.json"));
const load = (name) => import(pathToFileURL(require.resolve(name)).href);

const { transpile } = await load("@bytecodealliance/jco");
const cli = await load("@bytecodealliance/preview2-shim/cli");
const filesystem = await load("@bytecodealliance/preview2-shim/filesystem");
const sockets = await load("@bytecodealliance/preview2-shim/sockets");

let transpiled;
try {
  transpiled = await transpile(await readFile(componentPath), {
    name: "app",
    noTypescript: true,
    quiet: true,
  });
} catch (e) {
  refuse(e);
}
for (const [name, bytes] of Object.entries(transpiled.files)) {
  await mkdir(dirname(join(out, name)), { recursive: true });
  await writeFile(join(out, name), bytes);
}
await writeFile(join(out, "package.json"), '{"type": "module"}\n');

cli._setArgs(spec.args ?? []);
cli._setEnv(Object.fromEntries(spec.env ?? []));
filesystem._setPreopens(Object.fromEntries((spec.dirs ?? []).map((d) => [d.guest, d.host])));
sockets._denyTcp();
sockets._denyUdp();
sockets._denyDnsLookup();
if (spec.shim_preopen_fix !== false) {
  const reopened = filesystem.preopens
    .getDirectories()
    .map(([descriptor, guest]) => [
      descriptor.openAt({}, ".", { directory: true }, { read: true }),
      guest,
    ]);
  filesystem.preopens.getDirectories = () => [...reopened];
}

let app;
try {
  app = await import(pathToFileURL(join(out, "app.js")).href);
} catch (e) {
  refuse(e);
}

if (spec.run !== undefined) {
  try {
    func(spec.run)();
    process.exitCode = 0;
  } catch (e) {
    if (e?.constructor?.name !== "ComponentError") throw e;
    process.exitCode = 1;
  }
} else {
  for (const call of spec.calls) {
    const f = func(call.func);
    const args = call.args.map((a, i) => lower(call.params[i], a));
    const ty = call.result ?? null;
    let result;
    try {
      if (ty?.result) {
        // jco returns the `ok` of a result a function returns, and throws
        // its `err`.
        const [ok, err] = ty.result;
        try {
          const value = f(...args);
          result = { ok: ok === null ? null : lift(ok, value) };
        } catch (e) {
          if (e?.constructor?.name !== "ComponentError") throw e;
          result = { err: err === null ? null : lift(err, e.payload) };
        }
      } else {
        result = lift(ty, f(...args));
      }
    } catch (e) {
      if (!(e instanceof WebAssembly.RuntimeError)) throw e;
      trapped(e);
    }
    process.stdout.write(JSON.stringify(result) + "\n");
  }
}

/** A call that trapped (in the app's code or in jco's own glue) ends the run. */
function trapped(e) {
  process.stderr.write(`trapped: ${e.message}\n`);
  process.exit(3);
}

function refuse(e) {
  const message = `${e?.message ?? e}`;
  process.stderr.write(`refused: ${message}${message.endsWith("\n") ? "" : "\n"}`);
  process.exit(2);
}

/** The exported function `interface#function`, or a top-level one. */
function func(name) {
  const hash = name.lastIndexOf("#");
  const owner = hash < 0 ? app : app[name.slice(0, hash)];
  const f = owner?.[camel(name.slice(hash + 1))];
  if (typeof f !== "function") {
    throw new Error(`the app exports no function \`${name}\``);
  }
  return f;
}

function camel(name) {
  return name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
}

/** A JSON argument as the JavaScript value jco expects for type `ty`. */
function lower(ty, value) {
  if (isBytes(ty)) return Uint8Array.from(Buffer.from(value, "hex"));
  if (ty === "u64" || ty === "s64") return BigInt(value);
  if (ty?.list) return value.map((v) => lower(ty.list, v));
  return value;
}

/** A value jco returned for type `ty`, as JSON in the form the tests compare. */
function lift(ty, value) {
  if (ty === null) return null;
  if (ty === "u64" || ty === "s64") return value.toString();
  if (typeof ty === "string") return value;
  if (isBytes(ty)) return Buffer.from(value).toString("hex");
  if (ty.list) return [...value].map((v) => lift(ty.list, v));
  if (ty.option) {
    if (ty.option?.option) throw new Error("the driver cannot print an option of an option yet");
    if (value === undefined || value === null) return null;
    return { some: lift(ty.option, value) };
  }
  if (ty.result) {
    const [ok, err] = ty.result;
    const payloadType = value.tag === "ok" ? ok : err;
    return { [value.tag]: payloadType === null ? null : lift(payloadType, value.val) };
  }
  if (ty.variant) {
    const payloadType = Object.fromEntries(ty.variant)[value.tag];
    return { [value.tag]: payloadType === null ? null : lift(payloadType, value.val) };
  }
  if (ty.enum) return value;
  if (ty.tuple) return ty.tuple.map((t, i) => lift(t, value[i]));
  throw new Error(`the driver cannot print ${JSON.stringify(ty)} yet`);
}

function isBytes(ty) {
  return ty?.list === "u8";
}
