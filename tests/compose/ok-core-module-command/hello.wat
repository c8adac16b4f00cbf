;; A WASI preview1 command as a core module, as clang, Zig or
;; `cargo build --target wasm32-wasip1` make one: it writes a line to
;; stdout and returns from `_start`.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from a core module\n")
  (func (export "_start")
    ;; One iovec at 0: the text at 16, 25 bytes long.
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 25))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
)
