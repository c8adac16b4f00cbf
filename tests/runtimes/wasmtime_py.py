"""Runs a composed app in wasmtime's Python package, as the runtime tests
(`tests/all/runtimes.rs`) ask: the same app and inputs they give nanoproc's
host, so that the outputs can be compared byte for byte.

    python3 wasmtime_py.py COMPONENT SPEC

SPEC is a JSON file:

    {"args": ["site"], "env": [["NAME", "value"]],
     "dirs": [{"host": "/abs/dir", "guest": "/in", "writable": false}],
     "run": "wasi:cli/run@0.2.12#run"}

runs the app's `wasi:cli/run` function with stdout and stderr passed
through and exits 0 when it returns `ok`, 1 when it returns `err`. With
`"calls": [{"func": "interface#name", "args": [...]}]` instead of `run`, it
calls each function and prints one JSON line per call: its result in the
form `tests/src/peers.rs` writes nanoproc's results in (`{"ok": v}`,
`{"err": v}`, `{"some": v}`, `null`, lists, strings, 64-bit integers as
strings, bytes as hex). When the runtime refuses the app (it does not
compile or its imports cannot be satisfied) the driver prints
`refused: MESSAGE` to stderr and exits 2; when a call traps, it prints
`trapped: MESSAGE` after the answers before it and exits 3.

Only what the spec names is given to the app: no variable, directory or
socket of this process. A directory that is not writable is given
read-only (`fs_mutable = False`). The package's `WasiConfig` has no way to
give the network, so a network grant is left out (narrower, never wider).
"""

import json
import sys

import wasmtime
import wasmtime.component as wc


def main():
    component_path, spec_path = sys.argv[1:3]
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    config = wasmtime.WasiConfig()
    config.argv = spec.get("args", [])
    config.env = spec.get("env", [])
    for d in spec.get("dirs", []):
        config.preopen_dir(d["host"], d["guest"], d["writable"])
    config.inherit_stdout()
    config.inherit_stderr()
    store.set_wasi(config)

    try:
        component = wc.Component.from_file(engine, component_path)
        linker = wc.Linker(engine)
        linker.add_wasip2()
        instance = linker.instantiate(store, component)
    except wasmtime.WasmtimeError as e:
        message = str(e)
        sys.stderr.write(f"refused: {message}" + ("" if message.endswith("\n") else "\n"))
        sys.exit(2)

    if "run" in spec:
        result = func(instance, store, spec["run"])(store)
        sys.stdout.flush()
        sys.exit(0 if result.tag == "ok" else 1)

    for call in spec["calls"]:
        f = func(instance, store, call["func"])
        ty = f.type(store)
        args = [lower(t, a) for (_, t), a in zip(ty.params, call["args"])]
        try:
            result = f(store, *args)
        except wasmtime.WasmtimeError as e:
            trap = [line.strip() for line in str(e).splitlines() if "wasm trap: " in line]
            if not trap:
                raise
            sys.stderr.write(f"trapped: {trap[0].split('wasm trap: ', 1)[1]}\n")
            sys.exit(3)
        print(json.dumps(lift(ty.result, result), ensure_ascii=False, separators=(",", ":")))
        sys.stdout.flush()


def func(instance, store, name):
    """The exported function `interface#function` (or a top-level one)."""
    interface, _, function = name.rpartition("#")
    parent = instance.get_export_index(store, interface) if interface else None
    index = instance.get_export_index(store, function, parent)
    f = instance.get_func(store, index) if index is not None else None
    if f is None:
        raise SystemExit(f"the app exports no function `{name}`")
    return f


INTEGERS = (wc.U8, wc.U16, wc.U32, wc.S8, wc.S16, wc.S32)
WIDE = (wc.U64, wc.S64)


def lower(ty, value):
    """A JSON argument as the Python value wasmtime expects for `ty`."""
    if isinstance(ty, wc.ListType) and isinstance(ty.element, wc.U8):
        return bytes.fromhex(value)
    if isinstance(ty, WIDE):
        return int(value)
    if isinstance(ty, (wc.String, wc.Bool, wc.Char) + INTEGERS):
        return value
    if isinstance(ty, wc.ListType):
        return [lower(ty.element, v) for v in value]
    raise SystemExit(f"the driver cannot pass a {type(ty).__name__} yet")


def case_of(ty, value):
    """The case of a variant-like `ty` (result, option, variant) that `value`
    is, and its payload: wasmtime tags the value (a `Variant`) only when the
    cases' Python classes would be ambiguous, and otherwise gives the
    payload itself."""
    if ty._tagged():
        return value.tag, value.payload
    for name, case in ty._cases():
        if case is None:
            if value is None:
                return name, None
            continue
        classes = set()
        case.add_classes(classes)
        if isinstance(value, tuple(classes)):
            return name, value
    raise SystemExit(f"no case of {type(ty).__name__} fits {value!r}")


def lift(ty, value):
    """A result as JSON, in the form the tests compare."""
    if ty is None:
        return None
    if isinstance(ty, (wc.String, wc.Bool, wc.Char) + INTEGERS):
        return value
    if isinstance(ty, WIDE):
        return str(value)
    if isinstance(ty, wc.ListType):
        if isinstance(ty.element, wc.U8):
            return bytes(value).hex()
        return [lift(ty.element, v) for v in value]
    if isinstance(ty, wc.OptionType):
        return None if value is None else {"some": lift(ty.payload, value)}
    if isinstance(ty, wc.EnumType):
        return value
    if isinstance(ty, (wc.ResultType, wc.VariantType)):
        name, payload = case_of(ty, value)
        case = dict(ty._cases())[name]
        return {name: None if case is None else lift(case, payload)}
    if isinstance(ty, wc.TupleType):
        return [lift(t, v) for t, v in zip(ty.elements, value)]
    raise SystemExit(f"the driver cannot print a {type(ty).__name__} yet")


if __name__ == "__main__":
    main()
