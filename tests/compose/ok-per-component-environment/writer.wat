(component
  (import "wasi:cli/environment@0.2.12" (instance
    (export "get-environment" (func (result (list (tuple string string)))))
  ))
  (core module $m (func (export "id") (param i32) (result i32) local.get 0))
  (core instance $i (instantiate $m))
  (func $id (param "x" u32) (result u32) (canon lift (core func $i "id")))
  (instance $api (export "id" (func $id)))
  (export "test:writer/api@1.0.0" (instance $api))
)
