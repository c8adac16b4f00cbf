(component
  (core module $m (func (export "id") (param i32) (result i32) local.get 0))
  (core instance $i (instantiate $m))
  (func $id (param "x" u32) (result u32) (canon lift (core func $i "id")))
  (instance $base (export "id" (func $id)))
  (export "test:chain/base@1.4.2" (instance $base))
)
