(component
  ;; wit-component names the WASI preview1 adapter's module this way: the
  ;; imports below are the adapter's, not the code's.
  (core module $wit-component:adapter:wasi_snapshot_preview1)
  (import "wasi:cli/environment@0.2.12" (instance
    (export "get-arguments" (func (result (list string))))
  ))
  (import "wasi:cli/exit@0.2.12" (instance
    (export "exit" (func (param "status" (result))))
  ))
  (core module $m (func (export "id") (param i32) (result i32) local.get 0))
  (core instance $i (instantiate $m))
  (func $id (param "x" u32) (result u32) (canon lift (core func $i "id")))
  (instance $tool (export "id" (func $id)))
  (export "test:tool/id@1.0.0" (instance $tool))
)
